"""Importing contacts, qualification documents, products, orders (one row per line)
and payments; totals, prices and allocations compared with what the services give."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from crm.errors import DomainError
from crm.imports import engine
from crm.models import AuditEvent
from customers.models import Contact, QualificationDocument
from sales import services
from sales.models import Allocation, CustomerSales, Order, Payment, PolicyItem, Product, SalesPolicy
from tests.factories import CustomerFactory, ProductFactory

from .conftest import write_csv

D = Decimal


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def sheet(tmp_path):
    def _sheet(rows, name="f.csv"):
        return write_csv(tmp_path / name, rows)

    return _sheet


# -- Contacts and documents -------------------------------------------------------------


def test_contacts_created_updated_and_found_by_name_or_code(sheet, run_import, own_customer, team_customer):
    rows = [
        ["客户编码", "客户名称", "姓名", "角色", "手机", "生日"],
        [own_customer.code, "", "张三", "采购", "13812345678/0539-1234567", "1980年3月1日"],
        ["", team_customer.name, "李四", "兽医", "13912345678", ""],
        ["", "不存在的客户", "王五", "", "", ""],
    ]
    job = run_import(sheet(rows), kind="contacts")
    assert job.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    contact = Contact.objects.get(name="张三")
    assert (contact.customer, contact.role, contact.mobile, contact.phone) == (
        own_customer,
        "purchaser",
        "13812345678",
        "0539-1234567",
    )
    assert contact.birthday == datetime.date(1980, 3, 1)
    own_customer.refresh_from_db()
    assert "张三" in own_customer.search_text and own_customer.completeness > 0
    rows[2][3] = "老板"
    again = run_import(sheet(rows), kind="contacts")
    assert again.counts == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 1}
    assert Contact.objects.get(name="李四").role == "boss"
    assert AuditEvent.objects.get(batch=again.batch).changes == {"role": ["technician", "boss"]}


def test_ambiguous_customer_name_rejected(sheet, run_import, rep):
    CustomerFactory(name="同名牧业", owner=rep)
    CustomerFactory(name="同名牧业", owner=rep)
    job = run_import(sheet([["客户名称", "姓名"], ["同名牧业", "张三"]]), kind="contacts")
    assert "Several customers" in job.report["rejects"][0]["message"]


def test_documents_with_long_term_expiry_and_date_order(sheet, run_import, own_customer):
    rows = [
        ["客户编码", "证照类型", "证照编号", "发证日期", "有效期至"],
        [own_customer.code, "营业执照", "91370100MA3C1234X1", "2019/1/1", "长期"],
        [own_customer.code, "兽药经营许可证", "兽药经营证字370101001", "2021-06-01", "2026-05-31"],
        [own_customer.code, "GSP证书", "GSP-1", "2024-06-01", "2020-05-31"],
    ]
    job = run_import(sheet(rows), kind="documents")
    assert job.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert job.report["rejects"][0]["field"] == "expiry_date"
    licence = QualificationDocument.objects.get(doc_type="business_licence")
    assert licence.expiry_date is None
    assert QualificationDocument.objects.get(doc_type="drug_permit").expiry_date == datetime.date(2026, 5, 31)
    again = run_import(sheet(rows[:3]), kind="documents")
    assert again.counts["unchanged"] == 2


# -- Products ---------------------------------------------------------------------------

PRODUCT_HEADER = ["产品名称", "品牌", "规格", "单位", "类别", "行业", "价格"]


def test_products_created_updated_unchanged(sheet, run_import, admin_user):
    rows = [
        PRODUCT_HEADER,
        ["阿莫西林可溶性粉", "华牧", "100g/袋", "袋", "抗生素", "兽药", "1,234.50"],
        ["新城疫疫苗", "华牧", "500羽份/瓶", "瓶", "疫苗", "兽药", "30"],
        ["缺单位", "华牧", "1瓶", "", "疫苗", "兽药", "30"],
    ]
    job = run_import(sheet(rows), kind="products")
    assert job.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert Product.objects.get(name="阿莫西林可溶性粉").list_price == D("1234.50")
    event = AuditEvent.objects.get(batch=job.batch, object_id=Product.objects.get(name="新城疫疫苗").pk)
    assert event.customer is None and event.changes["list_price"] == [None, "30"]
    rows[2][6] = "32"
    again = run_import(sheet(rows[:3]), kind="products")
    assert again.counts == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    assert Product.objects.get(name="新城疫疫苗").list_price == D("32")


# -- Orders -----------------------------------------------------------------------------

ORDER_HEADER = ["订单号", "客户编码", "订单日期", "状态", "产品名称", "数量", "单价"]


@pytest.fixture
def catalogue(db):
    amoxicillin = ProductFactory(name="阿莫西林", list_price=D("50.00"))
    vaccine = ProductFactory(name="新城疫疫苗", list_price=D("30.00"))
    policy = SalesPolicy.objects.create(
        name="三月特价", start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31), customer_types=["dealer"]
    )
    PolicyItem.objects.create(policy=policy, product=vaccine, special_price=D("27.50"))
    return amoxicillin, vaccine


def test_orders_grouped_priced_and_totalled_as_the_services_do(sheet, run_import, own_customer, catalogue):
    amoxicillin, vaccine = catalogue
    twin = CustomerFactory(owner=own_customer.owner, type=own_customer.type)
    on = datetime.date(2026, 3, 5)
    rows = [
        ORDER_HEADER,
        ["DD1", own_customer.code, "2026-03-05", "已确认", "阿莫西林", "3", ""],
        ["DD2", own_customer.code, "2026-03-06", "草稿", "阿莫西林", "1", "48"],
        ["DD1", own_customer.code, "2026-03-05", "", "新城疫疫苗", "2.5", ""],
    ]
    job = run_import(sheet(rows), kind="orders")
    assert job.counts == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    imported = Order.objects.get(number="DD1")
    # The same order through the services.
    made = services.order_create(
        actor=twin.owner,
        customer=twin,
        order_date=on,
        lines=[services.LineInput(amoxicillin, D("3")), services.LineInput(vaccine, D("2.5"))],
    )
    made = services.order_transition(actor=twin.owner, order=made, action="confirm")
    assert imported.total == made.total == D("218.75")
    assert imported.due_date == made.due_date and imported.status == made.status
    lines = lambda order: sorted((x.product_id, x.quantity, x.unit_price, x.policy_id) for x in order.lines.all())  # noqa: E731
    assert lines(imported) == lines(made)
    assert Order.objects.get(number="DD2").total == D("48.00")
    assert CustomerSales.objects.get(customer=own_customer).receivable == D("218.75")
    event = AuditEvent.objects.get(batch=job.batch, object_id=imported.pk)
    assert event.changes["total"] == [None, "218.75"] and len(event.changes["lines"][1]) == 2


def test_one_bad_line_rejects_its_whole_order(sheet, run_import, own_customer, team_customer, catalogue):
    rows = [
        ORDER_HEADER,
        ["DD1", own_customer.code, "2026-03-05", "", "阿莫西林", "3", ""],
        ["DD1", own_customer.code, "2026-03-05", "", "不存在的药", "1", ""],
        ["DD2", own_customer.code, "2026-03-05", "", "阿莫西林", "0", ""],
        ["DD3", own_customer.code, "2026-03-05", "", "阿莫西林", "1", ""],
        ["DD3", team_customer.code, "2026-03-05", "", "新城疫疫苗", "1", ""],
    ]
    job = run_import(sheet(rows), kind="orders")
    assert job.counts == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 5}
    assert {r["row"] for r in job.report["rejects"]} == {2, 3, 4, 5, 6}
    assert not Order.objects.exists()


def test_orders_reimported_unchanged_corrected_or_refused_once_paid(
    sheet, run_import, own_customer, catalogue, admin_user
):
    rows = [ORDER_HEADER, ["DD1", own_customer.code, "2026-03-05", "", "阿莫西林", "3", ""]]
    run_import(sheet(rows), kind="orders")
    assert run_import(sheet(rows), kind="orders").counts["unchanged"] == 1
    rows[1][5] = "4"
    corrected = run_import(sheet(rows), kind="orders")
    assert corrected.counts["updated"] == 1
    order = Order.objects.get()
    assert order.total == D("200.00") and order.lines.get().quantity == D("4")
    services.payment_record(actor=admin_user, customer=own_customer, date=datetime.date(2026, 3, 9), amount=D("50"))
    rows[1][5] = "5"
    refused = run_import(sheet(rows), kind="orders")
    assert refused.counts["rejected"] == 1 and "already has payments" in refused.report["rejects"][0]["message"]
    # Undo of the correction is refused too: the payment changed the order since.
    with pytest.raises(DomainError):
        engine.job_undo(actor=admin_user, job=corrected)


def test_undo_of_an_order_correction_restores_the_old_lines(sheet, run_import, own_customer, catalogue, admin_user):
    rows = [ORDER_HEADER, ["DD1", own_customer.code, "2026-03-05", "", "阿莫西林", "3", ""]]
    run_import(sheet(rows), kind="orders")
    rows[1][5] = "4"
    corrected = run_import(sheet(rows), kind="orders")
    engine.job_undo(actor=admin_user, job=corrected)
    order = Order.objects.get()
    assert order.total == D("150.00") and order.lines.get().quantity == D("3")
    assert CustomerSales.objects.get(customer=own_customer).receivable == D("150.00")


def test_imported_receivable_order_takes_prepayments(sheet, run_import, own_customer, catalogue, admin_user):
    services.payment_record(actor=admin_user, customer=own_customer, date=datetime.date(2026, 3, 1), amount=D("100"))
    rows = [ORDER_HEADER, ["DD1", own_customer.code, "2026-03-05", "", "阿莫西林", "3", ""]]
    run_import(sheet(rows), kind="orders")
    order = Order.objects.get()
    assert (order.total, order.paid_amount) == (D("150.00"), D("100.00"))
    assert Payment.objects.get().unallocated == D("0.00")


# -- Payments ---------------------------------------------------------------------------


def _orders(customer, product, dates):
    made = []
    for on in dates:
        order = services.order_create(
            actor=customer.owner, customer=customer, order_date=on, lines=[services.LineInput(product, D("2"))]
        )
        made.append(services.order_transition(actor=customer.owner, order=order, action="confirm"))
    return made


def test_payments_allocated_as_payment_record_allocates(
    sheet, run_import, own_customer, team_customer, catalogue, admin_user
):
    amoxicillin = catalogue[0]
    dates = [datetime.date(2026, 1, 10), datetime.date(2026, 2, 10), datetime.date(2026, 3, 10)]
    _orders(own_customer, amoxicillin, dates)
    _orders(team_customer, amoxicillin, dates)
    payments = [(datetime.date(2026, 3, 20), D("150")), (datetime.date(2026, 3, 25), D("200"))]
    for on, amount in payments:
        services.payment_record(actor=admin_user, customer=team_customer, date=on, amount=amount)
    rows = [["客户编码", "回款日期", "回款金额", "方式"]]
    rows += [[own_customer.code, on.isoformat(), str(amount), "转账"] for on, amount in reversed(payments)]
    job = run_import(sheet(rows), kind="payments")
    assert job.counts["created"] == 2

    def ledger(customer):
        return (
            sorted((o.order_date, o.paid_amount) for o in Order.objects.filter(customer=customer)),
            sorted((p.date, p.amount, p.unallocated) for p in Payment.objects.filter(customer=customer)),
            sorted((a.order.order_date, a.amount) for a in Allocation.objects.filter(order__customer=customer)),
            CustomerSales.objects.filter(customer=customer).values_list("receivable", "prepayment").get(),
        )

    assert ledger(own_customer) == ledger(team_customer)
    again = run_import(sheet(rows), kind="payments")
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    twice = run_import(sheet([rows[0], rows[1], rows[1]]), kind="payments")
    assert twice.counts == {"created": 1, "updated": 0, "unchanged": 1, "rejected": 0}


def test_payment_to_a_named_order_and_recorded_numbers(sheet, run_import, own_customer, catalogue):
    first, second = _orders(own_customer, catalogue[0], [datetime.date(2026, 1, 10), datetime.date(2026, 2, 10)])
    rows = [
        ["回款单号", "客户编码", "回款日期", "回款金额", "订单号"],
        ["HK1", own_customer.code, "2026-03-01", "80", second.number],
        ["HK2", own_customer.code, "2026-03-01", "10", "DD-NONE"],
    ]
    job = run_import(sheet(rows), kind="payments")
    assert job.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    second.refresh_from_db()
    first.refresh_from_db()
    assert (first.paid_amount, second.paid_amount) == (D("0.00"), D("80.00"))
    again = run_import(sheet(rows[:2]), kind="payments")
    assert again.counts["unchanged"] == 1
    rows[1][3] = "90"
    assert run_import(sheet(rows[:2]), kind="payments").counts["rejected"] == 1
