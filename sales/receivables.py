"""Receivables (应收账款): what customers owe on confirmed orders, by age.

Everything here is a queryset expression evaluated by PostgreSQL; callers pass a
queryset already scoped with `visible_to(user)`. Ages are measured from the due date:
not yet due, 1-30, 31-60, 61-90 and over 90 days past due.
"""

import datetime
from decimal import Decimal

from django.db.models import Case, CharField, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .models import Order

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)

BUCKETS = [
    ("not_due", _("Not yet due")),
    ("1_30", _("1–30 days overdue")),
    ("31_60", _("31–60 days overdue")),
    ("61_90", _("61–90 days overdue")),
    ("over_90", _("Over 90 days overdue")),
]
BUCKET_LABELS = dict(BUCKETS)


def _bucket_q(bucket: str, today: datetime.date) -> Q:
    day = datetime.timedelta(days=1)
    ranges = {
        "not_due": Q(due_date__gte=today) | Q(due_date__isnull=True),
        "1_30": Q(due_date__lt=today, due_date__gte=today - 30 * day),
        "31_60": Q(due_date__lt=today - 30 * day, due_date__gte=today - 60 * day),
        "61_90": Q(due_date__lt=today - 60 * day, due_date__gte=today - 90 * day),
        "over_90": Q(due_date__lt=today - 90 * day),
    }
    return ranges[bucket]


def open_items(orders, today: datetime.date):
    """Orders with money outstanding, annotated with `outstanding` and `bucket`."""
    return (
        orders.outstanding()
        .annotate(
            outstanding_amount=F("total") - F("paid_amount"),
            bucket=Case(
                *[When(_bucket_q(key, today), then=Value(key)) for key, _label in BUCKETS],
                output_field=CharField(),
            ),
        )
        .order_by(F("due_date").asc(nulls_last=True), "id")
    )


def in_bucket(orders, bucket: str, today: datetime.date):
    return orders.filter(_bucket_q(bucket, today))


def totals(orders, today: datetime.date) -> dict:
    """{"outstanding", "overdue", and each bucket key: amount} in one query."""
    open_orders = orders.outstanding()
    owed = F("total") - F("paid_amount")
    sums = {key: Coalesce(Sum(owed, filter=_bucket_q(key, today)), ZERO, output_field=MONEY) for key, _l in BUCKETS}
    sums["outstanding"] = Coalesce(Sum(owed), ZERO, output_field=MONEY)
    result = open_orders.aggregate(**sums)
    result["overdue"] = result["outstanding"] - result["not_due"]
    return result


def collection_rate(orders, start: datetime.date, end: datetime.date) -> Decimal | None:
    """回款率: of the amounts falling due in [start, end], the share collected so far.
    None when nothing fell due."""
    due = orders.filter(status__in=Order.RECEIVABLE_STATUSES, due_date__gte=start, due_date__lte=end).aggregate(
        due=Coalesce(Sum("total"), ZERO, output_field=MONEY),
        paid=Coalesce(Sum("paid_amount"), ZERO, output_field=MONEY),
    )
    if not due["due"]:
        return None
    return (due["paid"] / due["due"] * 100).quantize(Decimal("0.1"))
