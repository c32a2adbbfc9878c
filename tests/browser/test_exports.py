"""Exports in a real browser: a manager filters the contact list, opens the Export
dropdown and downloads the spreadsheet of exactly what the filtered page shows."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import expect

from customers.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_manager_exports_the_filtered_contact_list(
    page, login_as, screenshot, manager, own_customer, team_customer, other_customer
):
    ContactFactory(customer=own_customer, name="张老板", role=Contact.Role.BOSS)
    ContactFactory(customer=own_customer, name="王兽医", role=Contact.Role.TECHNICIAN)
    ContactFactory(customer=team_customer, name="刘老板", role=Contact.Role.BOSS)
    ContactFactory(customer=other_customer, name="赵老板", role=Contact.Role.BOSS)
    login_as(page, manager)
    page.goto(reverse("customers:list"))
    page.locator(f"nav a[href='{reverse('customers:contact_list')}']").click()
    page.select_option("select[name=role]", Contact.Role.BOSS)
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("刘老板")).to_be_visible()
    expect(page.get_by_text("王兽医")).to_have_count(0)
    expect(page.get_by_text("赵老板")).to_have_count(0)

    page.get_by_role("button", name="Export").click()
    expect(page.locator(".export-xlsx")).to_be_visible()
    screenshot(page, "menu")
    with page.expect_download() as download:
        page.locator(".export-xlsx").click()
    assert download.value.suggested_filename.startswith("contacts-")
    with open(download.value.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert sorted(row[header.index("Name")] for row in rows) == ["刘老板", "张老板"]
