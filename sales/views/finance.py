"""Pages of finance: payments (回款) — list, record, detail — and the receivables page
(应收账款) with its totals, per-order and per-customer views and export.

Everything is read through `visible_to(user)` (an invisible payment is a 404); only
finance and admins record payments (403 for the others); writing is left to
sales.services.payment_record and the figures to sales.receivables.
"""

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from crm import exports
from crm.errors import DomainError
from crm.models import User
from crm.pagination import CappedPaginator
from customers.models import Customer
from sales import receivables, services
from sales.forms.finance import CUSTOMER_CHOICES, PaymentFilter, PaymentForm, PeriodForm, ReceivableFilter
from sales.models import Order, Payment

PAGE_SIZE = 25
ZERO = Decimal("0.00")

BY_ORDER, BY_CUSTOMER = "orders", "customers"
VIEWS = [(BY_ORDER, gettext_lazy("Per order")), (BY_CUSTOMER, gettext_lazy("Per customer"))]
# ?ordering= of each view: the column sorted on ("-" for descending). Per order,
# "overdue" sorts by how long ago the order fell due.
ORDER_SORTS = {
    "outstanding": ["outstanding_amount", "id"],
    "-outstanding": ["-outstanding_amount", "id"],
    "overdue": ["-due_date", "id"],
    "-overdue": ["due_date", "id"],
}
CUSTOMER_SORTS = {
    "outstanding": ["outstanding", "customer_id"],
    "-outstanding": ["-outstanding", "customer_id"],
    "overdue": ["overdue", "customer_id"],
    "-overdue": ["-overdue", "customer_id"],
}
DEFAULT_SORT = {BY_ORDER: "-overdue", BY_CUSTOMER: "-outstanding"}


# -- Access -------------------------------------------------------------------------------


def records_payments(user: User) -> bool:
    return user.is_admin_role or user.role == User.Role.FINANCE


def _require_payment_role(user: User) -> None:
    if not records_payments(user):
        raise PermissionDenied


def _visible_customer(user: User, raw) -> Customer:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(Customer.objects.visible_to(user), pk=pk)


def _add_domain_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


# -- Payments -----------------------------------------------------------------------------


