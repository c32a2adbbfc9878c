"""The rejected rows of an import as a spreadsheet to fix and import again: the file's
own header and cells (read again from the stored file), one row per rejected row,
and a last column with the reasons. The reason column is not a column any import
knows, so the fixed file imports as it is; the mapping confirmed for the original
file is reused for it (see `remembered_for_fixed_file`)."""

from collections import defaultdict

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import exports
from crm.models import ImportJob

from . import engine, mapping, readers

REASON_HEADER = gettext_lazy("Reason for rejection")
REASON_NOT_LISTED = gettext_lazy(
    "Reason not listed: an import's report keeps its first %(limit)s problems. Import this row again to see it."
)


def reasons_by_row(job: ImportJob) -> dict[int, list[str]]:
    reasons: dict[int, list[str]] = defaultdict(list)
    for problem in (job.report or {}).get("rejects", []):
        column = problem.get("column") or problem.get("field") or ""
        reasons[problem["row"]].append(f"{column}: {problem['message']}" if column else problem["message"])
    return reasons


def rejected_rows(job: ImportJob):
    """(headers, rows): every rejected row as the file had it, each with its reasons
    (those the report kept: see engine.REPORT_LIMIT)."""
    reasons = reasons_by_row(job)
    # Reports written before the numbers were kept: the rows their reasons name.
    numbers = set((job.report or {}).get("rejected_rows") or reasons)
    not_listed = str(REASON_NOT_LISTED % {"limit": engine.REPORT_LIMIT})
    width = len(job.headers)
    rows = []
    if numbers:
        for number, cells in readers.data_rows(engine._locate(job)):
            if number in numbers:
                cells = list(cells[:width]) + [""] * (width - len(cells))
                rows.append([*cells, "；".join(reasons[number]) if number in reasons else not_listed])
    return [*job.headers, str(REASON_HEADER)], rows


def download(job: ImportJob):
    headers, rows = rejected_rows(job)
    stem = job.original_name.rsplit(".", 1)[0] or "import"
    return exports.export_response(
        filename=f"{stem}-{_('rejected')}", headers=headers, rows=rows, fmt="xlsx", title=_("Rejected rows")
    )


def _reason_headers() -> set[str]:
    folded = set()
    for language in ("en", "zh-hans"):
        with translation.override(language):
            folded.add(mapping.fold_header(str(REASON_HEADER)))
    return folded


def remembered_for(job: ImportJob) -> list[str] | None:
    """The mapping remembered for the file's headers; for a file of rejected rows (the
    reason column after the original headers), the one remembered for the original."""
    headers = job.headers
    columns = mapping.remembered(job.kind, headers)
    if columns is not None or len(headers) < 2 or mapping.fold_header(headers[-1]) not in _reason_headers():
        return columns
    columns = mapping.remembered(job.kind, headers[:-1])
    return None if columns is None else [*columns, ""]


def remembered_for_fixed_file(job: ImportJob) -> bool:
    """Give a file of rejected rows the mapping of the file it came from. Returns whether
    it did."""
    columns = remembered_for(job)
    if columns is None or columns == job.mapping:
        return False
    job.mapping = columns
    job.save(update_fields=["mapping"])
    return True
