"""Per-customer stored figures, each table computed by one SQL statement: the sales
figures (CustomerSales) and what the customer owes by age (CustomerReceivable).

`refresh(today=..., customer_ids=None)` recomputes the figures of the given customers,
or of all of them, with one INSERT ... ON CONFLICT UPDATE per table: the nightly job
calls it for everyone, services call it for the one customer whose orders or payments
changed, in the same transaction. Running it twice for the same day gives the same rows.

Two rules keep the stored rows equal to what the orders say, whatever runs at once:
- a service's refresh first locks the customer's row (FOR NO KEY UPDATE), so two
  transactions changing one customer's orders refresh one after the other and the
  second reads what the first committed;
- the nightly run (no lock: it reads everyone) overwrites only the rows whose
  `revision` is still the one it read: a service that refreshed a row after the run
  read the orders bumped it, and its figures are the newer ones.
"""

import datetime

from django.db import connection

from . import receivables
from .models import Order

SALES_SQL = """
INSERT INTO sales_customersales AS cs (
    customer_id, first_order_date, last_order_date, orders_12m, amount_12m,
    receivable, overdue, prepayment, refreshed_on, revision)
SELECT c.id,
       o.first_order, o.last_order, coalesce(o.orders_12m, 0), coalesce(o.amount_12m, 0),
       coalesce(o.receivable, 0), coalesce(o.overdue, 0), coalesce(p.prepayment, 0), %(today)s,
       coalesce(old.revision, 0) + {bump}
FROM customers_customer c
LEFT JOIN (
    SELECT customer_id,
           min(order_date) AS first_order,
           max(order_date) AS last_order,
           count(*) FILTER (WHERE order_date > %(year_ago)s) AS orders_12m,
           sum(total) FILTER (WHERE order_date > %(year_ago)s) AS amount_12m,
           sum(total - paid_amount) AS receivable,
           sum(total - paid_amount) FILTER (WHERE due_date < %(today)s) AS overdue
    FROM sales_order
    WHERE status IN ('confirmed', 'shipped', 'completed') {order_filter}
    GROUP BY customer_id
) o ON o.customer_id = c.id
LEFT JOIN (
    SELECT customer_id, sum(unallocated) AS prepayment
    FROM sales_payment
    WHERE unallocated > 0 {payment_filter}
    GROUP BY customer_id
) p ON p.customer_id = c.id
LEFT JOIN sales_customersales old ON old.customer_id = c.id
{customer_filter}
ON CONFLICT (customer_id) DO UPDATE SET
    first_order_date = EXCLUDED.first_order_date,
    last_order_date = EXCLUDED.last_order_date,
    orders_12m = EXCLUDED.orders_12m,
    amount_12m = EXCLUDED.amount_12m,
    receivable = EXCLUDED.receivable,
    overdue = EXCLUDED.overdue,
    prepayment = EXCLUDED.prepayment,
    refreshed_on = EXCLUDED.refreshed_on,
    {revision}
"""

# The amounts by age and what fell due and was paid to date come from
# receivables.age_sums and receivables.due_and_paid, compiled by the ORM into the grouped
# subqueries `o` and `d`: the stored figures are those sums, by construction.
RECEIVABLES_SQL = """
INSERT INTO sales_customerreceivable AS cr (
    customer_id, owed, owed_not_due, owed_1_30, owed_31_60, owed_61_90, owed_over_90,
    month_due, month_paid, year_due, year_paid, as_of, revision)
SELECT c.id,
       coalesce(o.owed, 0), coalesce(o.owed_not_due, 0), coalesce(o.owed_1_30, 0),
       coalesce(o.owed_31_60, 0), coalesce(o.owed_61_90, 0), coalesce(o.owed_over_90, 0),
       coalesce(d.month_due, 0), coalesce(d.month_paid, 0), coalesce(d.year_due, 0), coalesce(d.year_paid, 0),
       %s, coalesce(old.revision, 0) + {bump}
FROM customers_customer c
LEFT JOIN ({owed_by_customer}) o ON o.customer_id = c.id
LEFT JOIN ({due_by_customer}) d ON d.customer_id = c.id
LEFT JOIN sales_customerreceivable old ON old.customer_id = c.id
{customer_filter}
ON CONFLICT (customer_id) DO UPDATE SET
    owed = EXCLUDED.owed,
    owed_not_due = EXCLUDED.owed_not_due,
    owed_1_30 = EXCLUDED.owed_1_30,
    owed_31_60 = EXCLUDED.owed_31_60,
    owed_61_90 = EXCLUDED.owed_61_90,
    owed_over_90 = EXCLUDED.owed_over_90,
    month_due = EXCLUDED.month_due,
    month_paid = EXCLUDED.month_paid,
    year_due = EXCLUDED.year_due,
    year_paid = EXCLUDED.year_paid,
    as_of = EXCLUDED.as_of,
    {revision}
"""

