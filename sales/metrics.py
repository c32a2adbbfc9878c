"""Per-customer sales figures (CustomerSales), computed by one SQL statement.

`refresh(today=..., customer_ids=None)` recomputes the figures of the given customers,
or of all of them, with one INSERT ... ON CONFLICT UPDATE: the nightly job calls it for
everyone, services call it for the one customer whose orders or payments changed.
Running it twice for the same day gives the same rows.
"""

import datetime

from django.db import connection

REFRESH_SQL = """
INSERT INTO sales_customersales AS cs (
    customer_id, first_order_date, last_order_date, orders_12m, amount_12m,
    receivable, overdue, prepayment, refreshed_on)
SELECT c.id,
       o.first_order, o.last_order, coalesce(o.orders_12m, 0), coalesce(o.amount_12m, 0),
       coalesce(o.receivable, 0), coalesce(o.overdue, 0), coalesce(p.prepayment, 0), %(today)s
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
{customer_filter}
ON CONFLICT (customer_id) DO UPDATE SET
    first_order_date = EXCLUDED.first_order_date,
    last_order_date = EXCLUDED.last_order_date,
    orders_12m = EXCLUDED.orders_12m,
    amount_12m = EXCLUDED.amount_12m,
    receivable = EXCLUDED.receivable,
    overdue = EXCLUDED.overdue,
    prepayment = EXCLUDED.prepayment,
    refreshed_on = EXCLUDED.refreshed_on
"""


def refresh(*, today: datetime.date, customer_ids: list[int] | None = None) -> int:
    """Recompute the sales figures as of `today`; returns the number of rows written."""
    params = {"today": today, "year_ago": today - datetime.timedelta(days=365), "ids": customer_ids}
    if customer_ids is None:
        sql = REFRESH_SQL.format(order_filter="", payment_filter="", customer_filter="")
    else:
        sql = REFRESH_SQL.format(
            order_filter="AND customer_id = ANY(%(ids)s)",
            payment_filter="AND customer_id = ANY(%(ids)s)",
            customer_filter="WHERE c.id = ANY(%(ids)s)",
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
