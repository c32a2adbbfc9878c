"""Spreadsheet import in a real browser, on a desktop (1280) and a phone (375): an admin
uploads a GBK CSV with a bad row and a column the import does not recognise, maps that
column, reads the dry run's counts and the rejected row, imports the valid rows and
finds the import in the history; and watches a large import's progress bar move until
the page turns into the result by itself."""

import re
import threading

import pytest
from django.db import connections
from django.urls import reverse
from playwright.sync_api import expect

from crm.imports import background, engine
from crm.models import ImportJob
from customers.importers.customers import CustomerImporter
from customers.models import Customer
from tests.imports.conftest import csv_bytes

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = ["客户名称", "客户类型", "行业", "省份", "所在地区", "主营产品", "联系人", "手机"]
ROWS = [
    ["临沂康达兽药经营部", "经销商", "兽药", "山东", "临沂", "疫苗、兽用抗生素", "张三", "13812345678"],
    ["火星牧业", "养殖场", "兽药", "火星", "临沂", "饲料", "李四", "13812345679"],
    ["潍坊牧原养殖场（第二分场）", "养殖场", "兽药", "山东", "潍坊", "疫苗", "王五", "13812345670"],
]


def fits(page, width: int, what: str) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the {what} is {scroll}px wide on a {width}px screen"


# The page fixture is taken by name, so `live_server` is named too: its ALLOWED_HOSTS
# are set only for tests that ask for it.
@pytest.mark.parametrize("viewport", ["page", "phone_page"])
def test_admin_imports_a_gbk_csv_with_a_bad_row(
    request, live_server, viewport, login_as, screenshot, settings, tmp_path, admin_user, rep
):
    page = request.getfixturevalue(viewport)
    settings.MEDIA_ROOT = tmp_path / "media"
    width = 1280 if viewport == "page" else 375
    login_as(page, admin_user)

    page.goto(reverse("imports:list"))
    expect(page.get_by_text("Nothing imported yet.")).to_be_visible()
    page.get_by_role("link", name="Import a spreadsheet").click()
    page.select_option("select[name=kind]", "customers")
    # A file that is no spreadsheet is refused with a message at the file field.
    page.set_input_files(
        "input[name=file]", {"name": "客户.xlsx", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}
    )
    page.get_by_role("button", name="Upload and map the columns").click()
    expect(page.locator("#id_file_error")).to_contain_text("This is not a spreadsheet")
    screenshot(page, f"{width}-refused")
    fits(page, width, "upload form with an error")
    assert not ImportJob.objects.exists()
    page.set_input_files(
        "input[name=file]", {"name": "华东客户.csv", "mimeType": "text/csv", "buffer": csv_bytes([HEADER, *ROWS])}
    )
    page.select_option("select[name=owner]", str(rep.pk))
    screenshot(page, f"{width}-upload")
    fits(page, width, "upload form")
    page.get_by_role("button", name="Upload and map the columns").click()

    job = ImportJob.objects.get()
    expect(page).to_have_url(re.compile(reverse("imports:mapping", args=[job.pk]) + "$"))
    expect(page.locator(".required-columns")).to_contain_text("Customer name")
    region = page.get_by_label("所在地区")
    expect(region).to_have_value("")  # not recognised: not imported
    region.select_option("city")
    screenshot(page, f"{width}-mapping")
    fits(page, width, "mapping page")
    page.get_by_role("button", name="Confirm and check the rows (dry run)").click()

    expect(page).to_have_url(re.compile(reverse("imports:detail", args=[job.pk]) + "$"))
    expect(page.locator("#count-created")).to_have_text("2")
    expect(page.locator("#count-rejected")).to_have_text("1")
    rejected = page.locator(".import-problems tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.first).to_contain_text("火星")
    expect(rejected.first).to_contain_text("Not one of the 34 provincial divisions.")
    assert not Customer.objects.exists(), "the dry run writes nothing"
    screenshot(page, f"{width}-preview")
    fits(page, width, "preview")

    page.get_by_label("Import the valid rows, report the rejected ones").check()
    page.locator(".import-commit").get_by_role("button", name="Import").click()
    expect(page.locator(".alert-success")).to_contain_text("Imported: 2 created, 0 updated, 0 unchanged, 1 rejected.")
    expect(page.locator(".import-status")).to_have_text("Imported")
    expect(page.get_by_role("button", name="Undo this import")).to_be_visible()
    page.locator("summary", has_text="The file").click()
    expect(page.get_by_text("所在地区 → City")).to_be_visible()
    screenshot(page, f"{width}-result")
    fits(page, width, "result")
    assert Customer.objects.filter(owner=rep).count() == 2

    page.get_by_role("link", name="Imports", exact=True).first.click()
    row = page.locator(".import-list tbody tr").first
    expect(row).to_contain_text("华东客户.csv")
    expect(row).to_contain_text(str(admin_user))
    expect(row).to_contain_text("Imported")
    screenshot(page, f"{width}-history")
    fits(page, width, "history")


class Runner(threading.Thread):
    """A worker's run of the commit that stops after its first chunk until released."""

    def __init__(self, job_pk: int):
        super().__init__(daemon=True)
        self.job_pk = job_pk
        self.paused, self.release = threading.Event(), threading.Event()
        self.error = None

    def gate(self, done, total):
        if 0 < done < total:
            self.paused.set()
            self.release.wait(60)

    def run(self):
        try:
            background.run(job_id=self.job_pk, action=background.COMMIT, progress=self.gate)
        except Exception as error:  # reported by the test
            self.error = error
        finally:
            connections.close_all()


@pytest.mark.parametrize("viewport", ["page", "phone_page"])
def test_progress_bar_of_a_large_import(
    request, live_server, viewport, login_as, screenshot, settings, tmp_path, admin_user
):
    page = request.getfixturevalue(viewport)
    settings.MEDIA_ROOT = tmp_path / "media"
    width = 1280 if viewport == "page" else 375
    rows = [[f"沂蒙第{n}养殖场", "养殖场", "兽药", "山东", "临沂"] for n in range(6000)]
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = csv_bytes([["客户名称", "客户类型", "行业", "省份", "城市"], *rows])
    job = engine.job_create(
        actor=admin_user, kind="customers", file=SimpleUploadedFile("大表.csv", data), original_name="大表.csv"
    )
    engine.job_set_mapping(actor=admin_user, job=job, columns=job.mapping)
    engine.job_dry_run(job=job)
    runner = Runner(job.pk)
    runner.start()
    try:
        assert runner.paused.wait(60), "the commit never reached its first chunk"
        login_as(page, admin_user)
        page.goto(reverse("imports:progress", args=[job.pk]))
        first = CustomerImporter.first_chunk_size
        expect(page.locator("#rows-done")).to_have_text(f"{first} of 6000 rows")
        expect(page.locator(".progress-bar")).to_have_text(f"{round(100 * first / 6000)}%")
        screenshot(page, f"{width}-progress")
        fits(page, width, "progress page")
        page.reload()  # the page survives a reload
        expect(page.locator("#rows-done")).to_have_text(f"{first} of 6000 rows")
    finally:
        runner.release.set()
        runner.join(120)
    assert runner.error is None, runner.error
    # The page polls, and moves on to the result once the import is done.
    expect(page).to_have_url(re.compile(reverse("imports:detail", args=[job.pk]) + "$"), timeout=20_000)
    expect(page.locator("#count-created")).to_have_text("6000")
    screenshot(page, f"{width}-large-result")
    assert Customer.objects.count() == 6000
