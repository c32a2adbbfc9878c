"""Receivables (应收账款): what customers owe on confirmed orders, by age.

Ages are measured from the due date: not yet due, 1-30, 31-60, 61-90 and over 90 days
past due. Every figure is evaluated by PostgreSQL, in one of two ways that give the
same numbers:

- live, from the orders: `open_items`, `totals`, `by_customer`, `collection_rates`;
  callers pass orders already scoped with `visible_to(user)`;
- stored, from CustomerReceivable (one row per customer, written by
  sales.metrics.refresh from `age_sums` and `due_and_paid`, the expressions `totals`
  and `collection_rates` sum): `stored_summary` and `stored_by_customer`, for pages
  that would otherwise group every open order on each request. They hold only while
  `stored_is_current(today)`: ages and the periods to date move with the calendar, so
  callers fall back to the live figures when it is not (after midnight, until the
  nightly run), and for collection rates of other periods.
"""

import datetime
from decimal import Decimal

from django.db.models import Case, CharField, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .models import CustomerReceivable, Order

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
# The per-customer rows: who, then the amounts (the page, the export and the tests read these keys).
CUSTOMER_COLUMNS = (
    "customer_id",
    "customer__code",
    "customer__name",
    "customer__owner__last_name",
    "customer__owner__first_name",
    "customer__owner__username",
)


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


def age_sums(today: datetime.date) -> dict:
    """Aggregates over outstanding orders: "outstanding" and each bucket's amount.
    Both `totals` and the stored figures (sales.metrics) sum these."""
    owed = F("total") - F("paid_amount")
    sums = {key: Coalesce(Sum(owed, filter=_bucket_q(key, today)), ZERO, output_field=MONEY) for key, _l in BUCKETS}
    sums["outstanding"] = Coalesce(Sum(owed), ZERO, output_field=MONEY)
    return sums


def totals(orders, today: datetime.date) -> dict:
    """{"outstanding", "overdue", and each bucket key: amount} in one query."""
    result = orders.outstanding().aggregate(**age_sums(today))
    result["overdue"] = result["outstanding"] - result["not_due"]
    return result


def by_customer(orders, today: datetime.date):
    """Per customer: outstanding, overdue and each age bucket (`b_<key>`), summed in
    one GROUP BY with a FILTER clause per bucket over the customer's open orders."""
    items = open_items(orders, today).order_by()
    sums = {
        f"b_{key}": Coalesce(Sum("outstanding_amount", filter=Q(bucket=key)), ZERO, output_field=MONEY)
        for key, _label in BUCKETS
    }
    return items.values(*CUSTOMER_COLUMNS).annotate(
        outstanding=Sum("outstanding_amount"),
        overdue=Coalesce(Sum("outstanding_amount", filter=~Q(bucket="not_due")), ZERO, output_field=MONEY),
        **sums,
    )


def to_date(today: datetime.date) -> dict[str, tuple[datetime.date, datetime.date]]:
    """The periods whose collection rates are stored per customer: the month and the
    year to date (the page's default period)."""
    return {"month": (today.replace(day=1), today), "year": (today.replace(month=1, day=1), today)}


def due_and_paid(periods: dict[str, tuple[datetime.date, datetime.date]]) -> dict:
    """Aggregates over receivable orders: for each named period [start, end],
    `<name>_due` (what fell due in it) and `<name>_paid` (what of that is paid).
    Both `collection_rates` and the stored figures (sales.metrics) sum these."""
    sums = {}
    for name, (start, end) in periods.items():
        period = Q(due_date__gte=start, due_date__lte=end)
        sums[f"{name}_due"] = Coalesce(Sum("total", filter=period), ZERO, output_field=MONEY)
        sums[f"{name}_paid"] = Coalesce(Sum("paid_amount", filter=period), ZERO, output_field=MONEY)
    return sums


