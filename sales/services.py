"""Business actions of the sales ledger. Every write goes through here, inside a
transaction, and is recorded in the audit trail against the customer.

Money rules: order totals are summed by the database from the lines (line amounts are
generated columns); an order's paid amount and a payment's unallocated amount change
only through `_allocate` and `order_cancel`, which lock the rows they touch, so two
payments allocated at the same moment can never pay the same order twice.
"""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from crm import audit
from crm.errors import DomainError
from crm.models import AuditEvent, User
from customers.models import Customer

from . import metrics
from .models import (
    AfterSalesRequest,
    Allocation,
    Contract,
    ContractLine,
    Order,
    OrderLine,
    Payment,
    PolicyItem,
    Product,
    SalesPolicy,
    SalesTarget,
)

ZERO = Decimal("0.00")

ERR_NO_LINES = gettext_lazy("An order needs at least one line.")
ERR_SALES_ROLE = gettext_lazy("Your role does not create orders or contracts.")
ERR_CUSTOMER_NOT_VISIBLE = gettext_lazy("This customer does not exist.")
ERR_INACTIVE_PRODUCT = gettext_lazy("Line %(line)d: “%(product)s” is no longer sold.")
ERR_QUANTITY = gettext_lazy("Line %(line)d: the quantity must be greater than zero.")
ERR_ORDER_STATE = gettext_lazy("This order is %(status)s; it cannot be %(action)s.")
ERR_CONTRACT_CUSTOMER = gettext_lazy("The contract belongs to another customer.")
ERR_CONTRACT_NOT_IN_FORCE = gettext_lazy("The contract is not active on the order date.")
ERR_CONTRACT_STATE = gettext_lazy("This contract is %(status)s; it cannot be %(action)s.")
ERR_APPROVER = gettext_lazy("Only the customer's manager or an admin approves contracts.")
ERR_OWN_APPROVAL = gettext_lazy("You cannot approve a contract you drafted.")
ERR_PAYMENT_ROLE = gettext_lazy("Only finance or an admin records payments.")
ERR_AMOUNT = gettext_lazy("The amount must be greater than zero.")
ERR_ALLOCATE_ORDER = gettext_lazy("Order %(number)s is not an open order of this customer.")
ERR_OVER_ALLOCATE = gettext_lazy("The payment has %(left)s left to allocate.")
ERR_AFTER_SALES_STATE = gettext_lazy("A request that is %(status)s cannot become %(new)s.")


def _check_seller(actor: User, customer: Customer) -> None:
    """Orders and contracts are made by those who may write the archive, for customers
    they see (the pages and the API check this too; the rule lives here)."""
    if not actor.writes_archive:
        raise DomainError(ERR_SALES_ROLE)
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise DomainError(ERR_CUSTOMER_NOT_VISIBLE, field="customer")


def _next_number(prefix: str, sequence: str, on: datetime.date) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [sequence])
        (number,) = cursor.fetchone()
    return f"{prefix}{on:%Y%m}{number:06d}"


def _record(actor, action, obj, customer_id, changes=None, reason="", batch=None):
    return audit.record(
        actor=actor, action=action, obj=obj, customer_id=customer_id, changes=changes or {}, reason=reason, batch=batch
    )


# -- Prices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    unit_price: Decimal
    policy: SalesPolicy | None


def price_for(*, customer: Customer, product: Product, on: datetime.date) -> Price:
    """The price an order line takes: the lowest policy price the customer is eligible
    for on that date, else the list price."""
    best = Price(product.list_price, None)
    items = PolicyItem.objects.filter(policy__in=SalesPolicy.objects.in_force(on), product=product).select_related(
        "policy"
    )
    for item in items:
        if item.policy.applies_to(customer, on):
            price = item.price_for(product.list_price)
            if price < best.unit_price:
                best = Price(price, item.policy)
    return best


# -- Catalogue and targets: configuration with no customer, saved and recorded -----------


def _save_audited(*, actor: User, obj) -> None:
    is_new = obj.pk is None
    before = {} if is_new else audit.snapshot(type(obj).objects.select_for_update().get(pk=obj.pk))
    obj.save()
    after = audit.snapshot(obj)
    audit.record(
        actor=actor,
        action=AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
        obj=obj,
        customer_id=None,
        changes=audit.diff(before, after),
    )


def product_save(*, actor: User, product: Product) -> Product:
    """Create or change a catalogue product."""
    with transaction.atomic():
        _save_audited(actor=actor, obj=product)
    return product


@dataclass
class PolicyItemInput:
    product: Product
    special_price: Decimal | None = None
    discount_percent: Decimal | None = None


