"""What the archive's importers (and the sales importers) share: finding users and
customers named in a row, comparing and recording changes, updating children."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm import audit
from crm.imports import cleaning as c
from crm.imports.base import Column
from crm.imports.bulk import copy_update
from crm.imports.cleaning import fold
from crm.models import User
from customers.models import Customer

ERR_DUPLICATE_ROW = _("The same record as row %(row)d.")
ERR_UNKNOWN_USER = _("No active user is called “%(name)s”.")
ERR_AMBIGUOUS_USER = _("Several users are called “%(name)s”; write the user name instead.")
ERR_NO_CUSTOMER = _("No customer has this %(what)s.")
ERR_AMBIGUOUS_CUSTOMER = _("Several customers are called “%(name)s”; give the customer code.")
ERR_NO_CUSTOMER_GIVEN = _("Give the customer's code, credit code or name.")

AMBIGUOUS = object()

# The columns naming the customer a contact, document, order or payment belongs to.
CUSTOMER_REF_COLUMNS = [
    Column("customer_code", _("customer code"), ("客户编码", "客户编号", "客户代码", "编码"), c.code(20)),
    Column(
        "customer_credit_code",
        _("unified social credit code"),
        ("统一社会信用代码", "社会信用代码", "信用代码", "税号"),
        c.code(18),
    ),
    Column(
        "customer_name",
        _("customer name"),
        ("客户名称", "客户", "客户名", "单位名称", "公司名称", "customer", "customer name"),
        c.text(100, single_line=True),
    ),
]
CUSTOMER_REFS = ("customer_code", "customer_credit_code", "customer_name")


def load_users() -> tuple[dict, dict]:
    """({folded user name or full name: id or AMBIGUOUS}, {id: name as history shows it})."""
    lookup, names = {}, {}
    for user in User.objects.filter(is_active=True).only("pk", "username", "last_name", "first_name"):
        names[user.pk] = str(user)
        for key in {fold(user.username), fold(user.get_full_name())} - {""}:
            lookup[key] = AMBIGUOUS if lookup.get(key, user.pk) != user.pk else user.pk
    return lookup, names


def resolve_user(record, field: str, lookup: dict):
    name = record.values.get(field)
    if not name:
        return None
    found = lookup.get(fold(name))
    if found is None:
        record.reject(field, ERR_UNKNOWN_USER % {"name": name})
    elif found is AMBIGUOUS:
        record.reject(field, ERR_AMBIGUOUS_USER % {"name": name})
    else:
        return found
    return None


def resolve_customers(records, *, fields=("id", "name", "type", "payment_term_days")) -> None:
    """Set record.extra["customer"] (a dict of `fields`) from the row's customer code,
    else credit code, else name (unique names only), with one query; reject the rows
    whose customer is unknown or ambiguous."""
    codes = {r.values["customer_code"] for r in records if r.values.get("customer_code")}
    credits = {r.values["customer_credit_code"] for r in records if r.values.get("customer_credit_code")}
    names = {r.values["customer_name"] for r in records if r.values.get("customer_name")}
    by_code, by_credit, by_name = {}, {}, {}
    if codes or credits or names:
        query = Customer.objects.filter(Q(code__in=codes) | Q(credit_code__in=credits) | Q(name__in=names))
        for row in query.values("code", "credit_code", *fields):
            by_code[row["code"]] = row
            if row["credit_code"]:
                by_credit[row["credit_code"]] = row
            by_name.setdefault(row["name"], []).append(row)
    for record in records:
        values = record.values
        if values.get("customer_code"):
            found = by_code.get(values["customer_code"])
            field, what = "customer_code", _("customer code")
        elif values.get("customer_credit_code"):
            found = by_credit.get(values["customer_credit_code"])
            field, what = "customer_credit_code", _("credit code")
        elif values.get("customer_name"):
            matches = by_name.get(values["customer_name"], [])
            if len(matches) > 1:
                record.reject("customer_name", ERR_AMBIGUOUS_CUSTOMER % {"name": values["customer_name"]})
                continue
            found = matches[0] if matches else None
            field, what = "customer_name", _("name")
        else:
            record.reject("customer_code", ERR_NO_CUSTOMER_GIVEN, "")
            continue
        if found is None:
            record.reject(field, ERR_NO_CUSTOMER % {"what": what})
        else:
            record.extra["customer"] = found


def same(old, new) -> bool:
    """Equal as stored values, an empty text and a missing value being the same."""
    return old == new or (old in (None, "") and new in (None, ""))


def changes(model, old: dict, new: dict, user_names: dict | None = None) -> dict:
    """{field: [old, new]} in the history's plain form, foreign keys to users by name."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    before, after = {}, {}
    for attname, value in new.items():
        field = fields[attname]
        if field.is_relation and user_names is not None:
            before[field.name] = user_names.get(old.get(attname), old.get(attname))
            after[field.name] = user_names.get(value, value)
        else:
            before[field.name] = audit._plain(old.get(attname))
            after[field.name] = audit._plain(value)
    return audit.diff(before, after)


def update_rows(model, pairs: list[tuple], now) -> None:
    """One UPDATE ... FROM for (object, {attname: new value}) pairs of one model."""
    if not pairs:
        return
    attnames = sorted({k for _obj, new in pairs for k in new})
    rows = [{"id": obj.pk, **{k: new.get(k, getattr(obj, k)) for k in attnames}} for obj, new in pairs]
    if any(f.attname == "updated_at" for f in model._meta.concrete_fields):
        for row in rows:
            row["updated_at"] = now
        attnames.append("updated_at")
    copy_update(model, rows, attnames)
