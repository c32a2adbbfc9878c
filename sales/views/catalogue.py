"""Pages of the catalogue: products and monthly sales policies (everyone reads, admins
write), contracts (购销合同: drafted by whoever edits the customer, approved by its
manager, printable) and after-sales requests (售后).

Contracts and after-sales requests follow their customer's visibility (an invisible
one is a 404; a visible one the user may not write is a 403) and are written by
sales.services, like products and policies.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, DecimalField, ExpressionWrapper, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.errors import DomainError, add_domain_error
from crm.http import private_file_response
from crm.models import AuditEvent
from crm.pagination import CappedPaginator
from customers.models import Customer, history_field_label
from customers.views import get_customer_for_user

from .. import services
from ..forms.catalogue import (
    AfterSalesCreateForm,
    AfterSalesEditForm,
    AfterSalesFilter,
    ContractFilter,
    ContractForm,
    PolicyFilter,
    PolicyForm,
    PolicyItemFormSet,
    ProductFilter,
    ProductForm,
    contract_line_formset,
)
from ..models import AfterSalesRequest, Contract, ContractLine, Order, PolicyItem, Product, SalesPolicy

PAGE_SIZE = 25
HISTORY_LIMIT = 50
ORDERS_LIMIT = 50
# Empty line rows a contract form offers beyond its current lines.
NEW_CONTRACT_ROWS = 5
EDIT_CONTRACT_ROWS = 3
ZERO = Decimal("0.00")


def _require_admin(user) -> None:
    if not user.is_admin_role:
        raise PermissionDenied


def _filtered(request) -> bool:
    return any(v for k, v in request.GET.items() if k not in ("page", "ordering"))


def _history(user, obj) -> list[dict]:
    """The audit events about one object, newest first, as (label, old, new) rows."""
    events = (
        AuditEvent.objects.visible_to(user)
        .filter(object_type=obj._meta.model_name, object_id=obj.pk)
        .select_related("actor")[:HISTORY_LIMIT]
    )
    rows = []
    for event in events:
        changes = []
        for name, (old, new) in event.changes.items():
            label = _("lines") if name in ("lines", "items") else history_field_label(event.object_type, name, {})
            changes.append((label, _history_value(obj, name, old), _history_value(obj, name, new)))
        rows.append({"event": event, "changes": changes})
    return rows


def _history_value(obj, name: str, value) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name.endswith("_at") and isinstance(value, str):
        try:
            return timezone.localtime(datetime.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    field = next((f for f in obj._meta.concrete_fields if f.name == name), None)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


# -- Products -------------------------------------------------------------------------------


@login_required
@require_GET
def product_list(request):
    filterset = ProductFilter(request.GET, queryset=Product.objects.visible_to(request.user))
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sales/catalogue/product_list.html",
        {
            "filterset": filterset,
            "page": page,
            "filtered": _filtered(request),
            "can_write": request.user.is_admin_role,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int | None = None):
    """Create (pk None) or edit a product; admins only."""
    _require_admin(request.user)
    product = Product() if pk is None else get_object_or_404(Product.objects.visible_to(request.user), pk=pk)
    form = ProductForm(request.POST if request.method == "POST" else None, instance=product)
    if form.is_bound and form.is_valid():
        product = services.product_save(actor=request.user, product=form.save(commit=False))
        messages.success(request, _("Product %(name)s saved.") % {"name": product})
        return redirect("sales:product_list")
    return render(request, "sales/catalogue/product_form.html", {"form": form, "product": product})


# -- Sales policies -------------------------------------------------------------------------


@login_required
@require_GET
def policy_list(request):
    today = timezone.localdate()
    policies = (
        SalesPolicy.objects.visible_to(request.user)
        .annotate(
            in_force_today=ExpressionWrapper(
                Q(active=True, start__lte=today, end__gte=today), output_field=BooleanField()
            )
        )
        .prefetch_related(Prefetch("items", queryset=PolicyItem.objects.select_related("product")))
    )
    filterset = PolicyFilter(request.GET, queryset=policies)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(Customer.Type.choices)
    for policy in page:
        policy.type_labels = [str(labels.get(code, code)) for code in policy.customer_types]
    return render(
        request,
        "sales/catalogue/policy_list.html",
        {
            "filterset": filterset,
            "page": page,
            "filtered": _filtered(request),
            "today": today,
            "can_write": request.user.is_admin_role,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, pk: int | None = None):
    """Create (pk None) or edit a policy and its items; admins only."""
    _require_admin(request.user)
    policy = SalesPolicy() if pk is None else get_object_or_404(SalesPolicy.objects.visible_to(request.user), pk=pk)
    bound = request.method == "POST"
    form = PolicyForm(request.POST if bound else None, instance=policy)
    items = PolicyItemFormSet(request.POST if bound else None, instance=policy, prefix="items")
    if bound and form.is_valid() and items.is_valid():
        kept = [f.cleaned_data for f in items.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        policy = services.policy_save(
            actor=request.user,
            policy=form.save(commit=False),
            items=[
                services.PolicyItemInput(
                    product=row["product"],
                    special_price=row.get("special_price"),
                    discount_percent=row.get("discount_percent"),
                )
                for row in kept
            ],
        )
        messages.success(request, _("Sales policy %(name)s saved.") % {"name": policy})
        return redirect("sales:policy_list")
    return render(
        request,
        "sales/catalogue/policy_form.html",
        {"form": form, "items": items, "policy": policy, "history": _history(request.user, policy) if pk else []},
    )


# -- Contracts ------------------------------------------------------------------------------


def get_contract_for_user(user, pk: int, *, write: bool = False) -> Contract:
    """The contract if `user` sees its customer (else 404); with write=True, 403 unless
    they may edit the customer. The result carries `can_edit` (edits the customer)."""
    contract = get_object_or_404(
        Contract.objects.visible_to(user).select_related("customer__owner", "approved_by", "created_by"), pk=pk
    )
    contract.can_edit = Customer.objects.editable_by(user).filter(pk=contract.customer_id).exists()
    if write and not contract.can_edit:
        raise PermissionDenied
    return contract


def _line_total():
    """A contract's total, summed by the database from its lines' generated amounts."""
    return Coalesce(
        Subquery(
            ContractLine.objects.filter(contract=OuterRef("pk"))
            .values("contract")
            .annotate(total=Sum("amount"))
            .values("total")
        ),
        ZERO,
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


@login_required
@require_GET
def contract_list(request):
    contracts = Contract.objects.visible_to(request.user).select_related("customer").annotate(total=_line_total())
    filterset = ContractFilter(request.GET, queryset=contracts)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    customer_id = request.GET.get("customer", "")
    return render(
        request,
        "sales/catalogue/contract_list.html",
        {
            "filterset": filterset,
            "page": page,
            "filtered": _filtered(request),
            "today": timezone.localdate(),
            "can_create": request.user.writes_archive,
            "customer_id": customer_id if customer_id.isdigit() else "",
        },
    )


def _contract_form_page(request, *, contract: Contract, customers=None, initial_lines=None, extra_rows: int):
    bound = request.method == "POST"
    form = ContractForm(
        request.POST if bound else None, request.FILES if bound else None, instance=contract, customers=customers
    )
    # A product no longer sold stays on the contract that names it.
    products = Product.objects.filter(Q(active=True) | Q(pk__in=[line["product"].pk for line in initial_lines or []]))
    lines = contract_line_formset(
        data=request.POST if bound else None, initial=initial_lines, extra=extra_rows, products=products
    )
    if bound and form.is_valid() and lines.is_valid():
        line_inputs = [
            services.ContractLineInput(product=v["product"], quantity=v["quantity"], unit_price=v["unit_price"])
            for v in lines.line_values()
        ]
        try:
            contract = services.contract_save(actor=request.user, contract=form.save(commit=False), lines=line_inputs)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Contract %(number)s saved.") % {"number": contract.number})
            return redirect(contract)
    return render(
        request,
        "sales/catalogue/contract_form.html",
        {
            "form": form,
            "lines": lines,
            "contract": contract,
            "customer": contract.customer if contract.customer_id else None,
            # The rows beyond these fold away under "More lines".
            "visible_rows": max(len(initial_lines or []) + 1, 3),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request):
    """A draft contract; ?customer=<id> fixes the customer (from the customer's page)."""
    if not request.user.writes_archive:
        raise PermissionDenied
    today = timezone.localdate()
    contract = Contract(valid_from=today, valid_to=datetime.date(today.year, 12, 31))
    customers = Customer.objects.editable_by(request.user)
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        customer = get_customer_for_user(request.user, int(customer_id), write=True)
        contract.customer, contract.payment_term_days = customer, customer.payment_term_days
        customers = None
    return _contract_form_page(request, contract=contract, customers=customers, extra_rows=NEW_CONTRACT_ROWS)


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request, pk: int):
    contract = get_contract_for_user(request.user, pk, write=True)
    if contract.status != Contract.Status.DRAFT:
        messages.error(
            request,
            _("Only a draft contract can be changed; this one is %(status)s.")
            % {"status": contract.get_status_display()},
        )
        return redirect(contract)
    initial = [
        {"product": line.product, "quantity": line.quantity, "unit_price": line.unit_price}
        for line in contract.lines.select_related("product")
    ]
    return _contract_form_page(request, contract=contract, initial_lines=initial, extra_rows=EDIT_CONTRACT_ROWS)


