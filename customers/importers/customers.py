"""Spreadsheet importers of the archive: customers (with their main contact),
contacts, and qualification documents. The framework is crm/imports.

Customers are matched on the customer code, else on the credit code; contacts on
their customer and name; documents on their customer, type and number. Writes are
set-based (COPY, UPDATE ... FROM), recorded in the history as the services record
them, and keep the derived fields right: completeness and search text through
`refresh_derived` (for new customers, completeness by the same `completeness_of`).
"""

import string

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from crm.imports import cleaning as c
from crm.imports.base import CREATED, UNCHANGED, UPDATED, Column, CreateSnapshot, Importer, register
from crm.imports.bulk import CopyInsert, array_literal, copy_update, next_values
from crm.imports.cleaning import fold
from crm.models import AuditEvent
from customers.models import Contact, Customer
from customers.search import REFRESH_SQL, all_ngrams, search_text_of
from customers.services import completeness_of, refresh_derived

from .common import ERR_DUPLICATE_ROW, changes, load_users, resolve_user, same, update_rows

ERR_CREDIT_TAKEN = _("This credit code belongs to customer %(code)s, not to the code in this row.")
ERR_SAME_NAME = _("Several customers are called “%(name)s” in this city; give the customer code.")
ERR_NEW_CUSTOMER_FIELD = _("Required for a new customer.")
ERR_NO_CONTACT_NAME = _("A new contact needs a name.")
WARN_OWNER_DEFAULT = _("No owner rep given: the customer belongs to %(name)s until it is handed over.")
WARN_EXTRA_NUMBER = _("Only the first mobile is stored; %(number)s was left out.")
WARN_NUMBER_AS_PHONE = _("No contact name: the number is stored as the customer's mobile.")


TYPE_ALIASES = {
    "经销商": "dealer", "兽药店": "dealer", "代理商": "dealer", "批发商": "dealer", "省包": "dealer", "地包": "dealer",
    "二级商": "sub_dealer", "二批": "sub_dealer", "二批商": "sub_dealer", "分销商": "sub_dealer",
    "养殖场": "farm", "规模养殖场": "farm", "家庭农场": "farm", "养殖户": "farm", "猪场": "farm", "鸡场": "farm",
    "合作社": "farm", "养殖合作社": "farm",
    "诊所": "clinic", "动物诊所": "clinic", "宠物医院": "clinic", "兽医院": "clinic",
    "门店": "store", "零售店": "store", "手机店": "store", "专卖店": "store", "连锁": "chain", "连锁店": "chain",
}  # fmt: skip
INDUSTRY_ALIASES = {
    "兽药": "vet_drugs",
    "动保": "vet_drugs",
    "兽药行业": "vet_drugs",
    "手机": "handsets",
    "通讯": "handsets",
}
STATUS_ALIASES = {
    "合作中": "active", "正常": "active", "活跃": "active", "潜在": "prospect", "潜在客户": "prospect",
    "意向": "prospect", "意向客户": "prospect", "休眠": "dormant", "沉睡": "dormant", "暂停": "suspended",
    "停止合作": "closed", "已关闭": "closed", "关闭": "closed", "流失": "closed",
}  # fmt: skip
ROLE_ALIASES = {
    "老板": "boss", "店主": "boss", "法人": "boss", "场长": "boss", "负责人": "decision_maker", "经理": "decision_maker",
    "采购": "purchaser", "采购员": "purchaser", "财务": "finance", "会计": "finance", "出纳": "finance",
    "技术员": "technician", "兽医": "technician", "技术": "technician", "其他": "other",
}  # fmt: skip


def _money():
    return c.decimal(max_digits=14, places=2)


