"""Importers of what belongs to a customer: contacts and qualification documents.

A row names its customer by code, credit code or (unique) name. A contact is matched
on its customer and name, a document on its customer, type and number; a match is
updated where the file differs, anything else is created. Recorded as `child_save`
records them, the customer's derived fields refreshed as it refreshes them.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.imports import cleaning as c
from crm.imports.base import CREATED, UNCHANGED, UPDATED, Column, CreateSnapshot, Importer, register
from crm.imports.bulk import CopyInsert
from crm.models import AuditEvent
from customers.models import Contact, Customer, QualificationDocument
from customers.services import refresh_derived

from .common import (
    CUSTOMER_REF_COLUMNS,
    CUSTOMER_REFS,
    ERR_DUPLICATE_ROW,
    changes,
    resolve_customers,
    same,
    update_rows,
)
from .customers import ROLE_ALIASES

ERR_EXPIRY_BEFORE_ISSUE = _("The expiry date is before the issue date.")

DOC_TYPE_ALIASES = {
    "营业执照": "business_licence", "兽药经营许可证": "drug_permit", "经营许可证": "drug_permit",
    "兽药经营许可": "drug_permit", "gsp": "gsp", "gsp证书": "gsp", "gsp认证": "gsp", "gsp认证证书": "gsp",
    "动物诊疗许可证": "clinic_licence", "诊疗许可证": "clinic_licence", "其他": "other",
}  # fmt: skip


class ChildImporter(Importer):
    """Rows that belong to a customer, matched on `key()` among its existing ones."""

    model = None
    # Column name -> model attname, for the columns stored as they are.
    stored: dict[str, str] = {}

    def begin(self, run):
        run.state["seen"] = {}
        run.state["snapshot"] = CreateSnapshot(self.model, drop=("customer",))

    def key(self, values: dict) -> tuple:
        raise NotImplementedError

    def values_of(self, record) -> dict:
        return {attname: record.values[name] for name, attname in self.stored.items() if name in record.values}

    def existing(self, customer_ids, keys) -> list:
        raise NotImplementedError

    def check(self, record, values: dict) -> None:
        """Row rules beyond single cells (an expiry before the issue date)."""

    def plan(self, records, run):
        valid = [r for r in records if r.ok]
        resolve_customers(valid)
        valid = [r for r in valid if r.ok]
        for record in valid:
            record.extra["values"] = self.values_of(record)
            self.check(record, record.extra["values"])
        valid = [r for r in valid if r.ok]
        customer_ids = {r.extra["customer"]["id"] for r in valid}
        keys = {self.key(r.extra["values"]) for r in valid}
        found = {}
        query = self.existing(customer_ids, keys)
        if run.committing:
            query = query.select_for_update()
        for obj in query.order_by("id"):
            found.setdefault((obj.customer_id, self.key(obj.__dict__)), obj)
        seen = run.state["seen"]
        for record in valid:
            values = record.extra["values"]
            customer_id = record.extra["customer"]["id"]
            identity = (customer_id, self.key(values))
            if identity in seen:
                record.reject(self.key_column, ERR_DUPLICATE_ROW % {"row": seen[identity]})
                continue
            seen[identity] = record.row
            match = found.get(identity)
            if match is None:
                self.complete(record, values)
                if record.ok:
                    record.outcome = CREATED
                continue
            changed = {k: v for k, v in values.items() if not same(getattr(match, k), v)}
            record.target = match
            record.extra["changed"] = changed
            record.outcome = UPDATED if changed else UNCHANGED

    def complete(self, record, values: dict) -> None:
        """Fill or check what a new object needs."""

    def write(self, records, run):
        creates = [r for r in records if r.outcome == CREATED]
        updates = [r for r in records if r.outcome == UPDATED]
        writer = CopyInsert(self.model)
        snapshot = run.state["snapshot"]
        ids = run.ids(self.model, len(creates))
        for record, pk in zip(creates, ids, strict=True):
            customer_id = record.extra["customer"]["id"]
            row = {**record.extra["values"], "id": pk, "customer_id": customer_id}
            writer.add(row)
            run.event(
                action=AuditEvent.Action.CREATE,
                obj_type=self.model._meta.model_name,
                obj_id=pk,
                obj_repr=self.repr(row),
                customer_id=customer_id,
                changes=snapshot.changes(row),
            )
        writer.flush()
        run.created(self.model, ids)
        pairs = []
        for record in updates:
            obj, changed = record.target, record.extra["changed"]
            old = {k: getattr(obj, k) for k in changed}
            run.updated(self.model, obj.pk, old)
            pairs.append((obj, changed))
            run.event(
                action=AuditEvent.Action.UPDATE,
                obj_type=self.model._meta.model_name,
                obj_id=obj.pk,
                obj_repr=self.repr({**obj.__dict__, **changed}),
                customer_id=obj.customer_id,
                changes=changes(self.model, old, changed),
            )
        update_rows(self.model, pairs, run.now)
        touched = {r.extra["customer"]["id"] for r in creates} | {r.target.customer_id for r in updates}
        # As child_save does: the customer was changed, and its derived fields follow.
        Customer.objects.filter(pk__in=touched).update(updated_at=run.now)
        refresh_derived(touched)

    def repr(self, values: dict) -> str:
        return str(values.get("name", ""))

    def after_undo(self, customer_ids):
        refresh_derived(customer_ids)


@register
class ContactImporter(ChildImporter):
    kind = "contacts"
    label = _("Contacts")
    model = Contact
    key_column = "name"
    columns = [
        *CUSTOMER_REF_COLUMNS,
        Column("name", _("name"), ("联系人", "联系人姓名", "姓名", "name"), c.text(50, single_line=True)),
        Column("role", _("role"), ("角色", "身份", "联系人角色"), c.choice(Contact.Role.choices, ROLE_ALIASES)),
        Column("title", _("job title"), ("职务", "职位", "title"), c.text(50, single_line=True)),
        Column("mobile", _("mobile"), ("手机", "手机号", "手机号码", "联系电话", "电话", "mobile"), c.phones),
        Column(
            "phone", _("other phone"), ("其他电话", "座机", "固话", "办公电话", "phone"), c.text(30, single_line=True)
        ),
        Column("wechat", _("WeChat"), ("微信", "微信号", "wechat"), c.text(50, single_line=True)),
        Column("email", _("e-mail"), ("邮箱", "电子邮箱", "电子邮件", "email"), c.email),
        Column("birthday", _("birthday"), ("生日", "出生日期"), c.date()),
        Column("is_primary", _("main contact"), ("主联系人", "是否主联系人", "主要联系人"), c.boolean),
        Column("opted_out", _("no marketing messages"), ("拒收短信", "拒收营销信息", "不接收营销"), c.boolean),
        Column("notes", _("notes"), ("备注", "notes"), c.text()),
    ]
    required_columns = (CUSTOMER_REFS, ("name",))
    stored = {
        name: name for name in ("name", "role", "title", "phone", "wechat", "email", "birthday", "is_primary",
                                "opted_out", "notes")
    }  # fmt: skip

    def values_of(self, record):
        values = super().values_of(record)
        if "mobile" in record.values:
            mobile, others = record.values["mobile"]
            values["mobile"] = mobile
            if others:
                if values.get("phone"):
                    values["phone"] = f"{values['phone']}/{others}"[:30]
                else:
                    values["phone"] = others[:30]
        return values

    def key(self, values):
        return values.get("name", "")

    def existing(self, customer_ids, keys):
        return Contact.objects.filter(customer_id__in=customer_ids, name__in=keys)

    def complete(self, record, values):
        if not values.get("name"):
            record.reject("name", _("Required for a new contact."), "")


@register
class DocumentImporter(ChildImporter):
    kind = "documents"
    label = _("Qualification documents")
    model = QualificationDocument
    key_column = "number"
    columns = [
        *CUSTOMER_REF_COLUMNS,
        Column(
            "doc_type",
            _("document type"),
            ("证照类型", "资质类型", "证件类型", "证照名称", "资质名称", "类型"),
            c.choice(QualificationDocument.Type.choices, DOC_TYPE_ALIASES),
        ),
        Column(
            "number",
            _("number"),
            ("证照编号", "证件号", "证书编号", "许可证号", "编号", "证号"),
            c.text(50, single_line=True),
        ),
        Column("issuer", _("issued by"), ("发证机关", "发证单位", "颁发机关"), c.text(100, single_line=True)),
        Column("issue_date", _("issue date"), ("发证日期", "签发日期", "颁发日期"), c.date()),
        Column(
            "expiry_date",
            _("expiry date"),
            ("有效期至", "到期日期", "截止日期", "有效期", "到期日", "有效期限"),
            c.date(open_ended=True),
        ),
        Column("scope", _("business scope"), ("经营范围", "许可范围"), c.text()),
        Column("biologics", _("includes biologics (vaccines)"), ("含生物制品", "生物制品"), c.boolean),
    ]
    required_columns = (CUSTOMER_REFS, ("doc_type",))
    stored = {
        name: name for name in ("doc_type", "number", "issuer", "issue_date", "expiry_date", "scope", "biologics")
    }

    def key(self, values):
        return (values.get("doc_type", ""), values.get("number") or "")

    def existing(self, customer_ids, keys):
        q = Q()
        for doc_type, number in keys:
            q |= Q(doc_type=doc_type, number=number)
        return (
            QualificationDocument.objects.filter(q, customer_id__in=customer_ids)
            if keys
            else (QualificationDocument.objects.none())
        )

    def check(self, record, values):
        if not values.get("doc_type"):
            record.reject("doc_type", _("Required."), "")
        issue, expiry = values.get("issue_date"), values.get("expiry_date")
        if issue and expiry and expiry < issue:
            record.reject("expiry_date", ERR_EXPIRY_BEFORE_ISSUE)

    def repr(self, values):
        label = QualificationDocument.Type(values["doc_type"]).label if values.get("doc_type") else ""
        return f"{label} {values.get('number') or ''}".strip()
