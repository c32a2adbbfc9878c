"""The orders importer: one row per order line, grouped by order number.

A line's product is found by name (with brand and specification when the name alone
is not unique); its price is the file's unit price, else the price `price_for` gives
(the lowest eligible policy price, else the list price). Totals are summed by the
database from the lines, as `_refresh_total` does. A new order is written with the
status the file gives (confirmed when none): a receivable order gets its due date
and takes the customer's prepayments, as confirming does. An existing order is
updated only while nothing has been paid on it.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import audit
from crm.imports import cleaning as c
from crm.imports.base import CREATED, UNCHANGED, UPDATED, Column, CreateSnapshot, Importer, register
from crm.imports.bulk import CopyInsert, copy_update
from crm.models import AuditEvent
from customers.importers.common import CUSTOMER_REF_COLUMNS, CUSTOMER_REFS, resolve_customers
from sales import metrics
from sales.models import Order, OrderLine, PolicyItem, Product

from .allocation import apply_prepayments
from .products import PRODUCT_NAME_ALIASES

ERR_NO_PRODUCT = _("No product “%(name)s” in the catalogue.")
ERR_AMBIGUOUS_PRODUCT = _("Several products are called “%(name)s”; give the brand and the specification.")
ERR_INACTIVE = _("“%(product)s” is no longer sold.")
ERR_QUANTITY = _("The quantity must be greater than zero.")
ERR_MIXED = _("The lines of order %(number)s disagree on this (see row %(row)d).")
ERR_OTHER_LINE = _("Another line of this order was rejected (row %(row)d).")
ERR_PAID = _("Order %(number)s already has payments; an import cannot change it.")
ERR_OTHER_CUSTOMER = _("Order %(number)s belongs to another customer.")
ERR_FIELD_REQUIRED = _("Required.")

STATUS_ALIASES = {
    "草稿": "draft", "已确认": "confirmed", "确认": "confirmed", "已审核": "confirmed", "已发货": "shipped",
    "发货": "shipped", "已完成": "completed", "完成": "completed", "已签收": "completed", "已取消": "cancelled",
    "取消": "cancelled", "作废": "cancelled",
}  # fmt: skip
HEADER_FIELDS = ("customer", "order_date", "status", "notes")


@dataclass
class OrderPlan:
    number: str
    rows: list = field(default_factory=list)
    customer: dict | None = None
    order_date: datetime.date | None = None
    status: str | None = None
    notes: str | None = None
    lines: list = field(default_factory=list)  # [product, quantity, unit price, policy id]
    existing: Order | None = None
    outcome: str = ""
    id: int | None = None
    old_lines: list = field(default_factory=list)
    header: dict = field(default_factory=dict)


def _line_text(product, quantity, unit_price) -> str:
    return f"{product} × {audit._plain(quantity)} @ {audit._plain(unit_price)}"


@register
class OrderImporter(Importer):
    kind = "orders"
    label = _("Orders (one row per line)")
    chunk_size = None
    columns = [
        Column("number", _("order number"), ("订单号", "订单编号", "单号", "单据编号", "单据号"), c.code(30)),
        *CUSTOMER_REF_COLUMNS,
        Column("order_date", _("order date"), ("订单日期", "下单日期", "日期", "单据日期", "销售日期"), c.date()),
        Column("status", _("status"), ("状态", "订单状态"), c.choice(Order.Status.choices, STATUS_ALIASES)),
        Column("notes", _("notes"), ("备注",), c.text()),
        Column("product_name", _("product"), PRODUCT_NAME_ALIASES, c.text(100, single_line=True)),
        Column("product_brand", _("brand"), ("品牌", "厂家"), c.text(50, single_line=True)),
        Column("product_spec", _("specification"), ("规格", "规格型号"), c.text(100, single_line=True)),
        Column("quantity", _("quantity"), ("数量", "销售数量", "qty"), c.decimal(max_digits=12)),
        Column("unit_price", _("unit price"), ("单价", "成交价", "销售单价", "价格"), c.decimal()),
    ]
    required_columns = (("number",), CUSTOMER_REFS, ("order_date",), ("product_name",), ("quantity",))

    def begin(self, run):
        run.state["snapshot"] = CreateSnapshot(Order)

    # -- Planning -----------------------------------------------------------------------

    def plan(self, records, run):
        for record in records:
            for name in ("number", "order_date", "product_name", "quantity"):
                if record.ok and name not in record.values:
                    record.reject(name, ERR_FIELD_REQUIRED, "")
            if record.ok and record.values["quantity"] <= 0:
                record.reject("quantity", ERR_QUANTITY)
        resolve_customers([r for r in records if r.ok])
        self._resolve_products([r for r in records if r.ok])
        plans = self._group(records)
        query = Order.objects.filter(number__in=list(plans)).select_related("customer", "created_by", "contract")
        if run.committing:
            query = query.select_for_update(of=("self",))
        existing = {o.number: o for o in query}
        lines = {}
        for line in OrderLine.objects.filter(order__in=existing.values()).select_related("product").order_by("id"):
            lines.setdefault(line.order_id, []).append(line)
        prices = self._prices(plans)
        for plan in plans.values():
            plan.existing = existing.get(plan.number)
            self._decide(plan, lines.get(plan.existing.pk, []) if plan.existing else [], prices)
        run.state["plans"] = plans

    def _resolve_products(self, records):
        names = {r.values["product_name"] for r in records}
        by_name = {}
        for product in Product.objects.filter(name__in=names):
            by_name.setdefault(product.name, []).append(product)
        for record in records:
            values = record.values
            candidates = [
                p
                for p in by_name.get(values["product_name"], [])
                if values.get("product_brand") in (None, p.brand) and values.get("product_spec") in (None, p.spec)
            ]
            if not candidates:
                record.reject("product_name", ERR_NO_PRODUCT % {"name": values["product_name"]})
            elif len(candidates) > 1:
                record.reject("product_name", ERR_AMBIGUOUS_PRODUCT % {"name": values["product_name"]})
            elif not candidates[0].active:
                record.reject("product_name", ERR_INACTIVE % {"product": candidates[0]})
            else:
                record.extra["product"] = candidates[0]

    def _group(self, records) -> dict[str, OrderPlan]:
        plans: dict[str, OrderPlan] = {}
        for record in records:
            number = record.values.get("number")
            if not number:
                continue
            plan = plans.setdefault(number, OrderPlan(number))
            plan.rows.append(record)
            record.extra["plan"] = plan
            if not record.ok:
                continue
            header = {
                "customer": record.extra["customer"],
                "order_date": record.values["order_date"],
                "status": record.values.get("status"),
                "notes": record.values.get("notes"),
            }
            first = next((r for r in plan.rows if r.ok and r is not record), None)
            for name, value in header.items():
                if name in ("status", "notes") and value is None:
                    continue
                current = getattr(plan, name)
                if first is not None and current is not None and value != current:
                    column = "customer_code" if name == "customer" else name
                    record.reject(column, ERR_MIXED % {"number": number, "row": first.row})
                    break
                setattr(plan, name, value)
            else:
                plan.lines.append([record.extra["product"], record.values["quantity"], record.values.get("unit_price")])
        return plans

    def _prices(self, plans) -> dict:
        """The policy items that may price the file's lines, read once."""
        dates = [p.order_date for p in plans.values() if p.order_date]
        products = {line[0].pk for p in plans.values() for line in p.lines}
        items = {}
        if dates and products:
            for item in PolicyItem.objects.filter(
                policy__active=True, policy__start__lte=max(dates), policy__end__gte=min(dates), product_id__in=products
            ).select_related("policy"):
                items.setdefault(item.product_id, []).append(item)
        return items

    def _decide(self, plan: OrderPlan, old_lines: list, prices: dict) -> None:
        bad = next((r for r in plan.rows if not r.ok), None)
        if bad is None and plan.existing is not None and plan.existing.customer_id != plan.customer["id"]:
            bad = plan.rows[0]
            bad.reject(CUSTOMER_REFS[0], ERR_OTHER_CUSTOMER % {"number": plan.number}, "")
        if bad is not None:
            for record in plan.rows:
                if record.ok:
                    record.reject("number", ERR_OTHER_LINE % {"row": bad.row})
            return
        plan.status = plan.status or Order.Status.CONFIRMED
        customer = SimpleNamespace(type=plan.customer["type"])
        for line in plan.lines:
            product, _quantity, price = line
            policy = None
            if price is None:
                # price_for(), over the policy items read once for the whole file.
                price = product.list_price
                for item in prices.get(product.pk, []):
                    if item.policy.applies_to(customer, plan.order_date):
                        offered = item.price_for(product.list_price)
                        if offered < price:
                            price, policy = offered, item.policy_id
            line[2:] = [price, policy]
        if plan.existing is None:
            plan.outcome = CREATED
        else:
            order = plan.existing
            same_lines = sorted((p.pk, q, u) for p, q, u, _pol in plan.lines) == sorted(
                (x.product_id, x.quantity, x.unit_price) for x in old_lines
            )
            same_header = order.order_date == plan.order_date and order.status == plan.status
            same_header = same_header and (plan.notes is None or plan.notes == order.notes)
            if same_lines and same_header:
                plan.outcome = UNCHANGED
            elif order.paid_amount > 0:
                for record in plan.rows:
                    record.reject("number", ERR_PAID % {"number": plan.number}, plan.number)
                return
            else:
                plan.outcome = UPDATED
                plan.old_lines = old_lines
        for record in plan.rows:
            record.outcome = plan.outcome

    # -- Writing ------------------------------------------------------------------------

    def write(self, records, run):
        plans = list({id(r.extra["plan"]): r.extra["plan"] for r in records}.values())
        creates = [p for p in plans if p.outcome == CREATED]
        updates = [p for p in plans if p.outcome == UPDATED]
        run.state["written"] = {p.customer["id"] for p in plans}
        run.state["receivable"] = {p.customer["id"] for p in plans if p.status in Order.RECEIVABLE_STATUSES}
        order_ids = run.ids(Order, len(creates))
        for plan, pk in zip(creates, order_ids, strict=True):
            plan.id = pk
        writer = CopyInsert(Order)
        for plan in creates:
            writer.add({"id": plan.id, **self._header(plan, run), "created_by_id": run.actor.pk})
        writer.flush()
        run.created(Order, order_ids)
        for plan in updates:
            plan.id = plan.existing.pk
        if updates:
            self._replace_lines(updates, run)
        self._insert_lines([*creates, *updates], run)
        totals = self._refresh_totals([p.id for p in plans])
        snapshot = run.state["snapshot"]
        actor_name = str(run.actor)
        for plan in creates:
            row = {"id": plan.id, **self._header(plan, run), "total": totals[plan.id]}
            related = {"customer_id": plan.customer["name"], "created_by_id": actor_name}
            changes = snapshot.changes(row, related)
            changes["lines"] = [None, [_line_text(p, q, u) for p, q, u, _pol in plan.lines]]
            run.event(
                action=AuditEvent.Action.CREATE,
                obj_type="order",
                obj_id=plan.id,
                obj_repr=plan.number,
                customer_id=plan.customer["id"],
                changes=changes,
            )
        for plan in updates:
            self._record_update(plan, totals[plan.id], run)

    def _header(self, plan: OrderPlan, run) -> dict:
        term = plan.customer["payment_term_days"]
        receivable = plan.status in Order.RECEIVABLE_STATUSES
        return {
            "number": plan.number,
            "customer_id": plan.customer["id"],
            "order_date": plan.order_date,
            "status": plan.status,
            "payment_term_days": term,
            "due_date": plan.order_date + datetime.timedelta(days=term) if receivable else None,
            "confirmed_at": run.now if receivable else None,
            "notes": plan.notes or "",
        }

    def _replace_lines(self, plans, run):
        ids = [p.id for p in plans]
        old = list(OrderLine.objects.filter(order_id__in=ids).values())
        for row in old:
            row.pop("amount", None)
        run.deleted(OrderLine, old)
        OrderLine.objects.filter(order_id__in=ids).delete()
        rows = []
        for plan in plans:
            order = plan.existing
            header = self._header(plan, run)
            header["confirmed_at"] = (order.confirmed_at or header["confirmed_at"]) if header["due_date"] else None
            header["notes"] = plan.notes if plan.notes is not None else order.notes
            plan.header = header
            run.updated(Order, order.pk, {k: getattr(order, k) for k in (*header, "total")})
            rows.append({"id": order.pk, **header})
        copy_update(Order, rows, [k for k in rows[0] if k != "id"])

    def _insert_lines(self, plans, run):
        writer = CopyInsert(OrderLine)
        ids = run.ids(OrderLine, sum(len(p.lines) for p in plans))
        numbers = iter(ids)
        for plan in plans:
            for product, quantity, price, policy in plan.lines:
                writer.add(
                    {
                        "id": next(numbers),
                        "order_id": plan.id,
                        "product_id": product.pk,
                        "quantity": quantity,
                        "list_price": product.list_price,
                        "unit_price": price,
                        "policy_id": policy,
                    }
                )
        writer.flush()
        run.created(OrderLine, ids)

    def _refresh_totals(self, ids) -> dict[int, Decimal]:
        """Each order's total, summed by the database from its lines (as _refresh_total)."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE sales_order o SET total = coalesce(s.total, 0)
                FROM (SELECT o2.id, (SELECT sum(l.amount) FROM sales_orderline l WHERE l.order_id = o2.id) AS total
                      FROM sales_order o2 WHERE o2.id = ANY(%s)) s
                WHERE o.id = s.id
                RETURNING o.id, o.total
                """,
                [ids],
            )
            return dict(cursor.fetchall())

    def _record_update(self, plan, total, run):
        order = plan.existing
        before = audit.snapshot(order)
        before["lines"] = [_line_text(x.product, x.quantity, x.unit_price) for x in plan.old_lines]
        for name, value in plan.header.items():
            setattr(order, name, value)
        order.total = total
        after = audit.snapshot(order)
        after["lines"] = [_line_text(p, q, u) for p, q, u, _pol in plan.lines]
        run.event(
            action=AuditEvent.Action.UPDATE,
            obj_type="order",
            obj_id=order.pk,
            obj_repr=order.number,
            customer_id=order.customer_id,
            changes=audit.diff(before, after),
        )

    def finish(self, run):
        if run.state.get("receivable"):
            apply_prepayments(run, run.state["receivable"])
        if run.state.get("written"):
            metrics.refresh(today=timezone.localdate(), customer_ids=list(run.state["written"]))

    def after_undo(self, customer_ids):
        metrics.refresh(today=timezone.localdate(), customer_ids=list(customer_ids))
