"""`manage.py import_data` prints the same report and exits non-zero when nothing
was imported because of rejects; a commit is all or nothing even when the process is
killed in the middle of it."""

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from crm.models import AuditEvent, ImportJob
from customers.models import Contact, Customer
from tests.factories import valid_credit_code

from .conftest import write_csv

HEADER = ["客户编码", "客户名称", "客户类型", "行业", "省份", "城市", "统一社会信用代码", "业务员", "联系电话"]


def rows(count, start=0, bad_at=None):
    made = [HEADER]
    for n in range(start, start + count):
        province = "火星" if n == bad_at else "山东"
        made.append(
            [
                f"KH{n:06d}",
                f"客户{n}",
                "经销商",
                "兽药",
                province,
                "临沂",
                valid_credit_code(n + 1),
                "rep",
                "13812345678",
            ]
        )
    return made


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def run(*args):
    out = StringIO()
    call_command("import_data", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_cli_dry_run_prints_the_report(tmp_path, admin_user, rep):
    path = write_csv(tmp_path / "客户.csv", rows(3, bad_at=1))
    output = run("customers", str(path), "--dry-run", "--user", admin_user.username)
    assert "CSV GBK/GB18030, header in row 1, 3 data rows" in output
    assert "省份 -> province" in output
    assert "Rows would be: created 2, updated 0, unchanged 0, rejected 1" in output
    assert "row 3, 省份, “火星”: Not one of the 34 provincial divisions." in output
    assert not Customer.objects.exists()


def test_cli_imports_and_reports(tmp_path, admin_user, rep):
    path = write_csv(tmp_path / "客户.csv", rows(3))
    output = run("customers", str(path))
    assert "Rows were: created 3, updated 0, unchanged 0, rejected 0" in output
    assert Customer.objects.count() == 3
    assert ImportJob.objects.get().created_by == admin_user


def test_cli_exits_non_zero_when_nothing_imported_because_of_rejects(tmp_path, admin_user, rep):
    path = write_csv(tmp_path / "客户.csv", rows(3, bad_at=2))
    with pytest.raises(SystemExit) as exit_:
        run("customers", str(path), "--all-or-nothing")
    assert exit_.value.code == 1
    assert not Customer.objects.exists()


def test_cli_refuses_bad_files_and_non_admins(tmp_path, admin_user, rep):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"%PDF-1.7")
    with pytest.raises(CommandError, match="not a spreadsheet"):
        run("customers", str(path))
    good = write_csv(tmp_path / "c.csv", rows(1))
    with pytest.raises(CommandError, match="only admins"):
        run("customers", str(good), "--user", rep.username)
    with pytest.raises(CommandError, match="no import"):
        run("spaceships", str(good))


def test_cli_skip_destroyed_and_defaults(tmp_path, admin_user, rep):
    table = rows(1)
    table[1][8] = "1.38E+10"
    path = write_csv(tmp_path / "c.csv", [row[1:] for row in table])
    output = run("customers", str(path), "--skip-destroyed", "--set", "owner=rep")
    assert "Rows were: created 1" in output and "Warnings:" in output
    assert Customer.objects.get().owner == rep


# -- Killed mid-import ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_leaves_the_database_as_it_was(tmp_path, admin_user, rep):
    """A real process, killed with SIGKILL after it has written some chunks inside its
    transaction: PostgreSQL rolls everything back."""
    path = write_csv(tmp_path / "big.csv", rows(40_000))
    database = connection.settings_dict
    env = {
        **os.environ,
        # The production settings (files under MEDIA_ROOT from the environment).
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "SECRET_KEY": "kill-test-secret-key-0123456789-0123456789-0123456789",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "PYTHONUNBUFFERED": "1",
    }
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = database["PASSWORD"]
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_data", "customers", str(path), "--progress", "--skip-checks"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            done, _sep, total = line.strip().partition("/")
            if done.isdigit() and 10_000 <= int(done) < int(total):
                break
        else:
            pytest.fail("the import never reported progress")
        assert process.poll() is None, "the import ended before it could be killed"
        # Rows are written inside the import's open transaction by now.
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    # The server notices the dropped connection and rolls back; wait until it has.
    for _ in range(100):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [database["NAME"]],
            )
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.1)
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.exists()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.RUNNING and job.finished_at is None