# A service's refresh always writes, and counts itself (a new row too); the nightly run
# writes a row only if no service refreshed it since the run's statement read the tables.
SERVICE_REVISION = "revision = {table}.revision + 1"
NIGHTLY_REVISION = "revision = {table}.revision WHERE {table}.revision = EXCLUDED.revision"


def refresh(*, today: datetime.date, customer_ids: list[int] | None = None) -> int:
    """Recompute the stored figures as of `today`: of `customer_ids` (a service, inside
    its transaction) or of every customer (the nightly run). Returns the number of
    CustomerSales rows written."""
    with connection.cursor() as cursor:
        if customer_ids is not None:
            cursor.execute(
                "SELECT id FROM customers_customer WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
                [list(customer_ids)],
            )
        _refresh_receivables(cursor, today, customer_ids)
        return _refresh_sales(cursor, today, customer_ids)


def _revision(table: str, customer_ids) -> dict:
    if customer_ids is None:
        return {"bump": 0, "revision": NIGHTLY_REVISION.format(table=table)}
    return {"bump": 1, "revision": SERVICE_REVISION.format(table=table)}


def _refresh_sales(cursor, today: datetime.date, customer_ids) -> int:
    params = {"today": today, "year_ago": today - datetime.timedelta(days=365), "ids": customer_ids}
    filters = {"order_filter": "", "payment_filter": "", "customer_filter": ""}
    if customer_ids is not None:
        filters = {
            "order_filter": "AND customer_id = ANY(%(ids)s)",
            "payment_filter": "AND customer_id = ANY(%(ids)s)",
            "customer_filter": "WHERE c.id = ANY(%(ids)s)",
        }
    cursor.execute(SALES_SQL.format(**filters, **_revision("cs", customer_ids)), params)
    return cursor.rowcount


def _refresh_receivables(cursor, today: datetime.date, customer_ids) -> int:
    owing, due = Order.objects.outstanding(), Order.objects.open()
    if customer_ids is not None:
        owing, due = owing.filter(customer_id__in=customer_ids), due.filter(customer_id__in=customer_ids)
    sums = receivables.age_sums(today)
    columns = {"owed": sums.pop("outstanding"), **{f"owed_{key}": value for key, value in sums.items()}}
    owed_sql, owed_params = _by_customer(owing, columns)
    periods = receivables.to_date(today)
    due = due.filter(due_date__gte=min(start for start, _end in periods.values()), due_date__lte=today)
    due_sql, due_params = _by_customer(due, receivables.due_and_paid(periods))
    sql = RECEIVABLES_SQL.format(
        owed_by_customer=owed_sql,
        due_by_customer=due_sql,
        customer_filter="" if customer_ids is None else "WHERE c.id = ANY(%s)",
        **_revision("cr", customer_ids),
    )
    params = [today, *owed_params, *due_params] + ([list(customer_ids)] if customer_ids is not None else [])
    cursor.execute(sql, params)
    return cursor.rowcount


def _by_customer(orders, aggregates: dict) -> tuple[str, tuple]:
    """The SQL of `aggregates` over `orders`, grouped by customer_id."""
    return orders.order_by().values("customer_id").annotate(**aggregates).query.sql_with_params()