def _contract_context(request, contract: Contract) -> dict:
    lines = list(contract.lines.select_related("product"))
    total = contract.lines.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    return {"contract": contract, "customer": contract.customer, "lines": lines, "total": total}


@login_required
@require_GET
def contract_detail(request, pk: int):
    contract = get_contract_for_user(request.user, pk)
    user = request.user
    approver = services.can_approve_contract(user, contract)
    drafted_by_user = contract.created_by_id == user.pk and not user.is_admin_role
    draft, pending = contract.status == Contract.Status.DRAFT, contract.status == Contract.Status.PENDING
    context = _contract_context(request, contract)
    context.update(
        {
            "can_edit": draft and contract.can_edit,
            "can_submit": draft and contract.can_edit,
            "can_approve": pending and approver and not drafted_by_user,
            "can_reject": pending and approver,
            "can_terminate": contract.status == Contract.Status.ACTIVE and approver,
            "orders": list(
                Order.objects.visible_to(user).filter(contract=contract).order_by("-order_date", "-id")[:ORDERS_LIMIT]
            ),
            "history": _history(user, contract),
            "expiring": contract.status == Contract.Status.ACTIVE
            and contract.valid_to <= timezone.localdate() + datetime.timedelta(days=60),
        }
    )
    return render(request, "sales/catalogue/contract_detail.html", context)


