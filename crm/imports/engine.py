"""The import's life: upload and inspect, confirm the mapping, dry run, commit, undo.

A run reads the file's rows below the header, cleans each mapped cell, and hands the
rows to the importer chunk by chunk: `plan()` matches a chunk against the database
with one query per kind of thing and decides each row's outcome, `write()` writes the
chunk in bulk (COPY, UPDATE ... FROM) with its audit events. A dry run plans and never
writes. A commit is one transaction, serialised with every other commit and undo by a
PostgreSQL advisory lock: a failure or a killed process leaves nothing behind. In
all-or-nothing mode the first rejected row stops the writing; the rest of the file is
still checked so the report lists every problem, and the transaction is rolled back.
"""

import contextlib
import gc
import uuid
from collections import Counter

from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import audit
from crm.errors import DomainError
from crm.models import AuditEvent, ImportJob

from . import base, mapping, readers
from .bulk import NULL, CopyInsert, Pipe, allocate_ids, json_value, text_value
from .cleaning import CellError, as_text

ERR_ADMIN_ONLY = gettext_lazy("Only admins import spreadsheets.")
ERR_UNKNOWN_KIND = gettext_lazy("There is no import of “%(kind)s”.")
ERR_STATE = gettext_lazy("This import is %(status)s; it cannot be %(action)s now.")
ERR_REJECTS_NOTHING = gettext_lazy(
    "Nothing was imported: %(count)d rows were rejected and the import was set to all or nothing."
)
ERR_BAD_DEFAULT = gettext_lazy("The value “%(value)s” given for %(field)s cannot be used: %(error)s")
ERR_UNDO_CHANGED = gettext_lazy(
    "This import cannot be undone: %(count)d of the records it wrote have been changed since."
)
MSG_DESTROYED_SKIPPED = gettext_lazy("Imported without this value: %(error)s")

# Rejects and warnings kept in a job's report; the counts are always complete.
REPORT_LIMIT = 10_000
LOCK_KEY = "crm.imports"


def _require_admin(actor) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_admin_role:
        raise DomainError(ERR_ADMIN_ONLY)


def importer_for(kind: str) -> base.Importer:
    importer = base.get(kind)
    if importer is None:
        raise DomainError(ERR_UNKNOWN_KIND % {"kind": kind}, field="kind")
    return importer


# -- Upload and inspection -------------------------------------------------------------


def job_create(
    *,
    actor,
    kind: str,
    file,
    original_name: str,
    mode: str = ImportJob.Mode.ALL_VALID,
    destroyed: str = ImportJob.Destroyed.REJECT,
    defaults: dict | None = None,
) -> ImportJob:
    """Store an uploaded file and inspect it: type, safety, header row, a guessed (or
    remembered) mapping and the number of data rows. `file` is an open binary file or
    an UploadedFile. Raises DomainError for a file that cannot be imported, and then
    keeps nothing."""
    _require_admin(actor)
    importer = importer_for(kind)
    size = getattr(file, "size", None)
    if size is not None and size > readers.max_bytes():
        # Refused before it is stored; check_size says the same in the same words.
        readers.check_size_value(size)
    job = ImportJob(
        kind=kind,
        original_name=original_name[:255],
        sha256=readers.sha256(file),
        size=0,
        file_type="",
        mode=mode,
        destroyed=destroyed,
        defaults=defaults or {},
        batch=uuid.uuid4(),
        created_by=actor,
    )
    job.file.save(f"{uuid.uuid4().hex}-{original_name[-80:]}", File(file), save=False)
    try:
        job.size = readers.check_size(job.file.path)
        _inspect(job, importer)
        _clean_defaults(job, importer)
        job.save()
    except BaseException:
        delete_stored(job)
        raise
    return job


def delete_stored(job: ImportJob) -> None:
    """The job's stored file and the rows kept from it."""
    if job.file:
        readers.remove_kept(job.file.path)
        job.file.delete(save=False)


# The mapping page shows each column's first few values, taken from the first rows
# while the file is inspected (reading it again would take seconds on a large xlsx).
SAMPLE_ROWS = 20
SAMPLES = 3
SAMPLE_LENGTH = 40


def _add_samples(found: list[list[str]], cells: list) -> None:
    for index, cell in enumerate(cells[: len(found)]):
        if cell not in (None, "") and len(found[index]) < SAMPLES:
            text = as_text(cell).replace("\n", " ")
            found[index].append(text if len(text) <= SAMPLE_LENGTH else text[: SAMPLE_LENGTH - 1] + "…")


