"""Pages of finance: payments (回款) — list, record, detail — and the receivables page
(应收账款) with its totals, per-order and per-customer views (the exports of these
lists are in sales.views.exports).

Everything is read through `visible_to(user)` (an invisible payment is a 404); only
finance and admins record payments (403 for the others); writing is left to
sales.services.payment_record and the figures to sales.receivables.
"""

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from crm.errors import DomainError, add_domain_error
from crm.models import User
from crm.pagination import CappedPaginator, list_context
from customers.models import Customer
from sales import receivables, services
from sales.forms.finance import CUSTOMER_CHOICES, PaymentFilter, PaymentForm, PeriodForm, ReceivableFilter
from sales.models import CustomerReceivable, Order, Payment

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


# -- Payments -----------------------------------------------------------------------------


def payment_filterset(request) -> PaymentFilter:
    """The payment list's FilterSet on what the user sees, bound to the query string:
    the list page and its export (sales.views.exports) both read `.qs` from here."""
    payments = Payment.objects.visible_to(request.user).select_related("customer", "recorded_by")
    return PaymentFilter(request.GET, queryset=payments, request=request)


@login_required
@require_GET
def payment_list(request):
    return render(
        request,
        "sales/finance/payment_list.html",
        {
            **list_context(request, payment_filterset(request), PAGE_SIZE),
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
                add_domain_error(form, error)
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


def _receivables_query(request, today: datetime.date, *, stored: bool = False) -> dict:
    """What the page and its export share: the filtered orders and the view's rows.

    With `stored` (the page), `figures` are the filtered stored per-customer figures
    when they are as of today, and the per-customer rows come from them; else (and for
    the export, which reads every row through one cursor) the orders are grouped."""
    orders = Order.objects.visible_to(request.user)
    filterset = ReceivableFilter(request.GET, queryset=orders, request=request, today=today)
    view = request.GET.get("view") if request.GET.get("view") in dict(VIEWS) else BY_ORDER
    sorts = CUSTOMER_SORTS if view == BY_CUSTOMER else ORDER_SORTS
    ordering = request.GET.get("ordering") if request.GET.get("ordering") in sorts else DEFAULT_SORT[view]
    figures = None
    if stored and receivables.stored_is_current(today):
        figures = filterset.without_age(CustomerReceivable.objects.visible_to(request.user))
    if view == BY_CUSTOMER and figures is not None:
        rows = receivables.stored_by_customer(figures, filterset.age())
    elif view == BY_CUSTOMER:
        rows = receivables.by_customer(filterset.qs, today)
    else:
        rows = receivables.open_items(filterset.qs, today).select_related("customer", "customer__owner")
    return {
        "filterset": filterset,
        "figures": figures,
        "view": view,
        "ordering": ordering,
        "rows": rows.order_by(*sorts[ordering]),
    }


@login_required
@require_GET
def receivables_page(request):
    today = timezone.localdate()
    query = _receivables_query(request, today, stored=True)
    filterset, figures = query["filterset"], query["figures"]
    period_form = PeriodForm(request.GET)
    start, end = period_form.period(today)
    to_date = receivables.to_date(today)
    # The collection rates follow the customer filters but not the age filter, which
    # is about what is still owed.
    rate_orders = filterset.without_age(filterset.queryset)
    if figures is not None:
        summary = receivables.stored_summary(figures, filterset.age())
        totals, month_rate = summary["totals"], summary["rates"]["month"]
        if (start, end) == to_date["year"]:
            period_rate = summary["rates"]["year"]
        else:
            period_rate = receivables.collection_rate(rate_orders, start, end)
    else:
        totals = receivables.totals(filterset.qs, today)
        month_rate, period_rate = receivables.collection_rates(rate_orders, [to_date["month"], (start, end)])
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
            "month_rate": month_rate,
            "period_rate": period_rate,
            "period": (start, end),
            "period_form": period_form,
            "filtered": any(request.GET.get(name) for name in filterset.form.fields),
            "can_record": records_payments(request.user),
        },
    )
