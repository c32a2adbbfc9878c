"""The product catalogue importer: matched on name, brand and specification (unique
together); recorded in the history as `product_save` records it."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.imports import cleaning as c
from crm.imports.base import CREATED, UNCHANGED, UPDATED, Column, CreateSnapshot, Importer, register
from crm.imports.bulk import CopyInsert
from crm.models import AuditEvent
from customers.importers.common import ERR_DUPLICATE_ROW, changes, same, update_rows
from customers.importers.customers import INDUSTRY_ALIASES
from customers.models import Customer
from sales.models import Product

ERR_NEW_PRODUCT_FIELD = _("Required for a new product.")

CATEGORY_ALIASES = {
    "疫苗": "vaccine", "生物制品": "vaccine", "抗生素": "antibiotic", "抗菌药": "antibiotic", "化药": "antibiotic",
    "中兽药": "tcm", "中药": "tcm", "消毒剂": "disinfectant", "消毒药": "disinfectant", "饲料添加剂": "feed_additive",
    "添加剂": "feed_additive", "手机": "handset", "配件": "accessory", "其他": "other",
}  # fmt: skip
PRODUCT_NAME_ALIASES = ("产品名称", "品名", "商品名称", "产品", "商品", "名称", "通用名", "product")
NEEDED_TO_CREATE = ("name", "brand", "spec", "unit", "category", "industry", "list_price")


@register
class ProductImporter(Importer):
    kind = "products"
    label = _("Products")
    columns = [
        Column("name", _("name"), PRODUCT_NAME_ALIASES, c.text(100, single_line=True)),
        Column("brand", _("brand"), ("品牌", "厂家", "生产厂家", "brand"), c.text(50, single_line=True)),
        Column("spec", _("specification"), ("规格", "规格型号", "包装规格", "spec"), c.text(100, single_line=True)),
        Column("unit", _("unit"), ("单位", "计量单位", "unit"), c.text(10, single_line=True)),
        Column(
            "category",
            _("category"),
            ("类别", "分类", "产品类别", "产品分类", "category"),
            c.choice(Product.Category.choices, CATEGORY_ALIASES),
        ),
        Column("industry", _("industry"), ("行业", "所属行业"), c.choice(Customer.Industry.choices, INDUSTRY_ALIASES)),
        Column(
            "list_price",
            _("list price (CNY)"),
            ("价格", "单价", "售价", "标准价", "出厂价", "批发价", "list price", "price"),
            c.decimal(),
        ),
        Column("active", _("active"), ("在售", "是否在售", "上架"), c.boolean),
        Column(
            "approval_number",
            _("approval number (兽药批准文号)"),
            ("批准文号", "兽药批准文号", "批文", "批文号"),
            c.text(50, single_line=True),
        ),
        Column("prescription", _("prescription drug"), ("处方药", "是否处方药"), c.boolean),
        Column("model_name", _("model"), ("型号", "机型"), c.text(50, single_line=True)),
        Column("colour", _("colour"), ("颜色",), c.text(20, single_line=True)),
        Column("memory", _("memory"), ("内存", "存储", "容量"), c.text(20, single_line=True)),
    ]
    required_columns = (("name",),)
    FIELDS = [column.name for column in columns]

    def begin(self, run):
        run.state["seen"] = {}
        run.state["snapshot"] = CreateSnapshot(Product)

    @staticmethod
    def key(values) -> tuple:
        return (values.get("name", ""), values.get("brand", ""), values.get("spec", ""))

    def plan(self, records, run):
        valid = [r for r in records if r.ok]
        keys = {self.key(r.values) for r in valid}
        query = Q()
        for name, brand, spec in keys:
            query |= Q(name=name, brand=brand, spec=spec)
        existing = Product.objects.filter(query) if keys else Product.objects.none()
        if run.committing:
            existing = existing.select_for_update()
        found = {self.key(p.__dict__): p for p in existing}
        seen = run.state["seen"]
        for record in valid:
            key = self.key(record.values)
            if key in seen:
                record.reject("name", ERR_DUPLICATE_ROW % {"row": seen[key]})
                continue
            seen[key] = record.row
            values = {name: record.values[name] for name in self.FIELDS if name in record.values}
            match = found.get(key)
            if match is None:
                values = {**{k: v for k, v in run.defaults.items() if k in self.FIELDS}, **values}
                for name in NEEDED_TO_CREATE:
                    if values.get(name) in (None, ""):
                        record.reject(name, ERR_NEW_PRODUCT_FIELD, "")
                if record.ok:
                    record.outcome = CREATED
                    record.extra["values"] = values
                continue
            changed = {k: v for k, v in values.items() if not same(getattr(match, k), v)}
            record.target, record.extra["changed"] = match, changed
            record.outcome = UPDATED if changed else UNCHANGED

    def write(self, records, run):
        creates = [r for r in records if r.outcome == CREATED]
        writer, snapshot = CopyInsert(Product), run.state["snapshot"]
        ids = run.ids(Product, len(creates))
        for record, pk in zip(creates, ids, strict=True):
            row = {**record.extra["values"], "id": pk}
            writer.add(row)
            run.event(
                action=AuditEvent.Action.CREATE,
                obj_type="product",
                obj_id=pk,
                obj_repr=f"{row['brand']} {row['name']} {row['spec']}",
                customer_id=None,
                changes=snapshot.changes(row),
            )
        writer.flush()
        run.created(Product, ids)
        pairs = []
        for record in records:
            if record.outcome != UPDATED:
                continue
            product, changed = record.target, record.extra["changed"]
            old = {k: getattr(product, k) for k in changed}
            run.updated(Product, product.pk, old)
            pairs.append((product, changed))
            run.event(
                action=AuditEvent.Action.UPDATE,
                obj_type="product",
                obj_id=product.pk,
                obj_repr=str(product),
                customer_id=None,
                changes=changes(Product, old, changed),
            )
        update_rows(Product, pairs, run.now)