def _policy_items(policy: SalesPolicy) -> dict:
    # Written without words, so the history reads the same in every language.
    return {
        "items": [
            f"{item.product}: ¥{audit._plain(item.special_price)}"
            if item.special_price is not None
            else f"{item.product}: -{audit._plain(item.discount_percent)}%"
            for item in policy.items.select_related("product").order_by("product__brand", "product__name")
        ]
    }


def policy_save(*, actor: User, policy: SalesPolicy, items: list[PolicyItemInput] | None = None) -> SalesPolicy:
    """Create or change a sales policy; `items`, when given, replace its special prices."""
    with transaction.atomic():
        is_new = policy.pk is None
        if is_new:
            before = {}
        else:
            current = SalesPolicy.objects.select_for_update().get(pk=policy.pk)
            before = {**audit.snapshot(current), **_policy_items(current)}
        policy.save()
        if items is not None:
            policy.items.all().delete()
            PolicyItem.objects.bulk_create(
                [
                    PolicyItem(
                        policy=policy,
                        product=item.product,
                        special_price=item.special_price,
                        discount_percent=item.discount_percent,
                    )
                    for item in items
                ]
            )
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            obj=policy,
            customer_id=None,
            changes=audit.diff(before, {**audit.snapshot(policy), **_policy_items(policy)}),
        )
    return policy


def target_save(
    *, actor: User, rep: User, month: datetime.date, order_target: Decimal, collection_target: Decimal
) -> SalesTarget:
    """Set a rep's targets for a month, creating or changing its one row (who may is
    checked by the caller). The same signature as the target page's interim function."""
    with transaction.atomic():
        target = SalesTarget.objects.select_for_update().filter(rep=rep, month=month).first()
        before = audit.snapshot(target) if target else {}
        target, created = SalesTarget.objects.update_or_create(
            rep=rep, month=month, defaults={"order_target": order_target, "collection_target": collection_target}
        )
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            obj=target,
            customer_id=None,
            changes=audit.diff(before, audit.snapshot(target)),
        )
    return target


# -- Orders -------------------------------------------------------------------------------


@dataclass
class LineInput:
    product: Product
    quantity: Decimal


def _refresh_total(order: Order) -> None:
    total = OrderLine.objects.filter(order=order).aggregate(t=Coalesce(Sum("amount"), ZERO))["t"]
    Order.objects.filter(pk=order.pk).update(total=total)
    order.total = total


def _write_lines(order: Order, customer: Customer, lines: list[LineInput]) -> None:
    if not lines:
        raise DomainError(ERR_NO_LINES, field="lines")
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.product.active:
            raise DomainError(ERR_INACTIVE_PRODUCT % {"line": number, "product": line.product}, field="lines")
        if line.quantity is None or line.quantity <= 0:
            raise DomainError(ERR_QUANTITY % {"line": number}, field="lines")
        price = price_for(customer=customer, product=line.product, on=order.order_date)
        rows.append(
            OrderLine(
                order=order,
                product=line.product,
                quantity=line.quantity,
                list_price=line.product.list_price,
                unit_price=price.unit_price,
                policy=price.policy,
            )
        )
    OrderLine.objects.filter(order=order).delete()
    OrderLine.objects.bulk_create(rows)
    _refresh_total(order)


def _order_snapshot(order: Order) -> dict:
    values = audit.snapshot(order)
    values["lines"] = [
        f"{line.product} × {audit._plain(line.quantity)} @ {audit._plain(line.unit_price)}"
        for line in order.lines.select_related("product")
    ]
    return values


def order_create(
    *,
    actor: User,
    customer: Customer,
    order_date: datetime.date,
    lines: list[LineInput],
    contract: Contract | None = None,
    notes: str = "",
) -> Order:
    """A draft order; prices come from the list or the policy in force, never from input."""
    _check_seller(actor, customer)
    with transaction.atomic():
        if contract is not None:
            # Read fresh and locked: the contract cannot be terminated under this order.
            contract = Contract.objects.select_for_update(no_key=True).get(pk=contract.pk)
            if contract.customer_id != customer.pk:
                raise DomainError(ERR_CONTRACT_CUSTOMER, field="contract")
            if not contract.is_in_force(order_date):
                raise DomainError(ERR_CONTRACT_NOT_IN_FORCE, field="contract")
        order = Order.objects.create(
            number=_next_number("DD", "sales_order_number_seq", order_date),
            customer=customer,
            contract=contract,
            order_date=order_date,
            payment_term_days=contract.payment_term_days if contract else customer.payment_term_days,
            notes=notes,
            created_by=actor,
        )
        _write_lines(order, customer, lines)
        _record(actor, AuditEvent.Action.CREATE, order, customer.pk, audit.diff({}, _order_snapshot(order)))
    return order


