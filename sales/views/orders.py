"""Pages of orders and targets: the order list, the order form (create, and edit while
draft) with its htmx price preview and "Add line" row, the order detail, status
changes, and the monthly targets with their achievement.

Every order is fetched through `Order.objects.visible_to` (an invisible order is a 404);
writing needs the customer to be editable by the user (finance: 403). Prices and totals
come from sales.services and the database, never from the form.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.errors import DomainError, add_domain_error
from crm.models import AuditEvent
from crm.pagination import list_context
from customers.models import Customer, history_field_label
from customers.views import customer_from_query
from sales import selectors, services
from sales.forms.orders import (
    MAX_LINES,
    OrderEditForm,
    OrderFilter,
    OrderForm,
    PricePreviewForm,
    TargetFilterForm,
    TargetForm,
    line_form,
    line_formset,
)
from sales.models import Allocation, Order, OrderLine, SalesTarget

PAGE_SIZE = 25
CENT = Decimal("0.01")


def get_order_for_user(user, pk: int, *, write: bool = False) -> Order:
    """The order if `user` sees it (else 404); with write=True, 403 unless they may edit
    its customer. The result carries `can_edit`."""
    order = get_object_or_404(
        Order.objects.visible_to(user).select_related("customer", "customer__owner", "contract", "created_by"), pk=pk
    )
    order.can_edit = Customer.objects.editable_by(user).filter(pk=order.customer_id).exists()
    if write and not order.can_edit:
        raise PermissionDenied
    return order


def _require_writer(user) -> None:
    if not user.writes_archive:
        raise PermissionDenied


def _add_domain_error(form, formset, error: DomainError) -> None:
    if error.field == "lines":
        formset._non_form_errors = formset.error_class([str(error.message)], error_class="nonform")
    else:
        add_domain_error(form, error)


# -- List ------------------------------------------------------------------------------------


def order_filterset(request) -> OrderFilter:
    """The order list's FilterSet on what the user sees, bound to the query string: the
    list page and its export (sales.views.exports) both read `.qs` from here."""
    orders = Order.objects.visible_to(request.user).select_related("customer")
    return OrderFilter(request.GET, queryset=orders, request=request)


@login_required
@require_GET
def order_list(request):
    filterset = order_filterset(request)
    customer_id = filterset.form.cleaned_data.get("customer") if filterset.is_valid() else None
    return render(
        request,
        "sales/orders/list.html",
        {
            **list_context(request, filterset, PAGE_SIZE, hidden=("q", "customer")),
            "customer": (
                Customer.objects.visible_to(request.user).filter(pk=customer_id).first() if customer_id else None
            ),
            "today": timezone.localdate(),
            "can_create": request.user.writes_archive,
        },
    )


# -- Create and edit ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def order_create(request):
    """A new draft order; ?customer=<id> starts it for that customer (from its page)."""
    _require_writer(request.user)
    customer = customer_from_query(request, write=True)
    bound = request.method == "POST"
    form = OrderForm(
        request.POST if bound else None,
        user=request.user,
        customer=customer,
        initial={"order_date": timezone.localdate()},
    )
    formset = line_formset(request.POST if bound else None)
    if bound and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            order = services.order_create(
                actor=request.user,
                customer=data["customer"],
                order_date=data["order_date"],
                lines=formset.lines(),
                contract=data["contract"],
                notes=data["notes"],
            )
        except DomainError as error:
            _add_domain_error(form, formset, error)
        else:
            messages.success(request, _("Order %(number)s saved as a draft.") % {"number": order.number})
            return redirect(order)
    return render(request, "sales/orders/form.html", {"form": form, "formset": formset, "order": None})


@login_required
@require_http_methods(["GET", "POST"])
def order_edit(request, pk: int):
    """A draft order's lines and notes."""
    order = get_order_for_user(request.user, pk, write=True)
    if order.status != Order.Status.DRAFT:
        messages.error(request, _("Only a draft order can be changed."))
        return redirect(order)
    bound = request.method == "POST"
    form = OrderEditForm(request.POST if bound else None, initial={"notes": order.notes})
    lines = OrderLine.objects.filter(order=order)
    formset = line_formset(
        request.POST if bound else None,
        initial=[{"product": line.product_id, "quantity": line.quantity} for line in lines],
        extra=2,
    )
    if bound and form.is_valid() and formset.is_valid():
        try:
            services.order_update(
                actor=request.user, order=order, lines=formset.lines(), notes=form.cleaned_data["notes"]
            )
        except DomainError as error:
            _add_domain_error(form, formset, error)
        else:
            messages.success(request, _("Order %(number)s saved.") % {"number": order.number})
            return redirect(order)
    return render(request, "sales/orders/form.html", {"form": form, "formset": formset, "order": order})


@login_required
@require_GET
def order_line_form(request):
    """The "Add line" button: one more empty row, and the formset's row count raised
    (an out-of-band swap of the management form's TOTAL_FORMS)."""
    _require_writer(request.user)
    try:
        index = int(request.GET.get("lines-TOTAL_FORMS", ""))
    except ValueError:
        return HttpResponseBadRequest()
    if not 0 <= index < MAX_LINES:
        return HttpResponseBadRequest()
    return render(request, "sales/orders/_line_row.html", {"line": line_form(index), "total_forms": index + 1})


