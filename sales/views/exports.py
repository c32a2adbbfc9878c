"""Exports of the sales lists (crm.exports): orders, payments and receivables.

Each export reads the rows of its list page: the same FilterSet (or, for receivables,
the same query of the page's current view), built by the same function from the same
query string, on what the user sees.
"""

import datetime
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from crm import exports
from crm.exports import DATE, INTEGER, MONEY, Column, person
from sales import receivables
from sales.models import Order, Payment

from .finance import BY_CUSTOMER, _receivables_query, payment_filterset
from .orders import order_filterset

ZERO = Decimal("0.00")

# -- Orders -----------------------------------------------------------------------------------


def _outstanding(row: dict) -> Decimal:
    # As Order.outstanding: only confirmed orders are owed.
    return row["total"] - row["paid_amount"] if row["status"] in Order.RECEIVABLE_STATUSES else ZERO


ORDER_COLUMNS = [
    Column(gettext_lazy("Order"), "number"),
    Column(gettext_lazy("Customer code"), "customer__code"),
    Column(gettext_lazy("Customer"), "customer__name"),
    person(gettext_lazy("Owner rep"), "customer__owner"),
    Column(gettext_lazy("Order date"), "order_date", DATE),
    Column(gettext_lazy("Status"), "status", choices=Order.Status.choices),
    Column(gettext_lazy("Contract"), "contract__number"),
    Column(gettext_lazy("Payment term (days)"), "payment_term_days", INTEGER),
    Column(gettext_lazy("Due date"), "due_date", DATE),
    Column(gettext_lazy("Total"), "total", MONEY),
    Column(gettext_lazy("Paid"), "paid_amount", MONEY),
    Column(gettext_lazy("Outstanding"), value=_outstanding, needs=("status", "total", "paid_amount"), kind=MONEY),
]


@login_required
@require_GET
def order_export(request):
    filterset = order_filterset(request)
    return exports.export_list(request, filterset.qs, ORDER_COLUMNS, filename="orders", title=_("Orders"))


# -- Payments ---------------------------------------------------------------------------------

PAYMENT_COLUMNS = [
    Column(gettext_lazy("Payment"), "number"),
    Column(gettext_lazy("Date"), "date", DATE),
    Column(gettext_lazy("Customer code"), "customer__code"),
    Column(gettext_lazy("Customer"), "customer__name"),
    Column(gettext_lazy("Method"), "method", choices=Payment.Method.choices),
    Column(gettext_lazy("Reference"), "reference"),
    Column(gettext_lazy("Amount"), "amount", MONEY),
    Column(gettext_lazy("Unallocated"), "unallocated", MONEY),
    person(gettext_lazy("Recorded by"), "recorded_by"),
]


@login_required
@require_GET
def payment_export(request):
    filterset = payment_filterset(request)
    return exports.export_list(request, filterset.qs, PAYMENT_COLUMNS, filename="payments", title=_("Payments"))


# -- Receivables ------------------------------------------------------------------------------


def receivable_order_columns(today: datetime.date) -> list[Column]:
    """The per-order view: one row per order with money outstanding."""

    def days_overdue(row: dict) -> int:
        # Every row is owed (open items only), so as Order.days_overdue.
        due = row["due_date"]
        return (today - due).days if due is not None and due < today else 0

    return [
        Column(gettext_lazy("Order"), "number"),
        Column(gettext_lazy("Customer code"), "customer__code"),
        Column(gettext_lazy("Customer"), "customer__name"),
        person(gettext_lazy("Owner rep"), "customer__owner"),
        Column(gettext_lazy("Order date"), "order_date", DATE),
        Column(gettext_lazy("Due date"), "due_date", DATE),
        Column(gettext_lazy("Days overdue"), value=days_overdue, needs=("due_date",), kind=INTEGER),
        Column(gettext_lazy("Age"), "bucket", choices=receivables.BUCKETS),
        Column(gettext_lazy("Total"), "total", MONEY),
        Column(gettext_lazy("Paid"), "paid_amount", MONEY),
        Column(gettext_lazy("Outstanding"), "outstanding_amount", MONEY),
    ]


# The per-customer view: what each customer owes, by age (sales.views.finance.receivables_by_customer).
RECEIVABLE_CUSTOMER_COLUMNS = [
    Column(gettext_lazy("Customer code"), "customer__code"),
    Column(gettext_lazy("Customer"), "customer__name"),
    person(gettext_lazy("Owner rep"), "customer__owner"),
    Column(gettext_lazy("Outstanding"), "outstanding", MONEY),
    Column(gettext_lazy("Overdue"), "overdue", MONEY),
    *(Column(label, f"b_{key}", MONEY) for key, label in receivables.BUCKETS),
]


@login_required
@require_GET
def receivables_export(request):
    """The current view of the receivables page, with its filters and sort."""
    today = timezone.localdate()
    query = _receivables_query(request, today)
    columns = RECEIVABLE_CUSTOMER_COLUMNS if query["view"] == BY_CUSTOMER else receivable_order_columns(today)
    return exports.export_list(
        request, query["rows"], columns, filename=f"receivables-{query['view']}", title=_("Receivables")
    )