def order_update(*, actor: User, order: Order, lines: list[LineInput], notes: str | None = None) -> Order:
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("customer").get(pk=order.pk)
        if order.status != Order.Status.DRAFT:
            raise _state_error(order, gettext_lazy("changed"))
        before = _order_snapshot(order)
        if notes is not None:
            Order.objects.filter(pk=order.pk).update(notes=notes)
            order.notes = notes
        _write_lines(order, order.customer, lines)
        _record(actor, AuditEvent.Action.UPDATE, order, order.customer_id, audit.diff(before, _order_snapshot(order)))
    return order


def _state_error(order: Order, action) -> DomainError:
    return DomainError(ERR_ORDER_STATE % {"status": order.get_status_display(), "action": action}, field="status")


TRANSITIONS = {
    "confirm": ([Order.Status.DRAFT], Order.Status.CONFIRMED, gettext_lazy("confirmed")),
    "ship": ([Order.Status.CONFIRMED], Order.Status.SHIPPED, gettext_lazy("shipped")),
    "complete": ([Order.Status.SHIPPED], Order.Status.COMPLETED, gettext_lazy("completed")),
    "cancel": ([Order.Status.DRAFT, Order.Status.CONFIRMED], Order.Status.CANCELLED, gettext_lazy("cancelled")),
}


def order_transition(*, actor: User, order: Order, action: str) -> Order:
    """confirm / ship / complete / cancel. Confirming sets the due date and uses the
    customer's prepayments; cancelling takes the order out of the receivables and gives
    back what was allocated to it as prepayment."""
    allowed, new_status, label = TRANSITIONS[action]
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in allowed:
            raise _state_error(order, label)
        before = audit.snapshot(order)
        order.status = new_status
        if action == "confirm":
            order.confirmed_at = timezone.now()
            order.due_date = order.order_date + datetime.timedelta(days=order.payment_term_days)
        order.save(update_fields=["status", "confirmed_at", "due_date"])
        _record(actor, AuditEvent.Action.UPDATE, order, order.customer_id, audit.diff(before, audit.snapshot(order)))
        if action == "cancel":
            _release_allocations(actor=actor, order=order)
        if action == "confirm":
            _apply_prepayments(actor=actor, customer_id=order.customer_id)
        metrics.refresh(today=timezone.localdate(), customer_ids=[order.customer_id])
    order.refresh_from_db()
    return order


# -- Payments and allocation ----------------------------------------------------------------


def _open_orders_oldest_first(customer_id: int):
    return (
        Order.objects.outstanding()
        .filter(customer_id=customer_id)
        .order_by(F("due_date").asc(nulls_last=True), "order_date", "id")
    )


def _allocate(*, actor: User, payment: Payment, orders: list[int], batch: uuid.UUID) -> list[Allocation]:
    """Apply what is left of `payment` to `orders` in the given order.

    Locks the payment and then the orders in id order (a fixed order, so two
    concurrent allocations cannot deadlock), and reads each order's paid amount after
    the lock: a second payment waiting on the same order sees what the first paid.
    """
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    locked = {o.pk: o for o in Order.objects.select_for_update().filter(pk__in=orders).order_by("pk")}
    left = payment.unallocated
    made = []
    for order_id in orders:
        order = locked.get(order_id)
        if left <= 0:
            break
        if order is None or order.status not in Order.RECEIVABLE_STATUSES:
            continue
        amount = min(order.total - order.paid_amount, left)
        if amount <= 0:
            continue
        allocation, created = Allocation.objects.get_or_create(
            payment=payment, order=order, defaults={"amount": amount}
        )
        if not created:
            Allocation.objects.filter(pk=allocation.pk).update(amount=F("amount") + amount)
        Order.objects.filter(pk=order.pk).update(paid_amount=F("paid_amount") + amount)
        left -= amount
        made.append(allocation)
        _record(
            actor,
            AuditEvent.Action.UPDATE,
            order,
            order.customer_id,
            {"paid_amount": [audit._plain(order.paid_amount), audit._plain(order.paid_amount + amount)]},
            reason=str(payment),
            batch=batch,
        )
    Payment.objects.filter(pk=payment.pk).update(unallocated=left)
    return made


