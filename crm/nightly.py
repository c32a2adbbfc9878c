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


def _visit_plans_missed(today):
    from visits.services.plans import plans_mark_missed

    return plans_mark_missed(today=today)


def _visit_cadence(today):
    from visits.services import cadence

    return cadence.refresh(today=today)


def _visit_locations(today):
    from visits.services.visits import visit_locations_expire

    return visit_locations_expire(today=today)


def _imports_interrupted(today):
    from crm.imports import background

    return background.reap_all()


JOBS = [
    ("imports_interrupted", _imports_interrupted),
    ("contracts_expire", _contracts),
    ("sales_metrics", _sales_metrics),
    ("visit_plans_missed", _visit_plans_missed),
    ("visit_cadence", _visit_cadence),
    ("visit_locations_expire", _visit_locations),
]


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