def _rate(paid: Decimal, due: Decimal) -> Decimal | None:
    return (paid / due * 100).quantize(Decimal("0.1")) if due else None


def collection_rates(orders, periods: list[tuple[datetime.date, datetime.date]]) -> list[Decimal | None]:
    """回款率 of each period [start, end]: of the amounts falling due in it, the share
    collected so far (None when nothing fell due). One query for all the periods,
    reading the orders due between the first start and the last end."""
    named = {f"p{index}": period for index, period in enumerate(periods)}
    figures = orders.filter(
        status__in=Order.RECEIVABLE_STATUSES,
        due_date__gte=min(start for start, _end in periods),
        due_date__lte=max(end for _start, end in periods),
    ).aggregate(**due_and_paid(named))
    return [_rate(figures[f"{name}_paid"], figures[f"{name}_due"]) for name in named]


def collection_rate(orders, start: datetime.date, end: datetime.date) -> Decimal | None:
    """回款率: of the amounts falling due in [start, end], the share collected so far.
    None when nothing fell due."""
    return collection_rates(orders, [(start, end)])[0]


# -- Stored figures -------------------------------------------------------------------------


def stored_is_current(today: datetime.date) -> bool:
    """Whether every customer's stored figures are as of `today` (one index lookup).
    The nightly run and each service's refresh write today's; a row of another day
    holds ages that may since have moved."""
    return not CustomerReceivable.objects.filter(Q(as_of__lt=today) | Q(as_of__gt=today)).exists()


def _owing(figures, bucket: str | None):
    return figures.filter(owed__gt=0) if bucket is None else figures.filter(**{f"owed_{bucket}__gt": 0})


def stored_summary(figures, bucket: str | None = None) -> dict:
    """The page's figures for the customers of `figures` (CustomerReceivable rows,
    filtered on the customer), in one query: "totals", as `totals` of their orders (in
    `bucket`, when given), and "rates", the collection rates of the month and of the
    year to date, as `collection_rates` of their orders over `to_date` (whatever the
    bucket: it is about what is still owed)."""
    keys = [key for key, _label in BUCKETS if bucket in (None, key)]
    sums = {key: Coalesce(Sum(f"owed_{key}"), ZERO, output_field=MONEY) for key in keys}
    sums["outstanding"] = Coalesce(Sum("owed" if bucket is None else f"owed_{bucket}"), ZERO, output_field=MONEY)
    for period in ("month", "year"):
        for part in ("due", "paid"):
            sums[f"sum_{period}_{part}"] = Coalesce(Sum(f"{period}_{part}"), ZERO, output_field=MONEY)
    row = figures.aggregate(**sums)
    totals = {key: row.get(key, ZERO) for key, _label in BUCKETS}
    totals["outstanding"] = row["outstanding"]
    totals["overdue"] = totals["outstanding"] - totals["not_due"]
    rates = {period: _rate(row[f"sum_{period}_paid"], row[f"sum_{period}_due"]) for period in ("month", "year")}
    return {"totals": totals, "rates": rates}


def stored_by_customer(figures, bucket: str | None = None):
    """`by_customer` from the stored rows: the same keys, the same amounts; with a
    `bucket`, the customers owing in it and only that bucket's amounts, as
    `by_customer` of the orders in that bucket gives."""
    if bucket is None:
        amounts = {
            "outstanding": F("owed"),
            "overdue": F("owed") - F("owed_not_due"),
            **{f"b_{key}": F(f"owed_{key}") for key, _label in BUCKETS},
        }
    else:
        owed, zero = F(f"owed_{bucket}"), Value(ZERO, output_field=MONEY)
        amounts = {
            "outstanding": owed,
            "overdue": zero if bucket == "not_due" else owed,
            **{f"b_{key}": owed if key == bucket else zero for key, _label in BUCKETS},
        }
    return _owing(figures, bucket).values(*CUSTOMER_COLUMNS).annotate(**amounts)
