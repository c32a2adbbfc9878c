"""Running an import's dry run or commit for the pages: small files at once, large
ones on Celery; the progress where a page can read it; jobs whose process died.

Progress. A commit is one database transaction, so nothing it writes (the job's own
rows_done included) is visible before it ends. The runner publishes rows done / rows
total to the cache (Redis) instead, keyed by the job's id; the progress page reads the
job's status and that entry, so it survives a reload. A job queued for a worker but
not yet started has a "queued" entry (for an hour at most).

Interrupted jobs. Whoever runs a job holds a PostgreSQL session advisory lock on it
(LOCK_CLASS, job id) for the whole run; PostgreSQL drops it when the process dies.
A job marked running whose lock is free has lost its process: `reap` marks it failed.
Nothing of it was written: a commit is one transaction and a dry run writes nothing.
The job pages reap the job they show, and the nightly run reaps every such job.
"""

import contextlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from crm.errors import DomainError
from crm.models import ImportJob

from . import engine

logger = logging.getLogger(__name__)

DRY_RUN, COMMIT = "dry_run", "commit"
ACTIONS = (DRY_RUN, COMMIT)
# Files with more data rows than this run on a Celery worker; smaller ones while the
# admin waits (a few seconds at most).
INLINE_ROWS = 2000
# The first argument of the two-key advisory lock a job's runner holds.
LOCK_CLASS = 48_151_623
PROGRESS_TTL = 24 * 60 * 60
# A job queued this long without a worker starting it (the message lost, no worker
# running) may be started again; should the first task run after all, the engine lets
# only one of them claim the job.
QUEUED_TTL = 60 * 60

ERR_RUNNING = _("This import is already running.")
ERR_NOT_CHECKED = _("Check the file first (dry run): the import starts from its preview.")
ERR_INTERRUPTED = _("The import was interrupted (its process stopped); nothing was written. Start it again.")


def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def progress_of(job: ImportJob) -> dict | None:
    """{"action", "state" ("queued" or "running"), "done", "total"} or None."""
    return cache.get(progress_key(job.pk))


def _publish(job_id: int, action: str, state: str, done: int, total: int) -> None:
    value = {"action": action, "state": state, "done": done, "total": total}
    cache.set(progress_key(job_id), value, timeout=QUEUED_TTL if state == "queued" else PROGRESS_TTL)


@contextlib.contextmanager
def _job_lock(job_id: int):
    """Yields whether this process now holds the job's lock (released on leaving)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, job_id])
        (acquired,) = cursor.fetchone()
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, job_id])
            except DatabaseError:
                # The connection is gone, and its session's locks with it.
                logger.exception("could not release the lock of import #%s", job_id)


def _require_admin(actor) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_admin_role:
        raise DomainError(engine.ERR_ADMIN_ONLY)


def checked(job: ImportJob) -> bool:
    """Whether every row of the file has been checked with the current mapping: after a
    dry run, or after an all-or-nothing commit that met a reject (it checks the rest)."""
    if job.status == ImportJob.Status.PREVIEWED:
        return True
    report = job.report or {}
    if job.status != ImportJob.Status.FAILED or report.get("interrupted"):
        return False
    return job.rows_total > 0 and sum((report.get("counts") or {}).values()) == job.rows_total


def startable(job: ImportJob, action: str) -> bool:
    if job.status not in engine.RUNNABLE or is_queued(job):
        return False
    return action == DRY_RUN or (job.mapping_confirmed and checked(job))


def is_queued(job: ImportJob) -> bool:
    progress = progress_of(job)
    return job.status != ImportJob.Status.RUNNING and bool(progress) and progress.get("state") == "queued"


def start(*, actor, job: ImportJob, action: str, mode: str | None = None) -> bool:
    """Start a dry run or a commit (in `mode`, when given): at once for a small file, else
    on a worker once the caller's transaction commits. Returns whether it was queued."""
    _require_admin(actor)
    if action not in ACTIONS:
        raise ValueError(action)
    job.refresh_from_db()
    if job.status == ImportJob.Status.RUNNING or is_queued(job):
        raise DomainError(ERR_RUNNING)
    if job.status not in engine.RUNNABLE:
        raise engine._state_error(job, _("run"))
    if action == COMMIT and not (job.mapping_confirmed and checked(job)):
        raise DomainError(ERR_NOT_CHECKED)
    if mode and mode != job.mode:
        if mode not in ImportJob.Mode.values:
            raise ValueError(mode)
        job.mode = mode
    job.language = translation.get_language() or settings.LANGUAGE_CODE
    job.save(update_fields=["mode", "language"])
    if job.rows_total <= INLINE_ROWS:
        run(job_id=job.pk, action=action)
        job.refresh_from_db()
        return False
    from crm import tasks

    def queue():
        _publish(job.pk, action, "queued", 0, job.rows_total)
        tasks.run_import.delay(job.pk, action)

    transaction.on_commit(queue)
    return True


def run(*, job_id: int, action: str, progress=None) -> ImportJob:
    """Run the job's dry run or commit in this process, holding its lock and publishing
    its progress (`progress(done, total)` is called too, after publishing). Raises the
    engine's DomainError when it refuses; an all-or-nothing commit that met a reject
    returns the job failed."""
    with _job_lock(job_id) as acquired:
        if not acquired:
            raise DomainError(ERR_RUNNING)
        job = ImportJob.objects.select_related("created_by").get(pk=job_id)

        def publish(done: int, total: int) -> None:
            _publish(job_id, action, "running", done, total)
            if progress:
                progress(done, total)

        step = engine.job_commit if action == COMMIT else engine.job_dry_run
        try:
            # In the language of whoever started it (the command line: the caller's own).
            with translation.override(job.language) if job.language else contextlib.nullcontext():
                return step(job=job, progress=publish)
        finally:
            cache.delete(progress_key(job_id))


def reap(job: ImportJob) -> bool:
    """Mark the job failed when it is "running" but no process runs it (its lock is
    free): a worker or server killed mid-run. Returns whether it did."""
    if job.status != ImportJob.Status.RUNNING:
        return False
    with _job_lock(job.pk) as acquired:
        if not acquired:
            return False
        job.refresh_from_db()
        # The report is the one before this run, perhaps of another mapping: the file
        # is checked again before it may be imported.
        report = {**(job.report or {}), "interrupted": True}
        reaped = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.FAILED, error=str(ERR_INTERRUPTED), finished_at=timezone.now(), report=report
        )
    if reaped:
        logger.warning("import #%s was interrupted and is marked failed", job.pk)
        cache.delete(progress_key(job.pk))
        job.refresh_from_db()
    return bool(reaped)


def reap_all() -> int:
    """Every interrupted job marked failed (the nightly run calls this)."""
    return sum(reap(job) for job in ImportJob.objects.filter(status=ImportJob.Status.RUNNING))