TRANSITION_MESSAGES = {
    "submit": gettext_lazy("Contract %(number)s submitted for approval."),
    "approve": gettext_lazy("Contract %(number)s approved; it is now active."),
    "reject": gettext_lazy("Contract %(number)s sent back to its drafter."),
    "terminate": gettext_lazy("Contract %(number)s terminated."),
}


@login_required
@require_POST
def contract_transition(request, pk: int):
    """POST action=submit|approve|reject|terminate (and an optional reason)."""
    contract = get_contract_for_user(request.user, pk)
    action = request.POST.get("action", "")
    if action not in services.CONTRACT_TRANSITIONS:
        return HttpResponseBadRequest()
    if action == "submit" and not contract.can_edit:
        raise PermissionDenied
    if action != "submit" and not services.can_approve_contract(request.user, contract):
        raise PermissionDenied
    try:
        services.contract_transition(
            actor=request.user, contract=contract, action=action, reason=request.POST.get("reason", "").strip()
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, str(TRANSITION_MESSAGES[action]) % {"number": contract.number})
    return redirect(contract)


@login_required
@require_GET
def contract_file(request, pk: int):
    """The signed copy, streamed only to those who see the customer."""
    return private_file_response(get_contract_for_user(request.user, pk).file)


CN_DIGITS = "零壹贰叁肆伍陆柒捌玖"
CN_UNITS = ["", "拾", "佰", "仟"]
CN_GROUPS = ["", "万", "亿", "兆"]