def payment_record(
    *,
    actor: User,
    customer: Customer,
    date: datetime.date,
    amount: Decimal,
    method: str = Payment.Method.TRANSFER,
    reference: str = "",
    notes: str = "",
    order_ids: list[int] | None = None,
) -> Payment:
    """Record money received and allocate it: to the chosen orders, in that order, or
    else to the customer's open orders oldest first. The rest stays as prepayment."""
    if not (actor.is_admin_role or actor.role == User.Role.FINANCE):
        raise DomainError(ERR_PAYMENT_ROLE)
    if amount is None or amount <= 0:
        raise DomainError(ERR_AMOUNT, field="amount")
    with transaction.atomic():
        if order_ids:
            valid = set(_open_orders_oldest_first(customer.pk).filter(pk__in=order_ids).values_list("pk", flat=True))
            for order_id in order_ids:
                if order_id not in valid:
                    number = Order.objects.filter(pk=order_id).values_list("number", flat=True).first() or order_id
                    raise DomainError(ERR_ALLOCATE_ORDER % {"number": number}, field="orders")
            targets = list(order_ids)
        else:
            targets = list(_open_orders_oldest_first(customer.pk).values_list("pk", flat=True))
        payment = Payment.objects.create(
            number=_next_number("HK", "sales_payment_number_seq", date),
            customer=customer,
            date=date,
            amount=amount,
            unallocated=amount,
            method=method,
            reference=reference,
            notes=notes,
            recorded_by=actor,
        )
        batch = uuid.uuid4()
        _record(
            actor, AuditEvent.Action.CREATE, payment, customer.pk, audit.diff({}, audit.snapshot(payment)), batch=batch
        )
        _allocate(actor=actor, payment=payment, orders=targets, batch=batch)
        metrics.refresh(today=timezone.localdate(), customer_ids=[customer.pk])
    payment.refresh_from_db()
    return payment


def _apply_prepayments(*, actor: User, customer_id: int) -> None:
    """Use the customer's unallocated payments, oldest first, on its open orders."""
    batch = uuid.uuid4()
    for payment in Payment.objects.filter(customer_id=customer_id, unallocated__gt=0).order_by("date", "id"):
        targets = list(_open_orders_oldest_first(customer_id).values_list("pk", flat=True))
        if not targets:
            break
        _allocate(actor=actor, payment=payment, orders=targets, batch=batch)


def _release_allocations(*, actor: User, order: Order) -> None:
    """A cancelled order gives its allocations back to their payments (as prepayment)."""
    batch = uuid.uuid4()
    for allocation in Allocation.objects.select_related("payment").filter(order=order).order_by("payment_id"):
        Payment.objects.select_for_update().filter(pk=allocation.payment_id).update(
            unallocated=F("unallocated") + allocation.amount
        )
        _record(
            actor,
            AuditEvent.Action.DELETE,
            allocation,
            order.customer_id,
            {"amount": [audit._plain(allocation.amount), None]},
            reason=str(order),
            batch=batch,
        )
        allocation.delete()
    Order.objects.filter(pk=order.pk).update(paid_amount=ZERO)


# -- Contracts ----------------------------------------------------------------------------


@dataclass
class ContractLineInput:
    product: Product
    quantity: Decimal
    unit_price: Decimal


def contract_save(*, actor: User, contract: Contract, lines: list[ContractLineInput] | None = None) -> Contract:
    """Create or change a draft contract and its lines."""
    with transaction.atomic():
        is_new = contract.pk is None
        if not is_new:
            current = Contract.objects.select_for_update().get(pk=contract.pk)
            if current.status != Contract.Status.DRAFT:
                raise DomainError(
                    ERR_CONTRACT_STATE % {"status": current.get_status_display(), "action": gettext_lazy("changed")}
                )
            before = _contract_snapshot(current)
        else:
            _check_seller(actor, contract.customer)
            before = {}
            contract.number = _next_number("HT", "sales_contract_number_seq", contract.valid_from)
            contract.created_by = actor
            contract.status = Contract.Status.DRAFT
        contract.save()
        if lines is not None:
            contract.lines.all().delete()
            ContractLine.objects.bulk_create(
                [
                    ContractLine(contract=contract, product=x.product, quantity=x.quantity, unit_price=x.unit_price)
                    for x in lines
                ]
            )
        _record(
            actor,
            AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            contract,
            contract.customer_id,
            audit.diff(before, _contract_snapshot(contract)),
        )
    return contract


def _contract_snapshot(contract: Contract) -> dict:
    values = audit.snapshot(contract)
    values["lines"] = [
        f"{line.product} × {audit._plain(line.quantity)} @ {audit._plain(line.unit_price)}"
        for line in contract.lines.select_related("product")
    ]
    return values


def can_approve_contract(user: User, contract: Contract) -> bool:
    if user.is_admin_role:
        return True
    return user.is_manager and user.team_id is not None and contract.customer.owner.team_id == user.team_id


