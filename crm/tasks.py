"""Celery tasks of the foundation: thin wrappers that take plain values."""

import datetime

from celery import shared_task
from django.utils import timezone


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def run_nightly(date: str | None = None) -> dict | None:
    from crm import nightly

    today = datetime.date.fromisoformat(date) if date else timezone.localdate()
    return nightly.run(today=today)