def rmb_in_words(amount: Decimal) -> str:
    """An amount as a contract writes it in capitals (人民币大写), e.g.
    1234.50 -> 壹仟贰佰叁拾肆元伍角整; the words are the legal form, not a translation."""
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        return "负" + rmb_in_words(-amount)
    yuan, cents = divmod(int(amount * 100), 100)
    words = ""
    if yuan:
        digits = str(yuan)
        zero = False
        for index, char in enumerate(digits):
            position = len(digits) - index - 1
            group, unit = divmod(position, 4)
            if char == "0":
                zero = True
            else:
                if zero:
                    words += "零"
                words += CN_DIGITS[int(char)] + CN_UNITS[unit]
                zero = False
            if unit == 0 and group and digits[max(0, index - 3) : index + 1].strip("0"):
                words += CN_GROUPS[group]
        words += "元"
    jiao, fen = divmod(cents, 10)
    if not cents:
        return (words or "零元") + "整"
    if jiao:
        words += CN_DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen:
        words += CN_DIGITS[fen] + "分"
    else:
        words += "整"
    return words


@login_required
@require_GET
def contract_print(request, pk: int):
    """The contract laid out as the standard 购销合同, for printing and signing."""
    contract = get_contract_for_user(request.user, pk)
    context = _contract_context(request, contract)
    context["total_in_words"] = rmb_in_words(context["total"])
    context["seller"] = settings.COMPANY_NAME
    return render(request, "sales/catalogue/contract_print.html", context)


# -- After-sales ----------------------------------------------------------------------------


def _require_after_sales_writer(user) -> None:
    # Finance reads every customer's service record and writes none of it.
    if not user.writes_archive:
        raise PermissionDenied


@login_required
@require_GET
def after_sales_list(request):
    requests = AfterSalesRequest.objects.visible_to(request.user).select_related(
        "customer", "assignee", "product", "order"
    )
    filterset = AfterSalesFilter(request.GET, queryset=requests)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    customer_id = request.GET.get("customer", "")
    return render(
        request,
        "sales/catalogue/after_sales_list.html",
        {
            "filterset": filterset,
            "page": page,
            "filtered": _filtered(request),
            "can_create": request.user.writes_archive,
            "customer_id": customer_id if customer_id.isdigit() else "",
        },
    )


def _save_after_sales(request, form) -> bool:
    try:
        services.after_sales_save(actor=request.user, request=form.save(commit=False))
    except DomainError as error:
        add_domain_error(form, error)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def after_sales_create(request):
    """A new request; ?customer=<id> fixes the customer. Anyone who sees the customer
    may open one, except finance."""
    _require_after_sales_writer(request.user)
    item = AfterSalesRequest()
    customers = Customer.objects.visible_to(request.user)
    orders = Order.objects.visible_to(request.user)
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        item.customer = get_customer_for_user(request.user, int(customer_id))
        customers, orders = None, orders.filter(customer=item.customer)
    form = AfterSalesCreateForm(
        request.POST if request.method == "POST" else None, instance=item, customers=customers, orders=orders
    )
    if form.is_bound and form.is_valid() and _save_after_sales(request, form):
        messages.success(request, _("After-sales request recorded."))
        return redirect("sales:after_sales_list")
    return render(request, "sales/catalogue/after_sales_form.html", {"form": form, "item": item})


@login_required
@require_http_methods(["GET", "POST"])
def after_sales_edit(request, pk: int):
    """Status, assignee and resolution; resolving stamps the time (in the service)."""
    item = get_object_or_404(
        AfterSalesRequest.objects.visible_to(request.user).select_related("customer", "order", "product", "created_by"),
        pk=pk,
    )
    _require_after_sales_writer(request.user)
    form = AfterSalesEditForm(request.POST if request.method == "POST" else None, instance=item)
    if form.is_bound and form.is_valid() and _save_after_sales(request, form):
        messages.success(request, _("After-sales request saved."))
        return redirect("sales:after_sales_list")
    return render(
        request,
        "sales/catalogue/after_sales_form.html",
        {"form": form, "item": item, "history": _history(request.user, item)},
    )
