"""Each customer's stored visit status (CustomerVisits), computed by one SQL statement.

`refresh(today=..., customer_ids=None)` recomputes the last visit, the interval of the
customer's frequency standard and the next due date for the given customers, or for all
of them, with one INSERT ... ON CONFLICT UPDATE (like sales.metrics): visits call it for
their customer, a change of the standards and the nightly job for everyone. Running it
twice for the same day gives the same rows.

The standard that applies is the most specific one matching the customer (most criteria
set, then the shortest interval): a blank criterion matches any value. A customer never
visited is due one interval after it entered the archive; a closed customer is never due.
Tiers, grades and strategic classes become further criteria: one more
`(f.<criterion> = '' OR f.<criterion> = c.<criterion>)` condition and one more term in
the specificity count below.
"""

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from crm import audit
from crm.errors import DomainError
from crm.models import AuditEvent, User

from ..models import VisitFrequency

REFRESH_SQL = """
INSERT INTO visits_customervisits AS cv (customer_id, last_visit_date, interval_days, next_due_date, refreshed_on)
SELECT c.id,
       v.last_visit,
       f.interval_days,
       CASE WHEN f.interval_days IS NULL OR c.status = 'closed' THEN NULL
            ELSE coalesce(v.last_visit, (c.created_at AT TIME ZONE %(tz)s)::date) + f.interval_days
       END,
       %(today)s
FROM customers_customer c
LEFT JOIN (
    SELECT customer_id, max(visit_date) AS last_visit
    FROM visits_visit
    WHERE visit_date <= %(today)s {visit_filter}
    GROUP BY customer_id
) v ON v.customer_id = c.id
LEFT JOIN LATERAL (
    SELECT f.interval_days
    FROM visits_visitfrequency f
    WHERE (f.customer_type = '' OR f.customer_type = c.type)
    ORDER BY (f.customer_type <> '')::int DESC, f.interval_days
    LIMIT 1
) f ON true
{customer_filter}
ON CONFLICT (customer_id) DO UPDATE SET
    last_visit_date = EXCLUDED.last_visit_date,
    interval_days = EXCLUDED.interval_days,
    next_due_date = EXCLUDED.next_due_date,
    refreshed_on = EXCLUDED.refreshed_on
"""


def refresh(*, today: datetime.date, customer_ids: list[int] | None = None) -> int:
    """Recompute the visit status as of `today`; returns the number of rows written."""
    params = {"today": today, "tz": settings.TIME_ZONE, "ids": customer_ids}
    if customer_ids is None:
        sql = REFRESH_SQL.format(visit_filter="", customer_filter="")
    else:
        sql = REFRESH_SQL.format(
            visit_filter="AND customer_id = ANY(%(ids)s)", customer_filter="WHERE c.id = ANY(%(ids)s)"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# -- Frequency standards (admins) ----------------------------------------------------------

ERR_ADMIN_ONLY = gettext_lazy("Only an admin changes the visit frequency standards.")
ERR_DUPLICATE = gettext_lazy("There is already a standard for this customer type.")


def _check_admin(actor: User) -> None:
    if not actor.is_admin_role:
        raise DomainError(ERR_ADMIN_ONLY)


def frequency_save(*, actor: User, frequency: VisitFrequency) -> VisitFrequency:
    """Create or change a standard, then recompute every customer's due date."""
    _check_admin(actor)
    with transaction.atomic():
        is_new = frequency.pk is None
        if VisitFrequency.objects.filter(customer_type=frequency.customer_type).exclude(pk=frequency.pk).exists():
            raise DomainError(ERR_DUPLICATE, field="customer_type")
        before = {} if is_new else audit.snapshot(VisitFrequency.objects.select_for_update().get(pk=frequency.pk))
        frequency.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            obj=frequency,
            customer_id=None,
            changes=audit.diff(before, audit.snapshot(frequency)),
        )
        refresh(today=timezone.localdate())
    return frequency


def frequency_delete(*, actor: User, frequency: VisitFrequency) -> None:
    _check_admin(actor)
    with transaction.atomic():
        before = audit.snapshot(frequency)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=frequency,
            customer_id=None,
            changes={k: [v, None] for k, v in before.items() if v not in (None, "")},
        )
        frequency.delete()
        refresh(today=timezone.localdate())