@login_required
@require_GET
def payment_list(request):
    payments = Payment.objects.visible_to(request.user).select_related("customer", "recorded_by")
    filterset = PaymentFilter(request.GET, queryset=payments, request=request)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sales/finance/payment_list.html",
        {
            "filterset": filterset,
            "page": page,
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
            "can_record": records_payments(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def payment_create(request):
    _require_payment_role(request.user)
    chosen = request.POST.get("customer") if request.method == "POST" else request.GET.get("customer")
    customer = _visible_customer(request.user, chosen) if chosen else None
    options = [customer] if customer else []
    if request.method == "POST":
        form = PaymentForm(request.POST, user=request.user, customer_options=options)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = services.payment_record(
                    actor=request.user,
                    customer=data["customer"],
                    date=data["date"],
                    amount=data["amount"],
                    method=data["method"],
                    reference=data["reference"],
                    notes=data["notes"],
                    order_ids=form.order_ids(),
                )
            except DomainError as error:
                _add_domain_error(form, error)
            else:
                messages.success(request, _("Payment %(number)s recorded.") % {"number": payment.number})
                return redirect("sales:payment_detail", pk=payment.pk)
    else:
        initial = {"customer": customer, "date": timezone.localdate()}
        form = PaymentForm(initial=initial, user=request.user, customer_options=options)
    context = {"form": form, "customer": customer, "customer_totals": _customer_totals(form.customer_id)}
    return render(request, "sales/finance/payment_form.html", context)


@login_required
@require_GET
def payment_customer_options(request):
    """The payment form's customer select, holding the customers matching ?q=."""
    _require_payment_role(request.user)
    query = request.GET.get("q", "").strip()
    matches = Customer.objects.visible_to(request.user).search(query).order_by("name", "pk")[:CUSTOMER_CHOICES]
    form = PaymentForm(user=request.user, customer_options=list(matches) if query else [])
    return render(request, "sales/finance/_customer_select.html", {"form": form, "query": query})


@login_required
@require_GET
def payment_open_orders(request):
    """The payment form's list of the chosen customer's open orders (htmx partial)."""
    _require_payment_role(request.user)
    raw = request.GET.get("customer")
    customer = _visible_customer(request.user, raw) if raw else None
    form = PaymentForm(
        initial={"customer": customer}, user=request.user, customer_options=[customer] if customer else []
    )
    context = {"form": form, "customer": customer, "customer_totals": _customer_totals(form.customer_id)}
    return render(request, "sales/finance/_open_orders.html", context)


def _customer_totals(customer_id: int | None) -> dict | None:
    """What the chosen customer owes, shown beside its open orders (the caller checked it is visible)."""
    if customer_id is None:
        return None
    return receivables.totals(Order.objects.filter(customer_id=customer_id), timezone.localdate())


@login_required
@require_GET
def payment_detail(request, pk: int):
    payment = get_object_or_404(
        Payment.objects.visible_to(request.user).select_related("customer", "recorded_by"), pk=pk
    )
    allocations = payment.allocations.select_related("order").order_by("id")
    return render(
        request,
        "sales/finance/payment_detail.html",
        {"payment": payment, "allocations": allocations, "allocated": payment.amount - payment.unallocated},
    )


# -- Receivables --------------------------------------------------------------------------


def receivables_by_customer(orders, today: datetime.date):
    """Per customer: outstanding, overdue and each age bucket, summed in one GROUP BY
    with a FILTER clause per bucket over the customer's open orders."""
    items = receivables.open_items(orders, today).order_by()
    sums = {
        f"b_{key}": Coalesce(Sum("outstanding_amount", filter=Q(bucket=key)), ZERO, output_field=receivables.MONEY)
        for key, _label in receivables.BUCKETS
    }
    return items.values(
        "customer_id",
        "customer__code",
        "customer__name",
        "customer__owner__last_name",
        "customer__owner__first_name",
        "customer__owner__username",
    ).annotate(
        outstanding=Sum("outstanding_amount"),
        overdue=Coalesce(Sum("outstanding_amount", filter=~Q(bucket="not_due")), ZERO, output_field=receivables.MONEY),
        **sums,
    )


def _owner_name(row: dict) -> str:
    return (
        f"{row['customer__owner__last_name']}{row['customer__owner__first_name']}" or row["customer__owner__username"]
    )


def _receivables_query(request, today: datetime.date) -> dict:
    """What the page and its export share: the filtered orders and the view's rows."""
    orders = Order.objects.visible_to(request.user)
    filterset = ReceivableFilter(request.GET, queryset=orders, request=request, today=today)
    view = request.GET.get("view") if request.GET.get("view") in dict(VIEWS) else BY_ORDER
    sorts = CUSTOMER_SORTS if view == BY_CUSTOMER else ORDER_SORTS
    ordering = request.GET.get("ordering") if request.GET.get("ordering") in sorts else DEFAULT_SORT[view]
    if view == BY_CUSTOMER:
        rows = receivables_by_customer(filterset.qs, today)
    else:
        rows = receivables.open_items(filterset.qs, today).select_related("customer", "customer__owner")
    return {"filterset": filterset, "view": view, "ordering": ordering, "rows": rows.order_by(*sorts[ordering])}


@login_required
@require_GET
def receivables_page(request):
    today = timezone.localdate()
    query = _receivables_query(request, today)
    filterset = query["filterset"]
    # The collection rates follow the customer filters but not the age filter, which
    # is about what is still owed.
    rate_data = request.GET.copy()
    rate_data.pop("bucket", None)
    rate_orders = ReceivableFilter(rate_data, queryset=filterset.queryset, request=request, today=today).qs
    period_form = PeriodForm(request.GET)
    start, end = period_form.period(today)
    totals = receivables.totals(filterset.qs, today)
    page = CappedPaginator(query["rows"], PAGE_SIZE).get_page(request.GET.get("page"))
    if query["view"] == BY_ORDER:
        for order in page:
            order.bucket_label = receivables.BUCKET_LABELS[order.bucket]
    return render(
        request,
        "sales/finance/receivables.html",
        {
            **query,
            "page": page,
            "views": VIEWS,
            "today": today,
            "totals": totals,
            "buckets": [(key, label, totals[key]) for key, label in receivables.BUCKETS],
            "month_rate": receivables.collection_rate(rate_orders, today.replace(day=1), today),
            "period_rate": receivables.collection_rate(rate_orders, start, end),
            "period": (start, end),
            "period_form": period_form,
            "filtered": any(request.GET.get(name) for name in filterset.form.fields),
            "can_record": records_payments(request.user),
        },
    )


@login_required
@require_GET
def receivables_export(request):
    """The current view of the receivables page, with its filters, as ?format=csv (the
    default) or xlsx."""
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        raise Http404
    today = timezone.localdate()
    query = _receivables_query(request, today)
    if query["view"] == BY_CUSTOMER:
        headers, rows = _customer_export(query["rows"])
    else:
        headers, rows = _order_export(query["rows"], today)
    return exports.export_response(
        filename=f"receivables-{query['view']}-{today:%Y%m%d}",
        headers=headers,
        rows=rows,
        fmt=fmt,
        title=_("Receivables"),
    )


def _order_export(items, today: datetime.date):
    # The rows are written after the view returns: translate the labels now.
    ages = {key: str(label) for key, label in receivables.BUCKETS}
    headers = [
        _("Order"),
        _("Customer code"),
        _("Customer"),
        _("Owner rep"),
        _("Order date"),
        _("Due date"),
        _("Days overdue"),
        _("Age"),
        _("Total"),
        _("Paid"),
        _("Outstanding"),
    ]
    rows = (
        [
            order.number,
            order.customer.code,
            order.customer.name,
            str(order.customer.owner),
            order.order_date,
            order.due_date,
            order.days_overdue(today),
            ages[order.bucket],
            order.total,
            order.paid_amount,
            order.outstanding_amount,
        ]
        for order in items.iterator(chunk_size=2000)
    )
    return headers, rows


def _customer_export(grouped):
    labels = [str(label) for _key, label in receivables.BUCKETS]
    headers = [_("Customer code"), _("Customer"), _("Owner rep"), _("Outstanding"), _("Overdue"), *labels]
    rows = (
        [
            row["customer__code"],
            row["customer__name"],
            _owner_name(row),
            row["outstanding"],
            row["overdue"],
            *(row[f"b_{key}"] for key, _label in receivables.BUCKETS),
        ]
        for row in grouped.iterator(chunk_size=2000)
    )
    return headers, rows
