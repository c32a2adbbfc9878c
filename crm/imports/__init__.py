"""Spreadsheet import: customers (with their main contact), contacts, qualification
documents, products, orders (one row per line) and payments, from .xlsx and .csv.

Modules
-------
readers   what a file is (by content), its encoding (UTF-8, UTF-8 BOM, UTF-16, GBK /
          GB18030), its sheets and header row; refuses files over IMPORT_MAX_BYTES,
          zip bombs (IMPORT_MAX_UNPACKED_BYTES, compression ratio, true sizes),
          DOCTYPE / ENTITY in any XML part, old .xls, binaries, empty sheets, headers
          with no known column. xlsx is read with python-calamine.
cleaning  the cell cleaners (phones, credit codes, provinces, dates, amounts, 万元...).
mapping   header aliases, the guessed mapping, mappings remembered per header set.
base      `Importer`, `Column`, `Record`, the registry (`register`, `get`, `kinds`).
engine    the job's life: create, set mapping, dry run, commit, undo.
bulk      COPY inserts and UPDATE ... FROM for set-based writes; during a commit the
          COPYs go through a Pipe, a thread that sends them on the same connection
          and transaction while the next chunk is cleaned, and checks each chunk's
          deferred foreign keys as it ends (so COMMIT has none left to check).
undo      reverting a committed import from its undo log.
Importers live beside their models: customers/importers/ (customers, contacts,
documents) and sales/importers/ (products, orders, payments). Kinds:
"customers", "contacts", "documents", "products", "orders", "payments".

Public interface (crm.imports.engine); every function raises crm.errors.DomainError
with a message for the user when it refuses:

job_create(*, actor, kind, file, original_name, mode="all_valid", destroyed="reject",
           defaults=None) -> ImportJob
    `file` is an open binary file or an UploadedFile. Admins only. Stores the file
    (MEDIA_ROOT/imports/...), its SHA-256 and size, checks it (size, type, safety),
    finds the sheet and header row, guesses the mapping (or takes the one remembered
    for these headers: job.mapping_confirmed stays False until an admin confirms) and
    counts the data rows (job.rows_total); an xlsx's rows are kept beside it
    (FILE.rows) for the later reads. A refused file leaves no job and no file.
    engine.delete_stored(job) removes both.
    mode: ImportJob.Mode.ALL_VALID | ALL_OR_NOTHING. destroyed: ImportJob.Destroyed.REJECT |
    SKIP_FIELD (a mobile or credit code Excel turned into 1.38E+10: reject the row, or
    store it without that value with a warning). defaults: {column name: raw value}
    used for new records where the file has none (e.g. {"industry": "兽药",
    "owner": "zhangsan"}), cleaned like a cell; a bad one is refused here.
    What the page shows to confirm: job.headers (the header row), job.mapping (a field
    name per column, "" = not imported), job.sheet, job.header_row, job.encoding,
    job.file_type; the choices per column: importer.columns (name, label, aliases)
    where importer = crm.imports.base.get(job.kind).

job_set_mapping(*, actor, job, columns: list[str], remember=True) -> ImportJob
    Confirm or correct the mapping (one field name or "" per header). Validated
    (unknown field, a field twice, nothing mapped, a required column missing);
    remembered for the next file of this kind with the same headers.

job_dry_run(*, job, progress=None) -> ImportJob
job_commit(*, job, progress=None) -> ImportJob
    Run from status pending / previewed / failed (a job runs once at a time; a job
    that is running or done refuses). The dry run writes nothing but the job
    (status "previewed"); the commit is one transaction (status "done", or "failed"
    with job.error when all-or-nothing met a reject: then nothing is written).
    Both fill job.created_count / updated_count / unchanged_count / rejected_count
    (rows), job.rows_done and job.report:
        {"counts": {...}, "truncated": bool,
         "rejects":  [{"row", "column", "field", "value", "message"}, ...],
         "warnings": [{"row", "column", "field", "value", "message"}, ...]}
    ("row" is the row number Excel shows; at most engine.REPORT_LIMIT entries each).
    progress(rows_done: int, rows_total: int) is called at the start and after each
    chunk (5,000 rows; orders and payments: the whole file at once). During a commit
    the rows written so far are inside its open transaction, and so is anything the
    callback writes through the default database connection: store progress in the
    cache (Redis) or through a second connection. A process killed mid-commit leaves
    the job "running" with nothing of it written (started_at set, finished_at None).

job_undo(*, actor, job) -> ImportJob
    Admins only, a "done" job only, and only while nothing it wrote has changed
    since (engine.changed_since(job) == 0; imports undone since do not count):
    deletes what it created, restores what it updated (from job.undo_log), records
    each step in the history under job.undo_batch; status "undone".

The history: every change of a commit is an AuditEvent with actor = job.created_by,
batch = job.batch and reason "Import #<id>: <file name>"; `AuditEvent.objects.filter(
batch=job.batch)` is what an import did.

The rejected rows as a file (for the page's download): read the rows again with
engine._locate(job) and readers.data_rows() (an xlsx's rows as the upload kept them,
readers.keep_rows), keep the rows whose number appears in job.report["rejects"], and
add the messages as a reason column.

CLI: python manage.py import_data KIND FILE [--dry-run] [--all-or-nothing]
     [--skip-destroyed] [--user USERNAME] [--set FIELD=VALUE ...] [--progress]
"""