def _inspect(job: ImportJob, importer: base.Importer) -> None:
    tables = readers.open_tables(job.file.path)
    located = readers.find_header(tables, mapping.score(importer), [str(c.label) for c in importer.columns])
    job.file_type = located.table.kind
    job.encoding = readers.ENCODING_LABELS.get(located.table.encoding, located.table.encoding)
    job.sheet = located.table.sheet
    job.header_row = located.header_row
    job.headers = located.headers
    remembered = mapping.remembered(job.kind, located.headers)
    job.mapping = remembered or mapping.guess(importer, located.headers)
    job.mapping_confirmed = False
    job.samples = [[] for _header in located.headers]
    # Every row is read to count them: an xlsx's are kept for the dry run and the commit.
    located.table = readers.keep_rows(located.table, job.file.path, job.sha256)
    count = 0
    for count, (_number, cells) in enumerate(readers.data_rows(located), start=1):
        if count <= SAMPLE_ROWS:
            _add_samples(job.samples, cells)
    job.rows_total = count
    if not job.rows_total:
        raise DomainError(readers.ERR_NO_ROWS, field="file")


def _locate(job: ImportJob) -> readers.Located:
    """The job's sheet and header: the rows kept at upload, or the stored file read again
    (which passed the safety checks when it was uploaded, with this SHA-256)."""
    table = readers.open_sheet(job.file.path, job.sheet, checked_sha256=job.sha256)
    return readers.Located(table, job.header_row, list(job.headers), 0)


def _clean_defaults(job: ImportJob, importer: base.Importer) -> dict:
    cleaned = {}
    for name, raw in (job.defaults or {}).items():
        try:
            column = importer.column(name)
        except KeyError:
            raise DomainError(mapping.ERR_UNKNOWN_FIELD % {"field": name}, field="defaults") from None
        if raw in (None, ""):
            continue
        try:
            cleaned[name] = column.clean(raw, str(column.label))
        except CellError as error:
            raise DomainError(
                ERR_BAD_DEFAULT % {"value": raw, "field": column.label, "error": error.message}, field="defaults"
            ) from None
    return cleaned


def job_set_mapping(*, actor, job: ImportJob, columns: list[str], remember: bool = True) -> ImportJob:
    """Confirm (or correct) the column mapping; remembered for files with these headers."""
    _require_admin(actor)
    importer = importer_for(job.kind)
    if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED):
        raise _state_error(job, _("remapped"))
    columns = mapping.validate(importer, job.headers, columns)
    job.mapping = columns
    job.mapping_confirmed = True
    job.status = ImportJob.Status.PENDING
    job.save(update_fields=["mapping", "mapping_confirmed", "status"])
    if remember:
        mapping.remember(kind=job.kind, headers=job.headers, columns=columns, actor=actor)
    return job


def _state_error(job: ImportJob, action) -> DomainError:
    return DomainError(ERR_STATE % {"status": job.get_status_display(), "action": action})


# -- Running ------------------------------------------------------------------------------


