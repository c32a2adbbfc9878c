"""The customer import at 100,000 rows, end to end: the file stored and inspected, each
row parsed, cleaned, validated and written with its main contact, history, undo log
and derived fields (engine.job_create + engine.job_commit, as the import page and
`manage.py import_data` run them). A GBK CSV and an xlsx (bench.import_files), then
the same customers through django-import-export's default ModelResource for Customer.

Each import runs in a process of its own (bench.import_worker), so its peak resident
memory (the process's VmHWM) is the import's own, RUNS times; the quickest counts. Every run starts from the same
table: what the previous run imported (customers of the benchmark's own reps, their
contacts and history, the import jobs and their stored files) is deleted first, and
the tables are vacuumed. Other benchmarks' data stays.

django-import-export writes one row at a time (a query to look the row up, one to
save it); it is timed on the first SAMPLE_ROWS rows and compared by rows per second.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection, transaction

from crm.imports import engine
from crm.models import AuditEvent, ImportJob, User
from customers.models import Contact, Customer

from . import import_files

ADMIN = "bench_import_admin"
REP_PREFIX = "bench_import_rep_"
# Full names the benchmark's reps are given (written in the files' 业务员 column).
REP_NAMES = [
    "欧阳春华", "司马建国", "上官丽娟", "诸葛明辉", "东方振兴", "皇甫秀英", "慕容志强", "令狐海波",
    "夏侯晨阳", "尉迟德胜", "公孙玉兰", "长孙庆福", "宇文俊峰", "轩辕雪梅", "闻人长春", "澹台金凤",
]  # fmt: skip
SAMPLE_ROWS = 5_000
# Each of our imports runs this many times and the quickest counts: on a shared machine
# the same import takes from 14 to 21 s.
RUNS = 2
# The targets hold on the development machine, where python-calamine alone reads a
# 100,000-row xlsx in about this many seconds (the issue's own figure).
REFERENCE_CALAMINE_S = 1.2
CSV_TARGET = 15_000  # rows/s
XLSX_TARGET = 12_000  # rows/s
MEMORY_TARGET_MB = 400
RATIO_TARGET = 15.0


def seed(out) -> None:
    admin, created = User.objects.get_or_create(
        username=ADMIN, defaults={"role": User.Role.ADMIN, "last_name": "测", "first_name": "导入管理员"}
    )
    if created:
        admin.set_unusable_password()
        admin.save(update_fields=["password"])
    for number, full_name in enumerate(REP_NAMES, start=1):
        user, created = User.objects.get_or_create(
            username=f"{REP_PREFIX}{number:02d}",
            defaults={"role": User.Role.REP, "last_name": full_name[:2], "first_name": full_name[2:]},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    reps = [(user.pk, user.username, user.get_full_name()) for user in _reps()]
    clashes = [
        user.username
        for user in User.objects.filter(is_active=True).exclude(username__startswith=REP_PREFIX)
        if user.get_full_name() in {name for _pk, _username, name in reps}
    ]
    if clashes:
        raise SystemExit(f"imports: users {', '.join(clashes)} share a name with the benchmark's reps.")
    started = time.perf_counter()
    files = import_files.ensure(reps, out)
    if time.perf_counter() - started > 1:
        out.write(f"imports: files written in {time.perf_counter() - started:.1f} s.\n")
    for path in files.values():
        if not path.exists():
            raise SystemExit(f"imports: {path} is missing.")


def _reps():
    return list(User.objects.filter(username__startswith=REP_PREFIX).order_by("username"))


def mode() -> str:
    return (
        f"end to end import of {import_files.ROWS:,} customers with their main contact "
        "(job_create + job_commit), one process per import"
    )


def cases() -> list:
    """Nothing to time request by request: `run` measures the imports."""
    return []


# -- Cleaning up between runs ----------------------------------------------------------------


def clean_up() -> dict:
    """Delete what earlier runs imported; returns {what: rows deleted}."""
    admin = User.objects.get(username=ADMIN)
    reps = [user.pk for user in _reps()]
    counts = {}
    jobs = list(ImportJob.objects.filter(created_by=admin))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_gone ON COMMIT DROP AS "
                       "SELECT id FROM customers_customer WHERE owner_id = ANY(%s)", [reps])  # fmt: skip
        cursor.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE customer_id IN (SELECT id FROM bench_gone) "
            "OR batch = ANY(%s::uuid[])",
            [[str(job.batch) for job in jobs] + [str(job.undo_batch) for job in jobs if job.undo_batch]],
        )
        counts["history events"] = cursor.rowcount
        cursor.execute(f"DELETE FROM {Contact._meta.db_table} WHERE customer_id IN (SELECT id FROM bench_gone)")
        counts["contacts"] = cursor.rowcount
        cursor.execute(f"DELETE FROM {Customer._meta.db_table} WHERE id IN (SELECT id FROM bench_gone)")
        counts["customers"] = cursor.rowcount
        for job in jobs:
            engine.delete_stored(job)
        counts["import jobs"] = ImportJob.objects.filter(pk__in=[job.pk for job in jobs]).delete()[0]
    with connection.cursor() as cursor:
        for model in (Customer, Contact, AuditEvent):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return counts


# -- Running one import in a process of its own ----------------------------------------------


def _spawn(*args: str) -> tuple[dict, float, float]:
    """(what the worker printed, its peak RSS in MB, wall seconds of the whole process)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "bench.import_worker", *args],
        stdout=subprocess.PIPE,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"imports: the worker {' '.join(args)} failed with status {process.returncode}")
    report = json.loads(process.stdout.decode().strip().splitlines()[-1])
    return report, report["peak_rss_mb"], wall


