"""One import of the import benchmark, in a process of its own, so that its peak
memory is its own: `python -m bench.import_worker ours FILE` runs our
import end to end, `python -m bench.import_worker die FILE ROWS` django-import-export's
default ModelResource on the first ROWS rows. Prints one line of JSON."""

import csv
import json
import os
import resource
import sys
import time
from pathlib import Path


def ours(path: str) -> dict:
    from crm.imports import engine
    from crm.models import ImportJob, User

    from .imports import ADMIN

    admin = User.objects.get(username=ADMIN)
    started = time.perf_counter()
    with open(path, "rb") as handle:
        job = engine.job_create(actor=admin, kind="customers", file=handle, original_name=Path(path).name)
    uploaded = time.perf_counter()
    job = engine.job_commit(job=job)
    done = time.perf_counter()
    if job.status != ImportJob.Status.DONE:
        raise SystemExit(f"imports: the import ended {job.status}: {job.error}")
    return {
        "rows": job.rows_total,
        "created": job.created_count,
        "updated": job.updated_count,
        "rejected": job.rejected_count,
        "warnings": len(job.report.get("warnings", [])),
        "upload_s": uploaded - started,
        "commit_s": done - uploaded,
        "seconds": done - started,
    }


def die(path: str, rows: int) -> dict:
    """django-import-export's default ModelResource for Customer, as its admin import
    runs it: the file read into a tablib Dataset, then import_data in a transaction.

    Its CharWidget writes a blank credit code as "" where the model stores NULL, and
    the column is unique: the default resource cannot import two customers without a
    credit code. It is given the first `rows` rows that have one."""
    import tablib
    from import_export.resources import modelresource_factory

    from customers.models import Customer

    started = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        header = next(handle)
        column = next(csv.reader([header])).index("credit_code")
        lines = [header]
        for line in handle:
            if next(csv.reader([line]))[column]:
                lines.append(line)
                if len(lines) > rows:
                    break
    dataset = tablib.Dataset().load("".join(lines), format="csv")
    resource = modelresource_factory(Customer)()
    result = resource.import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
    done = time.perf_counter()
    return {
        "rows": len(dataset),
        "created": result.totals.get("new", 0),
        "errors": result.totals.get("error", 0) + result.totals.get("invalid", 0),
        "seconds": done - started,
    }


def peak_rss_mb() -> float:
    """This process's own peak resident memory: VmHWM, the high-water mark of its
    address space. (ru_maxrss would also count the parent's memory at the fork.)"""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(args: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    report = ours(args[1]) if args[0] == "ours" else die(args[1], int(args[2]))
    report["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