@login_required
@require_GET
def order_price_preview(request):
    """The prices the lines will take if saved now: per line the list price, the unit
    price and the policy that gives it, and the total. Read from the form's current
    values (htmx); rows not yet filled in are left out."""
    _require_writer(request.user)
    header = PricePreviewForm(request.GET, user=request.user)
    formset = line_formset(request.GET)
    rows, total = [], Decimal("0.00")
    if header.is_valid():
        customer, on = header.cleaned_data["customer"], header.cleaned_data["order_date"]
        for line in formset.lines():
            price = services.price_for(customer=customer, product=line.product, on=on)
            amount = (line.quantity * price.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
            rows.append({"line": line, "price": price, "amount": amount})
            total += amount
    return render(
        request,
        "sales/orders/_price_preview.html",
        {"ready": header.is_valid(), "rows": rows, "total": total},
    )


# -- Detail and status ------------------------------------------------------------------------


ACTION_LABELS = {
    "confirm": gettext_lazy("Confirm"),
    "ship": gettext_lazy("Mark shipped"),
    "complete": gettext_lazy("Complete"),
    "cancel": gettext_lazy("Cancel order"),
}


def _order_history(user, order: Order) -> list[dict]:
    events = (
        AuditEvent.objects.visible_to(user)
        .filter(object_type=Order._meta.model_name, object_id=order.pk)
        .select_related("actor")
    )
    return [
        {
            "event": event,
            "changes": [
                (
                    history_field_label(event.object_type, name, {}),
                    _change_value(name, pair[0]),
                    _change_value(name, pair[1]),
                )
                for name, pair in event.changes.items()
            ],
        }
        for event in events
    ]


def _change_value(name: str, value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if name == "status":
        return str(dict(Order.Status.choices).get(value, value))
    return str(value)


@login_required
@require_GET
def order_detail(request, pk: int):
    order = get_order_for_user(request.user, pk)
    today = timezone.localdate()
    actions = []
    if order.can_edit:
        actions = [
            (action, ACTION_LABELS[action])
            for action, (allowed, _new, _label) in services.TRANSITIONS.items()
            if order.status in allowed
        ]
    return render(
        request,
        "sales/orders/detail.html",
        {
            "order": order,
            "lines": OrderLine.objects.filter(order=order).select_related("product", "policy"),
            "allocations": Allocation.objects.filter(order=order).select_related("payment"),
            "history": _order_history(request.user, order),
            "days_overdue": order.days_overdue(today),
            "actions": actions,
        },
    )


@login_required
@require_POST
def order_transition(request, pk: int):
    """confirm / ship / complete / cancel, by anyone who edits the order's customer."""
    action = request.POST.get("action", "")
    if action not in services.TRANSITIONS:
        return HttpResponseBadRequest()
    order = get_order_for_user(request.user, pk, write=True)
    try:
        order = services.order_transition(actor=request.user, order=order, action=action)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Order %(number)s is now %(status)s.") % {"number": order.number, "status": order.get_status_display()},
        )
    return redirect(order)


# -- Targets -------------------------------------------------------------------------------


@login_required
@require_GET
def target_list(request):
    form = TargetFilterForm(request.GET, user=request.user)
    month = timezone.localdate().replace(day=1)
    reps = selectors.target_reps(request.user)
    if form.is_valid():
        month = (form.cleaned_data["month"] or month).replace(day=1)
        if form.cleaned_data.get("team"):
            reps = reps.filter(team=form.cleaned_data["team"])
    setter_ids = set(selectors.target_setter_reps(request.user).values_list("pk", flat=True))
    rows = selectors.target_achievement(reps=reps, month=month)
    for row in rows:
        row["can_set"] = row["rep"].pk in setter_ids
    return render(
        request,
        "sales/orders/targets.html",
        {"form": form, "month": month, "rows": rows, "totals": _target_totals(rows)},
    )


def _target_totals(rows: list[dict]) -> dict:
    keys = ("order_target", "ordered", "collection_target", "collected")
    return {key: sum((row[key] or Decimal("0")) for row in rows) for key in keys}


@login_required
@require_http_methods(["GET", "POST"])
def target_edit(request, rep_id: int, year: int, month: int):
    """Set a rep's targets for a month (create or change): managers for their team's
    reps, admins for every rep."""
    try:
        first = datetime.date(year, month, 1)
    except ValueError as error:
        raise Http404 from error
    # A rep whose targets the user does not see is a 404; one they see but do not set, a 403.
    rep = get_object_or_404(selectors.target_reps(request.user).select_related("team"), pk=rep_id)
    if not selectors.target_setter_reps(request.user).filter(pk=rep.pk).exists():
        raise PermissionDenied
    target = SalesTarget.objects.visible_to(request.user).filter(rep=rep, month=first).first()
    form = TargetForm(request.POST or None, instance=target or SalesTarget(rep=rep, month=first))
    if form.is_bound and form.is_valid():
        services.target_save(
            actor=request.user,
            rep=rep,
            month=first,
            order_target=form.cleaned_data["order_target"],
            collection_target=form.cleaned_data["collection_target"],
        )
        messages.success(
            request, _("Targets of %(rep)s for %(month)s saved.") % {"rep": rep, "month": f"{first:%Y-%m}"}
        )
        return redirect(f"{reverse('sales:target_list')}?month={first:%Y-%m}")
    return render(request, "sales/orders/target_form.html", {"form": form, "rep": rep, "month": first})
