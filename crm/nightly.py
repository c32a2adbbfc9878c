"""The nightly run: every job that recomputes stored figures, in order, once per date.

Guarded by a PostgreSQL advisory lock, so two runs at once (beat firing while someone
runs the command by hand) never overlap: the second one waits for nothing and says so.
Each job is idempotent for its date, so running the same date twice changes nothing.
Later issues add their jobs (tiers, alerts, care messages) to JOBS.
"""

import datetime
import logging

from django.db import connection, transaction

logger = logging.getLogger(__name__)
LOCK_KEY = 4_242_001  # any constant shared by every process running the nightly jobs


def _contracts(today):
    from sales.services import contracts_expire

    return contracts_expire(today=today)


def _sales_metrics(today):
    from sales import metrics

    return metrics.refresh(today=today)


JOBS = [("contracts_expire", _contracts), ("sales_metrics", _sales_metrics)]


def run(*, today: datetime.date) -> dict | None:
    """Run every job for `today`; None when another run holds the lock."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
            (locked,) = cursor.fetchone()
        if not locked:
            logger.warning("nightly run for %s skipped: another run is in progress", today)
            return None
        results = {}
        for name, job in JOBS:
            results[name] = job(today)
            logger.info("nightly %s for %s: %s", name, today, results[name])
        return results