CUSTOMER_COLUMNS = [
    Column("code", _("customer code"), ("客户编码", "客户编号", "编码", "编号", "客户代码", "code"), c.code(20)),
    Column(
        "name",
        _("customer name"),
        ("客户名称", "名称", "客户", "客户名", "单位名称", "公司名称", "企业名称", "name", "customer"),
        c.text(100, single_line=True),
    ),
    Column("type", _("type"), ("客户类型", "类型", "类别", "客户类别"), c.choice(Customer.Type.choices, TYPE_ALIASES)),
    Column("industry", _("industry"), ("行业", "所属行业"), c.choice(Customer.Industry.choices, INDUSTRY_ALIASES)),
    Column("province", _("province"), ("省份", "省", "所在省份", "所在省", "省/直辖市"), c.province),
    Column("city", _("city"), ("城市", "市", "地市", "所在城市", "所在地市"), c.text(50, single_line=True)),
    Column("address", _("address"), ("地址", "详细地址", "经营地址", "联系地址"), c.text(200, single_line=True)),
    Column(
        "credit_code",
        _("unified social credit code"),
        ("统一社会信用代码", "社会信用代码", "信用代码", "税号", "纳税人识别号", "uscc", "credit code"),
        c.credit_code,
    ),
    Column("phone", _("customer mobile"), ("客户手机", "公司手机", "单位手机", "客户电话"), c.phones),
    Column(
        "owner",
        _("owner rep"),
        (
            "业务员",
            "负责业务员",
            "所属业务员",
            "归属业务员",
            "销售代表",
            "客户经理",
            "跟进人",
            "owner",
            "rep",
            "sales rep",
        ),
        c.text(150, single_line=True),
    ),
    Column(
        "cooperation_start",
        _("cooperation since"),
        ("合作开始日期", "合作日期", "开始合作时间", "合作时间", "合作开始时间"),
        c.date(),
    ),
    Column("payment_term_days", _("payment term (days)"), ("账期", "账期天数"), c.integer(maximum=32767)),
    Column("status", _("status"), ("状态", "客户状态", "合作状态"), c.choice(Customer.Status.choices, STATUS_ALIASES)),
    Column("annual_sales", _("annual sales (CNY)"), ("年销售额", "年营业额", "年销量", "销售额"), _money()),
    Column("working_capital", _("working capital (CNY)"), ("流动资金",), _money()),
    Column("downstream_customers", _("downstream customers"), ("下游客户数", "下游客户", "下游客户数量"), c.integer()),
    Column("coverage_area", _("coverage area"), ("覆盖区域", "覆盖范围"), c.text(200)),
    Column("main_products", _("main products"), ("主营产品", "主营", "经营产品"), c.text()),
    Column("hot_brand_count", _("hot brands held"), ("热销品牌数",), c.integer()),
    Column("warehouse_area", _("warehouse area (m²)"), ("仓库面积", "库房面积"), c.integer()),
    Column("vehicles", _("vehicles"), ("车辆", "车辆数"), c.integer()),
    Column("staff", _("staff"), ("员工数", "人数", "员工人数"), c.integer()),
    Column("boss_name", _("owner's name"), ("老板", "老板姓名", "法人", "法定代表人", "法人代表"), c.text(50)),
    Column("boss_phone", _("owner's mobile"), ("老板手机", "老板电话", "法人电话"), c.mobile),
    Column("contact_name", _("main contact"), ("联系人", "联系人姓名", "主要联系人"), c.text(50, single_line=True)),
    Column(
        "contact_mobile",
        _("contact's mobile"),
        ("联系电话", "手机", "手机号", "手机号码", "电话", "联系方式", "联系人手机", "联系人电话", "mobile", "phone"),
        c.phones,
    ),
    Column(
        "contact_role",
        _("contact's role"),
        ("联系人角色", "联系人身份"),
        c.choice(Contact.Role.choices, ROLE_ALIASES),
    ),
    Column("contact_wechat", _("contact's WeChat"), ("微信", "微信号"), c.text(50, single_line=True)),
    Column("contact_email", _("contact's e-mail"), ("邮箱", "电子邮箱", "电子邮件", "email", "e-mail"), c.email),
]
CUSTOMER_FIELDS = [col.name for col in CUSTOMER_COLUMNS if not col.name.startswith("contact_") and col.name != "owner"]
CUSTOMER_FIELD_SET = frozenset(CUSTOMER_FIELDS)
CONTACT_FIELDS = {"contact_name": "name", "contact_role": "role", "contact_wechat": "wechat", "contact_email": "email"}
NEEDED_TO_CREATE = ("name", "type", "industry", "province", "city")
# Read of every matched customer and main contact, whatever the file maps (a
# re-import of 100,000 rows would otherwise load sixty columns a customer).
MATCH_FIELDS = ("id", "code", "credit_code", "name", "city", "phone", "owner", "version")
PRIMARY_FIELDS = ("id", "customer", "mobile", "phone", *CONTACT_FIELDS.values())