class Run:
    """The state of one dry run or commit, handed to the importer's methods."""

    def __init__(self, job: ImportJob, importer: base.Importer, *, committing: bool):
        self.job = job
        self.importer = importer
        self.actor = job.created_by
        self.committing = committing
        # False in a dry run, and in an all-or-nothing commit after the first reject.
        self.writing = committing
        self.batch = job.batch
        self.reason = _("Import #%(id)s: %(name)s") % {"id": job.pk, "name": job.original_name}
        self.skip_destroyed = job.destroyed == ImportJob.Destroyed.SKIP_FIELD
        self.defaults = _clean_defaults(job, importer)
        self.header_of = {name: job.headers[i] for i, name in enumerate(job.mapping) if name}
        self.counts = Counter()
        self.rejects: list[dict] = []
        # Every rejected row's number, also past REPORT_LIMIT: the rejected rows file
        # holds them all.
        self.rejected_rows: list[int] = []
        self.warnings: list[dict] = []
        self.truncated = False
        self.now = timezone.now()
        self.events = CopyInsert(
            AuditEvent,
            ids=False,
            constants={"at": self.now, "actor_id": self.actor.pk, "reason": self.reason[:500], "batch": self.batch},
        )
        self._event_line = self.events.formatter(
            ["action", "customer_id", "object_type", "object_id", "object_repr", "changes", "version"]
        )
        self.undo = {"created": [], "updated": {}, "deleted": []}
        self._ids: dict = {}
        # The importer's scratch space across chunks (rows seen, lookups).
        self.state: dict = {}
        # During a commit: the pipe the COPYs go through (bulk.Pipe).
        self.pipe: Pipe | None = None

    def release(self) -> None:
        """Called by a pipelined importer's plan() once it has read what it needs from
        the database: the previous chunk's COPYs are sent now, not after planning, so
        the database does not wait while Python decides each row's outcome. A query
        after this waits for them."""
        if self.pipe is not None:
            self.pipe.ahead = False
            self.pipe.send()

    def sync(self) -> None:
        """Make everything written so far visible to the next query (a pipelined
        importer whose lookup needs rows of earlier chunks)."""
        if self.pipe is not None:
            self.pipe.sync()

    # Audit and undo bookkeeping, called by importers' write().

    def event(self, *, action, obj_type: str, obj_id: int, obj_repr: str, customer_id, changes, version=None):
        if action == AuditEvent.Action.UPDATE and not changes:
            return
        # One line of COPY text straight from a template: an import writes an event per row.
        self.events.add_line(
            self._event_line.format(
                action,
                NULL if customer_id is None else int(customer_id),
                obj_type,
                int(obj_id),
                text_value(str(obj_repr)[:200]),
                json_value(changes),
                NULL if version is None else int(version),
            )
        )

    def ids(self, model, count: int) -> list[int]:
        """`count` fresh primary keys of `model`, drawn from its sequence a file's worth
        at a time: a chunked run asks the database once, not once a chunk (such a query
        waits for the COPYs in flight). Ids left unused are gaps, as a rolled-back
        insert leaves."""
        pool = self._ids.setdefault(model, [])
        if count > len(pool):
            pool.extend(allocate_ids(model, max(count - len(pool), self.job.rows_total)))
        taken = pool[:count]
        del pool[:count]
        return taken

    def created(self, model, ids) -> None:
        if ids:
            self.undo["created"].append([model._meta.label_lower, list(ids)])

    def updated(self, model, pk: int, old: dict) -> None:
        """Old values (by attname) of a row about to be updated; the first one wins."""
        rows = self.undo["updated"].setdefault(model._meta.label_lower, {})
        if str(pk) not in rows:
            rows[str(pk)] = {name: audit._plain(value) for name, value in old.items()}

    def deleted(self, model, rows: list[dict]) -> None:
        """Whole rows (by attname) the import deleted (an order's replaced lines)."""
        if rows:
            plain = [{name: audit._plain(value) for name, value in row.items()} for row in rows]
            self.undo["deleted"].append([model._meta.label_lower, plain])

    # Reporting.

    def _problem(self, bucket: list, record: base.Record, field: str, message: str, value) -> None:
        if len(bucket) >= REPORT_LIMIT:
            self.truncated = True
            return
        if value is None:
            value = _raw(record, self, field)
        bucket.append(
            base.Problem(
                row=record.row,
                column=self.header_of.get(field, str(_label(self.importer, field))),
                field=field,
                value="" if value is None else as_text(value),
                message=message,
            ).as_dict()
        )

    def tally(self, record: base.Record) -> None:
        outcome = base.REJECTED if record.errors else (record.outcome or base.REJECTED)
        self.counts[outcome] += 1
        if outcome == base.REJECTED:
            self.rejected_rows.append(record.row)
        for field, message, value in record.errors:
            self._problem(self.rejects, record, field, message, value)
        for field, message, value in record.warnings:
            self._problem(self.warnings, record, field, message, value)

    def report(self) -> dict:
        return {
            "counts": {outcome: self.counts.get(outcome, 0) for outcome in base.OUTCOMES},
            "rejects": self.rejects,
            "rejected_rows": self.rejected_rows,
            "warnings": self.warnings,
            "truncated": self.truncated,
        }


def _label(importer: base.Importer, field: str):
    try:
        return importer.column(field).label
    except KeyError:
        return field


def _raw(record: base.Record, run: Run, field: str):
    for index, name in enumerate(run.job.mapping):
        if name == field and index < len(record.cells):
            return record.cells[index]
    return None


# Cleaned values remembered per column: types, provinces, dates and amounts repeat
# down a sheet, and a cleaner costs many times a dict lookup. A column whose values
# hardly repeat (names, mobiles) stops being remembered after MEMO_SIZE misses.
MEMO_SIZE = 4096
_MISSING = object()


def _plan_columns(job: ImportJob, importer: base.Importer) -> list[list]:
    """[index, field name, header, cleaner, memo or None, misses, hits] per mapped column."""
    return [
        [index, name, job.headers[index], importer.column(name).clean, {}, 0, 0]
        for index, name in enumerate(job.mapping)
        if name
    ]


