"""The payments (回款) importer. A payment is matched on its number; one already
recorded is left as it is (allocations hang on it: an import does not change it).
New payments are allocated in date order as `payment_record` allocates them: to the
order the row names, else to the customer's open orders oldest first; the rest stays
as prepayment. Numbers left empty are drawn as `payment_record` draws them."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.imports import cleaning as c
from crm.imports.base import CREATED, UNCHANGED, Column, CreateSnapshot, Importer, register
from crm.imports.bulk import CopyInsert, copy_update, next_values
from crm.models import AuditEvent
from customers.importers.common import CUSTOMER_REF_COLUMNS, CUSTOMER_REFS, ERR_DUPLICATE_ROW, resolve_customers
from sales import metrics
from sales.models import Order, Payment

from .allocation import allocate, outstanding_orders

ERR_FIELD_REQUIRED = _("Required.")
ERR_AMOUNT = _("The amount must be greater than zero.")
ERR_RECORDED = _("Payment %(number)s is already recorded with other values; an import does not change payments.")
ERR_ORDER = _("Order %(number)s is not an open order of this customer.")

METHOD_ALIASES = {
    "转账": "transfer", "银行转账": "transfer", "电汇": "transfer", "对公转账": "transfer", "现金": "cash",
    "承兑": "bill", "承兑汇票": "bill", "汇票": "bill", "银行承兑": "bill", "微信": "wechat", "微信支付": "wechat",
    "支付宝": "alipay", "其他": "other",
}  # fmt: skip
COMPARED = ("customer_id", "date", "amount", "method", "reference", "notes")


@register
class PaymentImporter(Importer):
    kind = "payments"
    label = _("Payments")
    # Payments are allocated in date order across the whole file.
    chunk_size = None
    columns = [
        Column("number", _("payment number"), ("回款单号", "收款单号", "回款编号", "单号", "单据编号"), c.code(30)),
        *CUSTOMER_REF_COLUMNS,
        Column("date", _("date"), ("回款日期", "收款日期", "到账日期", "日期"), c.date()),
        Column("amount", _("amount"), ("回款金额", "收款金额", "金额", "到账金额"), c.decimal()),
        Column(
            "method",
            _("method"),
            ("付款方式", "回款方式", "收款方式", "方式"),
            c.choice(Payment.Method.choices, METHOD_ALIASES),
        ),
        Column(
            "reference", _("reference"), ("流水号", "银行流水号", "凭证号", "参考号"), c.text(100, single_line=True)
        ),
        Column("notes", _("notes"), ("备注",), c.text()),
        Column("order_number", _("order number"), ("订单号", "对应订单", "订单编号"), c.code(30)),
    ]
    required_columns = (CUSTOMER_REFS, ("date",), ("amount",))

    def begin(self, run):
        run.state["snapshot"] = CreateSnapshot(Payment)

    def plan(self, records, run):
        for record in records:
            for name in ("date", "amount"):
                if record.ok and name not in record.values:
                    record.reject(name, ERR_FIELD_REQUIRED, "")
            if record.ok and record.values["amount"] <= 0:
                record.reject("amount", ERR_AMOUNT)
        valid = [r for r in records if r.ok]
        resolve_customers(valid, fields=("id", "name"))
        valid = [r for r in valid if r.ok]
        numbers = {r.values["number"] for r in valid if r.values.get("number")}
        existing = {p.number: p for p in Payment.objects.filter(number__in=numbers)}
        # Payments without a number are matched on customer, date, amount and
        # reference, each existing payment once: re-importing a file adds nothing.
        unnumbered = [r for r in valid if not r.values.get("number")]
        pool = {}
        if unnumbered:
            for payment in Payment.objects.filter(
                customer_id__in={r.extra["customer"]["id"] for r in unnumbered},
                date__in={r.values["date"] for r in unnumbered},
            ).order_by("id"):
                pool.setdefault(_key(payment.__dict__), []).append(payment)
        order_numbers = {r.values["order_number"] for r in valid if r.values.get("order_number")}
        open_orders = {
            o.number: o
            for o in Order.objects.outstanding().filter(number__in=order_numbers).only("id", "number", "customer_id")
        }
        seen = {}
        for record in valid:
            values = record.values
            values["customer_id"] = record.extra["customer"]["id"]
            number = values.get("number")
            if number and number in seen:
                record.reject("number", ERR_DUPLICATE_ROW % {"row": seen[number]})
                continue
            if number:
                seen[number] = record.row
            if not number and pool.get(_key(values)):
                pool[_key(values)].pop(0)
                record.outcome = UNCHANGED
                continue
            if number in existing:
                payment = existing[number]
                differs = any(name in values and values[name] != getattr(payment, name) for name in COMPARED)
                if differs:
                    record.reject("number", ERR_RECORDED % {"number": number})
                else:
                    record.outcome = UNCHANGED
                continue
            if values.get("order_number"):
                order = open_orders.get(values["order_number"])
                if order is None or order.customer_id != values["customer_id"]:
                    record.reject("order_number", ERR_ORDER % {"number": values["order_number"]})
                    continue
                record.extra["target"] = order.pk
            record.outcome = CREATED

    def write(self, records, run):
        creates = sorted((r for r in records if r.outcome == CREATED), key=lambda r: (r.values["date"], r.row))
        if not creates:
            return
        ids = run.ids(Payment, len(creates))
        numbers = iter(self._numbers([r.values["date"] for r in creates if not r.values.get("number")]))
        payments = []
        for record, pk in zip(creates, ids, strict=True):
            values = record.values
            payments.append(
                {
                    "id": pk,
                    "number": values.get("number") or next(numbers),
                    "customer_id": values["customer_id"],
                    "date": values["date"],
                    "amount": values["amount"],
                    "method": values.get("method", Payment.Method.TRANSFER),
                    "reference": values.get("reference", ""),
                    "notes": values.get("notes", ""),
                    "recorded_by_id": run.actor.pk,
                    "unallocated": values["amount"],
                    "left": values["amount"],
                    "target": record.extra.get("target"),
                    "customer_name": record.extra["customer"]["name"],
                }
            )
        # Written before the allocations that point at them; unallocated is set after.
        writer, snapshot = CopyInsert(Payment), run.state["snapshot"]
        actor_name = str(run.actor)
        for payment in payments:
            row = {k: v for k, v in payment.items() if k not in ("left", "target", "customer_name")}
            writer.add(row)
            run.event(
                action=AuditEvent.Action.CREATE,
                obj_type="payment",
                obj_id=payment["id"],
                obj_repr=payment["number"],
                customer_id=payment["customer_id"],
                changes=snapshot.changes(row, {"customer_id": payment["customer_name"], "recorded_by_id": actor_name}),
            )
        writer.flush()
        run.created(Payment, ids)
        customers = {p["customer_id"] for p in payments}
        left = allocate(run, payments, outstanding_orders(customers, lock=True))
        copy_update(
            Payment,
            [{"id": p["id"], "unallocated": left[p["id"]]} for p in payments if left[p["id"]] != p["amount"]],
            ["unallocated"],
        )
        run.state["customers"] = customers

    def _numbers(self, dates) -> list[str]:
        """HK + year and month + the payment sequence, as payment_record numbers them."""
        drawn = next_values("sales_payment_number_seq", len(dates))
        numbers = [f"HK{on:%Y%m}{n:06d}" for on, n in zip(dates, drawn, strict=True)]
        taken = set(Payment.objects.filter(number__in=numbers).values_list("number", flat=True))
        return [
            number if number not in taken else self._numbers([on])[0] for on, number in zip(dates, numbers, strict=True)
        ]

    def finish(self, run):
        if run.state.get("customers"):
            metrics.refresh(today=timezone.localdate(), customer_ids=list(run.state["customers"]))

    def after_undo(self, customer_ids):
        metrics.refresh(today=timezone.localdate(), customer_ids=list(customer_ids))


def _key(values: dict) -> tuple:
    return (values["customer_id"], values["date"], values["amount"], values.get("reference") or "")