def _by_name(record) -> bool:
    values = record.values
    return bool(values.get("name")) and not values.get("code") and not values.get("credit_code")


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _created_before(record, run) -> bool:
    """Whether a row matched by name may be a customer an earlier chunk created."""
    name, city = record.values["name"], record.values.get("city")
    return (name, city) in run.state["created_names"] if city else name in run.state["created_names"]


def _search_fields(values: dict, contact: dict, sql_lowers_ascii: bool) -> tuple[str, list[str]] | None:
    """search_text and search_tokens as REFRESH_SQL stores them, or None when Python
    cannot be sure to compute what the SQL would: the text holds whitespace other than
    spaces (crm_ngrams' \\s may differ from Python's) or unassigned characters, or
    lower() changes more than ASCII letters in it (PostgreSQL's lower() follows the
    database's locale; `sql_lowers_ascii` says it lowers A-Z as Python does). The
    database then computes them (`_refresh_search`)."""
    name = contact.get("name", "") if contact else ""
    contacts = [(name, contact.get("mobile"))] if contact else ()
    text = search_text_of(values["name"], values["code"], values.get("phone", ""), values.get("credit_code"), contacts)
    if not sql_lowers_ascii or not text.isprintable():  # (the ASCII space is printable)
        return None
    cased = f"{values['name']}{values['code']}{name}"
    if not cased.isascii() and cased.lower() != cased.translate(_ASCII_LOWER):
        return None
    return text, all_ngrams(text)


def _sql_lowers_ascii() -> bool:
    letters = string.ascii_uppercase + string.ascii_lowercase + string.digits
    with connection.cursor() as cursor:
        cursor.execute("SELECT lower(%s)", [letters])
        return cursor.fetchone()[0] == letters.lower()


def _refresh_search(ids: list[int]) -> None:
    """The search fields of these new customers computed by the SQL every service uses."""
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(REFRESH_SQL, [ids])