def _clean(number: int, cells: list, columns: list[list], run: Run) -> base.Record:
    record = base.Record(number, cells)
    values = record.values
    width = len(cells)
    for column in columns:
        index, name, header, clean, memo = column[0], column[1], column[2], column[3], column[4]
        if index >= width:
            continue
        raw = cells[index]
        if raw is None or raw == "":
            continue
        if type(raw) is str:
            if raw.isspace():
                continue
            # A str is its own key; other types keep theirs apart (1 == 1.0 == True).
            key = raw
        else:
            key = (type(raw), raw)
        if memo is not None:
            value = memo.get(key, _MISSING)
            if value is not _MISSING:
                values[name] = value
                column[6] += 1
                continue
        try:
            value = values[name] = clean(raw, header)
        except CellError as error:
            if error.destroyed and run.skip_destroyed:
                record.warn(name, MSG_DESTROYED_SKIPPED % {"error": error.message}, raw)
            else:
                record.reject(name, error.message, raw)
            continue
        if memo is not None:
            if len(memo) < MEMO_SIZE:
                memo[key] = value
            else:
                column[5] += 1
                if column[5] > MEMO_SIZE and column[6] < column[5]:
                    column[4] = None
    return record


def _chunks(rows, size: int | None, first: int | None = None):
    chunk = []
    limit = min(first, size) if first and size else size
    for row in rows:
        chunk.append(row)
        if limit and len(chunk) >= limit:
            yield chunk
            chunk = []
            limit = size
    if chunk:
        yield chunk