def _calamine_seconds(path) -> float:
    """The best of two reads of the xlsx by python-calamine alone (every cell into Python)."""
    from python_calamine import CalamineWorkbook

    best = float("inf")
    for _attempt in range(2):
        started = time.perf_counter()
        CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        best = min(best, time.perf_counter() - started)
    return best


def _load_average() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f} / {five:.2f} (1 / 5 min), {os.cpu_count()} cores"


def run(out) -> bool:
    """Time the imports; True when a target is missed."""
    files = import_files.paths()
    results, runs = {}, {}
    for kind in ("csv", "xlsx"):
        size = files[kind].stat().st_size / 1e6
        for attempt in range(1, RUNS + 1):
            clean_up()
            out.write(f"  {kind} #{attempt}: importing {files[kind].name} ({size:.1f} MB); {_load_average()}\n")
            runs.setdefault(kind, []).append(_spawn("ours", str(files[kind])))
        # The quickest run (the others met more of the machine's other work), its
        # memory the most any run reached.
        report, _rss, wall = min(runs[kind], key=lambda result: result[0]["seconds"])
        results[kind] = (report, max(rss for _report, rss, _wall in runs[kind]), wall)
    clean_up()
    out.write(f"  django-import-export: {SAMPLE_ROWS:,} rows of {files['model_csv'].name}; {_load_average()}\n")
    die, die_rss, _die_wall = _spawn("die", str(files["model_csv"]), str(SAMPLE_ROWS))
    clean_up()

    # The targets hold on the development machine: this machine's rows per second are
    # scaled by how much longer python-calamine alone takes here to read the same xlsx.
    calamine = _calamine_seconds(files["xlsx"])
    slower = calamine / REFERENCE_CALAMINE_S

    failed = False
    rows = [("import", "rows", "created", "rejected", "seconds", "rows/s", "scaled*", "peak RSS MB", "")]
    for kind, target in (("csv", CSV_TARGET), ("xlsx", XLSX_TARGET)):
        report, rss, _wall = results[kind]
        rate = report["rows"] / report["seconds"]
        ok = rate * slower >= target and rss < MEMORY_TARGET_MB
        failed = failed or not ok
        verdict = "OK" if ok else f"MISSED (target ≥ {target:,} rows/s scaled and < {MEMORY_TARGET_MB} MB)"
        rows.append(
            (kind, f"{report['rows']:,}", f"{report['created']:,}", f"{report['rejected']:,}",
             f"{report['seconds']:.1f}", f"{rate:,.0f}", f"{rate * slower:,.0f}", f"{rss:.0f}", verdict)
        )  # fmt: skip
    die_rate = die["rows"] / die["seconds"]
    rows.append(
        ("django-import-export", f"{die['rows']:,}", f"{die['created']:,}", f"{die['errors']:,}",
         f"{die['seconds']:.1f}", f"{die_rate:,.0f}", "", f"{die_rss:.0f}", f"a sample of {SAMPLE_ROWS:,} rows")
    )  # fmt: skip
    out.write("\n" + _table(rows) + "\n")
    for kind in ("csv", "xlsx"):
        seconds = ", ".join(f"{report['seconds']:.1f}" for report, _rss, _wall in runs[kind])
        out.write(f"  {kind}: the quickest of {RUNS} runs ({seconds} s); peak RSS: the most of any run\n")
    ratio = results["csv"][0]["rows"] / results["csv"][0]["seconds"] / die_rate
    ok = ratio >= RATIO_TARGET
    failed = failed or not ok
    verdict = "OK" if ok else f"MISSED (target ≥ {RATIO_TARGET:g}x)"
    out.write(f"\n  CSV import / django-import-export: {ratio:.1f}x the rows per second; {verdict}\n")
    for kind in ("csv", "xlsx"):
        report, _rss, wall = results[kind]
        out.write(
            f"  {kind}: upload and inspect {report['upload_s']:.1f} s + commit {report['commit_s']:.1f} s "
            f"(the process: {wall:.1f} s); {report['warnings']:,} warnings\n"
        )
    out.write(
        f"\n  *scaled: rows/s times {slower:.2f}, the time python-calamine alone takes to read "
        f"{files['xlsx'].name} here\n  ({calamine:.2f} s, the best of two) over the "
        f"{REFERENCE_CALAMINE_S} s it takes on the development machine, where the targets\n"
        "  hold. An estimate: an import is bound by PostgreSQL and Python together, not by XML parsing.\n"
    )
    out.write(
        "\n  seconds: engine.job_create (store, check, find the header, count the rows) + engine.job_commit\n"
        "  (parse, clean, validate, write customers, main contacts, history, undo log, derived fields), in a\n"
        "  process of its own; peak RSS: that process's own high-water mark (VmHWM).\n"
        "  django-import-export: its default ModelResource for Customer, import_data(dry_run=False,\n"
        "  use_transactions=True), given the model's own column names and stored values (it reads no\n"
        "  Chinese headers and does no cleaning, no main contact, no history, no search text), the first\n"
        "  rows that have a credit code (it stores a blank one as '', which the unique column allows once);\n"
        "  timed on a sample, compared by rows per second.\n"
    )
    return failed


def _table(rows: list[tuple]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join("  " + line for line in lines)