CONTRACT_TRANSITIONS = {
    "submit": ([Contract.Status.DRAFT], Contract.Status.PENDING, gettext_lazy("submitted")),
    "approve": ([Contract.Status.PENDING], Contract.Status.ACTIVE, gettext_lazy("approved")),
    "reject": ([Contract.Status.PENDING], Contract.Status.DRAFT, gettext_lazy("sent back")),
    "terminate": ([Contract.Status.ACTIVE], Contract.Status.TERMINATED, gettext_lazy("terminated")),
}


def contract_transition(*, actor: User, contract: Contract, action: str, reason: str = "") -> Contract:
    """submit (draft -> pending), approve / reject (by the customer's manager or an
    admin), terminate (by the same)."""
    allowed, new_status, label = CONTRACT_TRANSITIONS[action]
    with transaction.atomic():
        contract = Contract.objects.select_for_update().select_related("customer__owner").get(pk=contract.pk)
        if contract.status not in allowed:
            raise DomainError(ERR_CONTRACT_STATE % {"status": contract.get_status_display(), "action": label})
        if action in ("approve", "reject", "terminate"):
            if not can_approve_contract(actor, contract):
                raise DomainError(ERR_APPROVER)
            if action == "approve" and contract.created_by_id == actor.pk and not actor.is_admin_role:
                raise DomainError(ERR_OWN_APPROVAL)
        before = audit.snapshot(contract)
        contract.status = new_status
        if action == "approve":
            contract.approved_by, contract.approved_at = actor, timezone.now()
            contract.signed_date = contract.signed_date or timezone.localdate()
        contract.save()
        _record(
            actor,
            AuditEvent.Action.UPDATE,
            contract,
            contract.customer_id,
            audit.diff(before, audit.snapshot(contract)),
            reason=reason,
        )
    return contract


def contracts_expire(*, today: datetime.date) -> int:
    """Nightly: active contracts past their end date become expired. Safe to run twice."""
    with transaction.atomic():
        expired = list(
            Contract.objects.select_for_update(skip_locked=True).filter(
                status=Contract.Status.ACTIVE, valid_to__lt=today
            )
        )
        Contract.objects.filter(pk__in=[c.pk for c in expired]).update(status=Contract.Status.EXPIRED)
        batch = uuid.uuid4()
        AuditEvent.objects.bulk_create(
            [
                audit.event(
                    actor=None,
                    action=AuditEvent.Action.UPDATE,
                    obj=c,
                    customer_id=c.customer_id,
                    changes={"status": [Contract.Status.ACTIVE.value, Contract.Status.EXPIRED.value]},
                    reason="nightly",
                    batch=batch,
                )
                for c in expired
            ]
        )
    return len(expired)


# -- After-sales --------------------------------------------------------------------------

AFTER_SALES_NEXT = {
    AfterSalesRequest.Status.OPEN: {
        AfterSalesRequest.Status.IN_PROGRESS,
        AfterSalesRequest.Status.RESOLVED,
        AfterSalesRequest.Status.CLOSED,
    },
    AfterSalesRequest.Status.IN_PROGRESS: {AfterSalesRequest.Status.RESOLVED, AfterSalesRequest.Status.CLOSED},
    AfterSalesRequest.Status.RESOLVED: {AfterSalesRequest.Status.CLOSED, AfterSalesRequest.Status.IN_PROGRESS},
    AfterSalesRequest.Status.CLOSED: set(),
}


def after_sales_save(*, actor: User, request: AfterSalesRequest) -> AfterSalesRequest:
    """Create or update a request; resolving stamps the time, reopening clears it."""
    with transaction.atomic():
        is_new = request.pk is None
        before = {} if is_new else audit.snapshot(AfterSalesRequest.objects.select_for_update().get(pk=request.pk))
        if is_new:
            request.created_by = actor
        else:
            old_status = AfterSalesRequest.objects.values_list("status", flat=True).get(pk=request.pk)
            if request.status != old_status and request.status not in AFTER_SALES_NEXT[old_status]:
                raise DomainError(
                    ERR_AFTER_SALES_STATE
                    % {
                        "status": AfterSalesRequest.Status(old_status).label,
                        "new": AfterSalesRequest.Status(request.status).label,
                    },
                    field="status",
                )
        if request.status in (AfterSalesRequest.Status.RESOLVED, AfterSalesRequest.Status.CLOSED):
            request.resolved_at = request.resolved_at or timezone.now()
        else:
            request.resolved_at = None
        request.save()
        _record(
            actor,
            AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            request,
            request.customer_id,
            audit.diff(before, audit.snapshot(request)),
        )
    return request
