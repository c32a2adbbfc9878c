"""Celery tasks of the foundation: thin wrappers that take plain values."""

import datetime
import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def run_nightly(date: str | None = None) -> dict | None:
    from crm import nightly

    today = datetime.date.fromisoformat(date) if date else timezone.localdate()
    return nightly.run(today=today)


@shared_task(acks_late=False)
def run_import(job_id: int, action: str) -> dict:
    """A spreadsheet import's dry run or commit, too large to run while the admin waits.

    Never retried: a job that failed stays failed until an admin starts it again. Not
    acknowledged late either: a worker killed mid-run leaves the job "running", and
    the pages mark it interrupted (crm.imports.background.reap) rather than a second
    worker running it again unasked."""
    from crm.errors import DomainError
    from crm.imports import background

    try:
        job = background.run(job_id=job_id, action=action)
    except DomainError as error:
        logger.warning("import #%s %s refused: %s", job_id, action, error.message)
        return {"job": job_id, "action": action, "error": str(error.message)}
    return {"job": job_id, "action": action, "status": job.status, "counts": job.counts}