@register
class CustomerImporter(Importer):
    kind = "customers"
    label = _("Customers")
    columns = CUSTOMER_COLUMNS
    required_columns = (("code", "credit_code", "name"),)
    # A chunk's rows are matched against earlier chunks' rows by run.state["codes"] and
    # ["credits"]; a lookup that may need customers created by an earlier chunk (by name,
    # or by a code drawn for one) waits for them (run.sync()).
    pipelined = True

    def begin(self, run):
        run.state["users"], run.state["user_names"] = load_users()
        run.state["codes"], run.state["credits"] = {}, {}
        # The names and (name, city) of the customers created, and the codes drawn, by
        # earlier chunks.
        run.state["created_names"], run.state["drawn_codes"] = set(), set()
        # Codes drawn for new customers and not given out yet (_draw_codes).
        run.state["code_pool"] = []
        run.state["sql_lowers_ascii"] = _sql_lowers_ascii()
        run.state["create_defaults"] = {k: v for k, v in run.defaults.items() if k in CUSTOMER_FIELD_SET}
        run.state["customer_snapshot"] = CreateSnapshot(Customer)
        run.state["contact_snapshot"] = CreateSnapshot(Contact, drop=("customer",))
        # What planning and writing read of a matched customer: what rows are matched
        # on, the mapped fields (compared with the row), and what an update writes.
        mapped = [name for name in run.header_of if name in CUSTOMER_FIELD_SET]
        run.state["match_fields"] = sorted({*MATCH_FIELDS, *mapped})
        owner = run.defaults.get("owner")
        run.state["default_owner"] = run.state["users"].get(fold(owner)) if owner else None

    # -- Planning -----------------------------------------------------------------------

    def plan(self, records, run):
        for record in records:
            self._prepare(record, run)
        valid = [r for r in records if r.ok]
        codes = {r.values["code"] for r in valid if r.values.get("code")}
        credits = {r.values["credit_code"] for r in valid if r.values.get("credit_code")}
        # A row with neither code is matched on name and city, so re-importing it
        # does not create the customer again.
        names = {r.values["name"] for r in valid if _by_name(r)}
        existing = []
        if codes & run.state["drawn_codes"] or any(_created_before(r, run) for r in valid if _by_name(r)):
            run.sync()
        if codes or credits or names:
            # One array value each, not ten thousand placeholders or constants.
            query = Customer.objects.filter(
                pk__in=RawSQL(
                    "SELECT id FROM customers_customer "
                    "WHERE code = ANY(%s::text[]) OR credit_code = ANY(%s::text[]) OR name = ANY(%s::text[])",
                    [array_literal(codes), array_literal(credits), array_literal(names)],
                )
            )
            if run.committing:
                query = query.select_for_update(of=("self",))
            existing = list(query.only(*run.state["match_fields"]))
        by_code = {x.code: x for x in existing}
        by_credit = {x.credit_code: x for x in existing if x.credit_code}
        by_name = {}
        for customer in existing:
            by_name.setdefault(customer.name, []).append(customer)
        contacts = {}
        if existing and any(name in run.header_of for name in ("contact_name", "contact_mobile", *CONTACT_FIELDS)):
            primaries = Contact.objects.filter(customer__in=existing, is_primary=True).only(*PRIMARY_FIELDS)
            for contact in primaries.order_by("-id"):
                contacts[contact.customer_id] = contact
        if run.writing:
            # Codes for the rows that may become new customers without one (at most).
            self._draw_codes(sum(1 for r in valid if not r.values.get("code")), run)
        # Nothing below reads the database: the previous chunk's COPYs can go.
        run.release()
        seen_codes, seen_credits = run.state["codes"], run.state["credits"]
        for record in valid:
            code, credit = record.values.get("code"), record.values.get("credit_code")
            if code and code in seen_codes:
                record.reject("code", ERR_DUPLICATE_ROW % {"row": seen_codes[code]})
                continue
            if credit and credit in seen_credits:
                record.reject("credit_code", ERR_DUPLICATE_ROW % {"row": seen_credits[credit]})
                continue
            if _by_name(record):
                key = ("name", record.values["name"], record.values.get("city"))
                if key in seen_codes:
                    record.reject("name", ERR_DUPLICATE_ROW % {"row": seen_codes[key]})
                    continue
                seen_codes[key] = record.row
                candidates = [x for x in by_name.get(key[1], []) if not key[2] or x.city == key[2]]
                if len(candidates) > 1:
                    record.reject("name", ERR_SAME_NAME % {"name": key[1]})
                    continue
                if candidates:
                    self._plan_update(record, candidates[0], contacts.get(candidates[0].pk), run)
                else:
                    self._plan_create(record, run)
                continue
            match = by_code.get(code) if code else None
            holder = by_credit.get(credit) if credit else None
            if match is None and holder is not None and code:
                record.reject("credit_code", ERR_CREDIT_TAKEN % {"code": holder.code})
                continue
            if match is not None and holder is not None and holder.pk != match.pk:
                record.reject("credit_code", ERR_CREDIT_TAKEN % {"code": holder.code})
                continue
            match = match or holder
            for key, seen in ((code, seen_codes), (credit, seen_credits)):
                if key:
                    seen[key] = record.row
            if match is not None:
                seen_codes.setdefault(match.code, record.row)
                self._plan_update(record, match, contacts.get(match.pk), run)
            else:
                self._plan_create(record, run)

    def _prepare(self, record, run):
        values = record.values
        if "owner" in values:
            values["owner_id"] = resolve_user(record, "owner", run.state["users"])
        if "phone" in values:
            mobile, others = values.pop("phone")
            if not mobile:
                record.reject("phone", c.ERR_NOT_MOBILE)
            else:
                values["phone"] = mobile
                if others:
                    record.warn("phone", WARN_EXTRA_NUMBER % {"number": others})
        if "contact_mobile" in values:
            mobile, others = values.pop("contact_mobile")
            values["contact"] = {"mobile": mobile, "phone": others}
        contact = values.setdefault("contact", {})
        for column, attname in CONTACT_FIELDS.items():
            if column in values:
                contact[attname] = values[column]

    def _customer_values(self, record) -> dict:
        values = {name: value for name, value in record.values.items() if name in CUSTOMER_FIELD_SET}
        if record.values.get("owner_id"):
            values["owner_id"] = record.values["owner_id"]
        return values

    def _contact_without_name(self, record, values: dict, contact: dict) -> dict:
        """A number with no contact name to hang it on becomes the customer's mobile."""
        if contact and not contact.get("name"):
            if contact.get("mobile") and not values.get("phone"):
                values["phone"] = contact["mobile"]
                record.warn("contact_mobile", WARN_NUMBER_AS_PHONE)
            elif contact.get("mobile") or contact.get("phone"):
                record.reject("contact_name", ERR_NO_CONTACT_NAME)
            return {}
        return contact

    def _plan_create(self, record, run):
        values = {**run.state["create_defaults"], **self._customer_values(record)}
        for name in NEEDED_TO_CREATE:
            if not values.get(name):
                record.reject(name, ERR_NEW_CUSTOMER_FIELD, "")
        if "owner_id" not in values:
            owner = run.state["default_owner"] or run.actor.pk
            values["owner_id"] = owner
            if not run.state["default_owner"]:
                record.warn("owner", WARN_OWNER_DEFAULT % {"name": run.state["user_names"].get(owner, run.actor)}, "")
        contact = {k: v for k, v in record.values["contact"].items() if v not in (None, "")}
        contact = self._contact_without_name(record, values, contact)
        if record.ok:
            record.outcome = CREATED
            record.extra = {"values": values, "contact": contact}

    def _plan_update(self, record, match, primary, run):
        values = self._customer_values(record)
        changed = {k: v for k, v in values.items() if not same(getattr(match, k), v)}
        contact = {k: v for k, v in record.values["contact"].items() if v not in (None, "")}
        contact_changed = {}
        if primary is not None:
            contact_changed = {k: v for k, v in contact.items() if not same(getattr(primary, k), v)}
        else:
            contact = self._contact_without_name(record, values, contact)
            if "phone" in values and not same(match.phone, values["phone"]):
                changed["phone"] = values["phone"]
            contact_changed = contact
        if not record.ok:
            return
        record.target = match
        record.extra = {"changed": changed, "contact": contact_changed, "primary": primary}
        record.outcome = UPDATED if changed or contact_changed else UNCHANGED

    # -- Writing ------------------------------------------------------------------------

    def reserve(self, records, run):
        """Ids for the new customers and their contacts, and codes for those without."""
        creates = [r for r in records if r.outcome == CREATED]
        if not creates:
            return
        ids = run.ids(Customer, len(creates))
        codes = iter(self._take_codes(sum(1 for r in creates if not r.extra["values"].get("code")), run))
        contact_ids = iter(run.ids(Contact, sum(1 for r in creates if r.extra["contact"])))
        for record, pk in zip(creates, ids, strict=True):
            values = record.extra["values"]
            values["id"] = pk
            if not values.get("code"):
                values["code"] = next(codes)
            if record.extra["contact"]:
                record.extra["contact"]["id"] = next(contact_ids)

    def write(self, records, run):
        creates = [r for r in records if r.outcome == CREATED]
        updates = [r for r in records if r.outcome == UPDATED]
        if creates:
            if "id" not in creates[0].extra["values"]:
                self.reserve(creates, run)
            self._create(creates, run)
        if updates:
            self._update(updates, run)

    def _draw_codes(self, count: int, run) -> None:
        """At least `count` codes drawn and kept for this chunk's new customers. Drawn
        while planning, before the previous chunk's COPYs are sent (a query after that
        would wait for them); what a chunk leaves unused is kept for the next one."""
        pool = run.state["code_pool"]
        if count > len(pool):
            pool.extend(self._new_codes(count - len(pool), run))

    def _take_codes(self, count: int, run) -> list[str]:
        """`count` codes from those drawn, leaving out any a row of the file has named
        since it was drawn."""
        named = run.state["codes"]
        pool = run.state["code_pool"] = [code for code in run.state["code_pool"] if code not in named]
        self._draw_codes(count, run)
        taken = pool[:count]
        del pool[:count]
        return taken

    def _new_codes(self, count: int, run) -> list[str]:
        """Codes from the customer code sequence (as `customer_create` draws them), skipping
        any a spreadsheet already used."""
        codes: list[str] = []
        while len(codes) < count:
            drawn = [f"KH{n:06d}" for n in next_values("customers_customer_code_seq", count - len(codes))]
            taken = set(Customer.objects.filter(code__in=drawn).values_list("code", flat=True))
            codes += [code for code in drawn if code not in taken and code not in run.state["codes"]]
        run.state["drawn_codes"].update(codes)
        return codes

    def _create(self, records, run):
        customers, contacts = CopyInsert(Customer), CopyInsert(Contact)
        snapshot, contact_snapshot = run.state["customer_snapshot"], run.state["contact_snapshot"]
        names = run.state["user_names"]
        actor_pk = run.actor.pk
        actor_name = names.get(actor_pk, str(run.actor))
        lowers_ascii = run.state["sql_lowers_ascii"]
        created_names = run.state["created_names"]
        ids, contact_ids, unsure = [], [], []
        no_verified = frozenset()
        create, customer_type = AuditEvent.Action.CREATE, "customer"
        event = run.event
        for record in records:
            values = record.extra["values"]
            pk = values["id"]
            ids.append(pk)
            created_names.add(values["name"])
            created_names.add((values["name"], values["city"]))
            values["created_by_id"] = actor_pk
            contact = record.extra["contact"]
            values["completeness"] = completeness_of(values, no_verified, bool(contact), False)
            search = _search_fields(values, contact, lowers_ascii)
            if search is None:
                unsure.append(pk)
                customers.add(values)
            else:
                # Not kept in `values`: a hundred short strings a row, for the whole chunk.
                customers.add({**values, "search_text": search[0], "search_tokens": search[1]})
            related = {"owner_id": names.get(values["owner_id"]), "created_by_id": actor_name}
            event(
                action=create,
                obj_type=customer_type,
                obj_id=pk,
                obj_repr=values["name"],
                customer_id=pk,
                changes=snapshot.changes(values, related),
                version=1,
            )
            if contact:
                contact["customer_id"] = pk
                contact["is_primary"] = True
                contact_ids.append(contact["id"])
                contacts.add(contact)
                event(
                    action=create,
                    obj_type="contact",
                    obj_id=contact["id"],
                    obj_repr=contact["name"],
                    customer_id=pk,
                    changes=contact_snapshot.changes(contact),
                )
        customers.flush()
        contacts.flush()
        # Waits for the COPYs above (normally there is nothing to refresh).
        _refresh_search(unsure)
        run.created(Customer, ids)
        run.created(Contact, contact_ids)

    def _update(self, records, run):
        names = run.state["user_names"]
        attnames = sorted({k for r in records for k in r.extra["changed"]})
        rows, touched = [], []
        new_contacts, contact_rows = [], []
        contact_snapshot = run.state["contact_snapshot"]
        for record in records:
            customer, changed = record.target, record.extra["changed"]
            touched.append(customer.pk)
            if changed:
                old = {k: getattr(customer, k) for k in changed}
                run.updated(Customer, customer.pk, old)
                rows.append(
                    {
                        "id": customer.pk,
                        **{k: changed.get(k, getattr(customer, k)) for k in attnames},
                        "version": customer.version + 1,
                        "updated_at": run.now,
                    }
                )
                run.event(
                    action=AuditEvent.Action.UPDATE,
                    obj_type="customer",
                    obj_id=customer.pk,
                    obj_repr=changed.get("name", customer.name),
                    customer_id=customer.pk,
                    changes=changes(Customer, old, changed, names),
                    version=customer.version + 1,
                )
            contact, primary = record.extra["contact"], record.extra["primary"]
            if contact and primary is None:
                new_contacts.append((customer.pk, contact))
            elif contact:
                old = {k: getattr(primary, k) for k in contact}
                run.updated(Contact, primary.pk, old)
                contact_rows.append((primary, contact))
                run.event(
                    action=AuditEvent.Action.UPDATE,
                    obj_type="contact",
                    obj_id=primary.pk,
                    obj_repr=contact.get("name", primary.name),
                    customer_id=customer.pk,
                    changes=changes(Contact, old, contact, names),
                )
        copy_update(Customer, rows, [*attnames, "version", "updated_at"])
        if new_contacts:
            writer = CopyInsert(Contact)
            ids = run.ids(Contact, len(new_contacts))
            for pk, (customer_id, contact) in zip(ids, new_contacts, strict=True):
                row = {**contact, "id": pk, "customer_id": customer_id, "is_primary": True}
                writer.add(row)
                run.event(
                    action=AuditEvent.Action.CREATE,
                    obj_type="contact",
                    obj_id=pk,
                    obj_repr=row["name"],
                    customer_id=customer_id,
                    changes=contact_snapshot.changes(row),
                )
            writer.flush()
            run.created(Contact, ids)
        update_rows(Contact, contact_rows, run.now)
        refresh_derived(touched)

    def after_undo(self, customer_ids):
        refresh_derived(customer_ids)
