"""Celery tasks of visits and care: thin wrappers that take plain values (a date as
YYYY-MM-DD, an id) and call the services. Retrying is safe: every message is claimed
before it is sent, so a retry sends only what was not claimed yet."""

import datetime

from celery import shared_task
from django.utils import timezone


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def send_care_messages(date: str | None = None) -> dict:
    """The day's birthday and holiday greetings (beat runs it every morning)."""
    from visits.services import care

    day = datetime.date.fromisoformat(date) if date else timezone.localdate()
    return care.care_messages_send(day=day)


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def send_campaign(campaign_id: int) -> dict:
    """A bulk message too large to send while the sender waits."""
    from visits.services import campaigns

    return campaigns.campaign_deliver(campaign_id=campaign_id)
