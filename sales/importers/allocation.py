"""Allocating payments to open orders for imports, set-based, exactly as
sales.services does one payment at a time: each payment, in date order, goes to the
customer's outstanding orders oldest first (due date, then order date, then id), or
only to the order the row names; what is left stays as prepayment. New receivable
orders take the customer's prepayments the same way (as `order_transition` confirm
does)."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import F

from crm.imports.bulk import CopyInsert, copy_update
from crm.models import AuditEvent
from sales.models import Allocation, Order, Payment

ZERO = Decimal("0.00")


def outstanding_orders(customer_ids, *, lock: bool) -> dict[int, list[Order]]:
    query = (
        Order.objects.outstanding()
        .filter(customer_id__in=customer_ids)
        .order_by(F("due_date").asc(nulls_last=True), "order_date", "id")
        .only("id", "number", "customer_id", "total", "paid_amount", "due_date", "order_date", "status")
    )
    if lock:
        query = query.select_for_update()
    orders = defaultdict(list)
    for order in query:
        orders[order.customer_id].append(order)
    return orders


def allocate(run, payments: list[dict], orders: dict[int, list[Order]]) -> dict[int, Decimal]:
    """Allocate `payments` ({"id", "customer_id", "left", "target", "number"}, in
    the order they are to be applied) to `orders`; write the allocations, the orders'
    paid amounts and their history. Returns what is left of each payment."""
    paid = {o.pk: o.paid_amount for group in orders.values() for o in group}
    made: dict[tuple, Decimal] = {}
    left_of = {}
    for payment in payments:
        left = payment["left"]
        for order in orders.get(payment["customer_id"], []):
            if left <= 0:
                break
            if payment.get("target") and order.pk != payment["target"]:
                continue
            amount = min(order.total - paid[order.pk], left)
            if amount <= 0:
                continue
            run.event(
                action=AuditEvent.Action.UPDATE,
                obj_type="order",
                obj_id=order.pk,
                obj_repr=order.number,
                customer_id=order.customer_id,
                changes={"paid_amount": [_plain(paid[order.pk]), _plain(paid[order.pk] + amount)]},
            )
            run.updated(Order, order.pk, {"paid_amount": order.paid_amount})
            paid[order.pk] += amount
            made[payment["id"], order.pk] = made.get((payment["id"], order.pk), ZERO) + amount
            left -= amount
        left_of[payment["id"]] = left
    if not made:
        return left_of
    existing = {
        (a.payment_id, a.order_id): a
        for a in Allocation.objects.filter(
            payment_id__in={p for p, _o in made}, order_id__in={o for _p, o in made}
        ).select_for_update()
    }
    new = [(key, amount) for key, amount in made.items() if key not in existing]
    writer = CopyInsert(Allocation)
    ids = run.ids(Allocation, len(new))
    for pk, ((payment_id, order_id), amount) in zip(ids, new, strict=True):
        writer.add({"id": pk, "payment_id": payment_id, "order_id": order_id, "amount": amount})
    writer.flush()
    run.created(Allocation, ids)
    grown = []
    for key, allocation in existing.items():
        if key in made:
            run.updated(Allocation, allocation.pk, {"amount": allocation.amount})
            grown.append({"id": allocation.pk, "amount": allocation.amount + made[key]})
    copy_update(Allocation, grown, ["amount"])
    touched = {o for _p, o in made}
    copy_update(Order, [{"id": pk, "paid_amount": paid[pk]} for pk in touched], ["paid_amount"])
    return left_of


def apply_prepayments(run, customer_ids) -> None:
    """The customers' unallocated payments, oldest first, on their open orders."""
    orders = outstanding_orders(customer_ids, lock=True)
    if not orders:
        return
    prepaid = list(
        Payment.objects.filter(customer_id__in=list(orders), unallocated__gt=0)
        .select_for_update()
        .order_by("date", "id")
    )
    payments = [{"id": p.pk, "customer_id": p.customer_id, "left": p.unallocated, "number": p.number} for p in prepaid]
    left = allocate(run, payments, orders)
    rows = []
    for payment in prepaid:
        if left.get(payment.pk, payment.unallocated) != payment.unallocated:
            run.updated(Payment, payment.pk, {"unallocated": payment.unallocated})
            rows.append({"id": payment.pk, "unallocated": left[payment.pk]})
    copy_update(Payment, rows, ["unallocated"])


def _plain(value):
    from crm import audit

    return audit._plain(value)