@contextlib.contextmanager
def _without_cyclic_gc():
    """A run makes millions of short-lived objects and keeps tens of thousands (the
    report, the undo log, the memos); the cyclic collector would go through those again
    and again (a tenth of a run's time) to find no cycles: reference counting frees
    what a run makes. Switched back on when the run ends, however it ends."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _execute(run: Run, progress) -> None:
    """Clean, plan and write chunk by chunk. In a commit the COPYs of a chunk go to the
    database through a pipe (bulk.Pipe) while the next chunk is cleaned; for an importer
    that declares `pipelined`, while the next chunk is also planned and written."""
    with _without_cyclic_gc():
        if not run.committing:
            _chunked(run, progress, None)
            return
        with Pipe.open() as pipe:
            run.pipe = pipe
            try:
                _chunked(run, progress, pipe)
            finally:
                run.pipe = None


def _chunked(run: Run, progress, pipe: Pipe | None) -> None:
    job, importer = run.job, run.importer
    located = _locate(job)
    columns = _plan_columns(job, importer)
    importer.begin(run)
    done, total = 0, job.rows_total
    if progress:
        progress(0, total)
    for chunk in _chunks(readers.data_rows(located), importer.chunk_size, importer.first_chunk_size):
        records = [_clean(number, cells, columns, run) for number, cells in chunk]
        if pipe is not None:
            # The previous chunk's COPYs are still kept: an importer's lookups may run first.
            pipe.ahead = importer.pipelined
        importer.plan(records, run)
        if run.writing and job.mode == ImportJob.Mode.ALL_OR_NOTHING and any(not r.ok for r in records):
            run.writing = False
        writes = [r for r in records if r.ok and r.outcome in (base.CREATED, base.UPDATED)] if run.writing else []
        if writes:
            importer.reserve(writes, run)
        if pipe is not None:
            pipe.ahead = False
            pipe.send()
        if run.writing:
            importer.write(writes, run)
            run.events.flush()
            if pipe is not None and not importer.pipelined:
                pipe.send()
        for record in records:
            run.tally(record)
        done += len(records)
        # Let this chunk go before the next one is read.
        del records, writes, chunk
        if progress:
            progress(done, max(total, done))
    if pipe is not None:
        pipe.sync()
    if run.writing:
        importer.finish(run)
        run.events.flush()


def _claim(job: ImportJob, allowed) -> None:
    """Mark the job running unless another process already does (or it is done)."""
    started = timezone.now()
    claimed = ImportJob.objects.filter(pk=job.pk, status__in=allowed).update(
        status=ImportJob.Status.RUNNING, started_at=started, rows_done=0, error=""
    )
    if not claimed:
        job.refresh_from_db()
        raise _state_error(job, _("run"))
    # As stored: _store() saves the whole job at the end.
    job.status, job.started_at, job.rows_done, job.error = ImportJob.Status.RUNNING, started, 0, ""


def _store(job: ImportJob, run: Run, status: str, error: str = "") -> None:
    report = run.report()
    job.status = status
    job.report = report
    job.created_count = report["counts"]["created"]
    job.updated_count = report["counts"]["updated"]
    job.unchanged_count = report["counts"]["unchanged"]
    job.rejected_count = report["counts"]["rejected"]
    job.rows_done = sum(report["counts"].values())
    job.finished_at = timezone.now()
    job.error = error
    job.save()


RUNNABLE = (ImportJob.Status.PENDING, ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED)


def job_dry_run(*, job: ImportJob, progress=None) -> ImportJob:
    """Check every row and count what a commit would do; writes nothing but the job.

    `progress(rows_done, rows_total)` is called after each chunk."""
    importer = importer_for(job.kind)
    _claim(job, RUNNABLE)
    run = Run(job, importer, committing=False)
    try:
        _execute(run, progress)
    except DomainError as error:
        _store(job, run, ImportJob.Status.FAILED, error=str(error.message))
        raise
    except BaseException as error:
        _store(job, run, ImportJob.Status.FAILED, error=repr(error)[:2000])
        raise
    _store(job, run, ImportJob.Status.PREVIEWED)
    return job


class _RollBack(Exception):
    pass


def job_commit(*, job: ImportJob, progress=None) -> ImportJob:
    """Import the file: all valid rows, or nothing unless every row is valid (the
    job's mode). One transaction; the job is marked done in it, so a job whose
    process died stays "running" with nothing written.

    `progress(rows_done, rows_total)` is called after each chunk. The rows written so
    far are inside the uncommitted transaction: a callback that stores progress must
    use another channel (the cache, or another database connection)."""
    importer = importer_for(job.kind)
    _claim(job, RUNNABLE)
    run = Run(job, importer, committing=True)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK_KEY])
            _execute(run, progress)
            if not run.writing:
                raise _RollBack
            job.undo_log = run.undo
            _store(job, run, ImportJob.Status.DONE)
    except _RollBack:
        count = run.counts.get(base.REJECTED, 0)
        _store(job, run, ImportJob.Status.FAILED, error=str(ERR_REJECTS_NOTHING % {"count": count}))
        return job
    except DomainError as error:
        _store(job, run, ImportJob.Status.FAILED, error=str(error.message))
        raise
    except BaseException as error:
        _store(job, run, ImportJob.Status.FAILED, error=repr(error)[:2000])
        raise
    return job


# -- Undo -----------------------------------------------------------------------------------


def changed_since(job: ImportJob) -> int:
    """How many records written by the import were changed (or deleted, or had a
    child added or changed) by anything else since, not counting other imports that
    were undone since."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH mine AS (SELECT customer_id, object_type, object_id, id FROM crm_auditevent WHERE batch = %(batch)s),
                 last AS (SELECT coalesce(max(id), 0) AS id FROM mine)
            SELECT count(DISTINCT (e.object_type, e.object_id)) FROM crm_auditevent e, last
            WHERE e.id > last.id AND e.batch IS DISTINCT FROM %(batch)s
              -- An import undone since, and its undo, changed nothing in the end.
              AND (e.batch IS NULL OR e.batch NOT IN (
                   SELECT batch FROM crm_importjob WHERE status = 'undone'
                   UNION ALL SELECT undo_batch FROM crm_importjob WHERE undo_batch IS NOT NULL))
              AND (e.customer_id IN (SELECT customer_id FROM mine WHERE customer_id IS NOT NULL)
                   OR (e.object_type, e.object_id) IN (SELECT object_type, object_id FROM mine))
            """,
            {"batch": job.batch},
        )
        return cursor.fetchone()[0]


def job_undo(*, actor, job: ImportJob) -> ImportJob:
    """Take a committed import back: delete what it created, restore what it updated,
    recorded in the history under a batch of its own. Refused once anything the import
    wrote has changed since."""
    from . import undo

    _require_admin(actor)
    importer = importer_for(job.kind)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK_KEY])
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.DONE:
            raise _state_error(job, _("undone"))
        count = changed_since(job)
        if count:
            raise DomainError(ERR_UNDO_CHANGED % {"count": count})
        job.undo_batch = uuid.uuid4()
        undo.revert(job=job, actor=actor, importer=importer)
        job.status = ImportJob.Status.UNDONE
        job.undone_at = timezone.now()
        job.undone_by = actor
        job.save(update_fields=["status", "undone_at", "undone_by", "undo_batch"])
    return job
