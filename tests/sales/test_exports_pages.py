"""The exports of the order and payment lists (the receivables export is tested with its
page in test_finance_pages.py): only what the user sees, the list's filters applied,
formulas neutralised, money and dates kept as numbers and dates, and query counts that
do not grow with the rows."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sales import services
from sales.models import Payment
from tests.factories import CustomerFactory
from tests.spreadsheets import HOSTILE, as_text, csv_rows, xlsx_rows, xlsx_sheet, xlsx_text

pytestmark = pytest.mark.django_db
D = Decimal
MARCH = datetime.date(2026, 3, 1)
ENGLISH = {"Accept-Language": "en"}
ORDER_EXPORT = reverse("sales:order_export")
PAYMENT_EXPORT = reverse("sales:payment_export")


@pytest.fixture
def hostile_customer(rep):
    """The rep's customer whose name and code a spreadsheet would run as formulas."""
    return CustomerFactory(owner=rep, name=HOSTILE[0], code=HOSTILE[3])


def pay(finance, customer, amount, **fields):
    payment = services.payment_record(actor=finance, customer=customer, date=MARCH, amount=D(amount), **fields)
    return Payment.objects.get(pk=payment.pk)


# -- Orders -------------------------------------------------------------------------------------


class TestOrderExport:
    def test_csv_is_what_the_rep_sees_with_formulas_neutralised(
        self, login, rep, hostile_customer, own_customer, team_customer, other_customer, make_order
    ):
        mine = make_order(hostile_customer, "3")  # 150.00
        draft = make_order(own_customer, "1", confirm=False)
        make_order(team_customer), make_order(other_customer)
        response = login(rep).get(ORDER_EXPORT, headers=ENGLISH)
        assert response.status_code == 200 and response.streaming
        assert "orders-" in response["Content-Disposition"]
        header, *rows = csv_rows(response)
        assert header[:3] == ["Order", "Customer code", "Customer"] and header[-1] == "Outstanding"
        assert {row[0] for row in rows} == {mine.number, draft.number}
        row = dict(zip(header, next(r for r in rows if r[0] == mine.number), strict=True))
        assert row["Customer"] == as_text(HOSTILE[0]) and row["Customer code"] == as_text(HOSTILE[3])
        assert row["Status"] == "Confirmed" and row["Owner rep"] == "李明"
        assert row["Order date"] == "2026-03-01" and row["Total"] == "150.00" and row["Outstanding"] == "150.00"
        row = dict(zip(header, next(r for r in rows if r[0] == draft.number), strict=True))
        assert row["Status"] == "Draft" and row["Outstanding"] == "0.00" and row["Due date"] == ""

    def test_xlsx_applies_the_filters_and_keeps_numbers(self, login, finance, own_customer, other_customer, make_order):
        wanted = make_order(own_customer, "2")
        make_order(own_customer, "1", confirm=False)
        make_order(other_customer, "4")
        response = login(finance).get(
            ORDER_EXPORT, {"format": "xlsx", "status": "confirmed", "q": "临沂康达"}, headers=ENGLISH
        )
        assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        sheet = xlsx_sheet(response)
        header, *rows = list(sheet.iter_rows(values_only=True))
        assert [row[0] for row in rows] == [wanted.number]
        row = dict(zip(header, rows[0], strict=True))
        assert row["Total"] == 100 and isinstance(row["Total"], int | float) and row["Paid"] == 0
        assert row["Payment term (days)"] == 30
        assert row["Order date"] == datetime.datetime(2026, 3, 1)
        assert row["Due date"] == datetime.datetime(2026, 3, 31)

    def test_xlsx_neutralises_formulas(self, login, rep, hostile_customer, make_order):
        make_order(hostile_customer)
        header, *rows = xlsx_rows(login(rep).get(ORDER_EXPORT, {"format": "xlsx"}, headers=ENGLISH))
        row = dict(zip(header, rows[0], strict=True))
        assert row["Customer"] == xlsx_text(HOSTILE[0]) and row["Customer code"] == xlsx_text(HOSTILE[3])

    def test_a_rep_never_exports_another_reps_order(self, login, rep, other_customer, make_order):
        theirs = make_order(other_customer)
        for params in ({}, {"q": theirs.number}, {"customer": other_customer.pk}):
            assert csv_rows(login(rep).get(ORDER_EXPORT, params))[1:] == []

    def test_an_unknown_format_is_404_and_post_is_405(self, login, rep):
        assert login(rep).get(ORDER_EXPORT, {"format": "pdf"}).status_code == 404
        assert login(rep).post(ORDER_EXPORT).status_code == 405

    def test_the_list_offers_its_export_with_the_filters(self, login, rep):
        html = login(rep).get(reverse("sales:order_list"), {"status": "draft", "page": 2}).content.decode()
        assert f'href="{ORDER_EXPORT}?status=draft&amp;format=xlsx"' in html

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_rows(
        self, login, rep, own_customer, make_order, django_assert_num_queries, count
    ):
        for _ in range(count):
            make_order(own_customer, confirm=False)
        client = login(rep)
        # 1 session, 2 user, 3 ids shared with the rep (visibility), 4 the rows with
        # customer, owner and contract, read in chunks through one cursor.
        with django_assert_num_queries(4):
            rows = csv_rows(client.get(ORDER_EXPORT))
        assert len(rows) == count + 1


# -- Payments -----------------------------------------------------------------------------------


class TestPaymentExport:
    def test_csv_is_what_the_manager_sees_with_formulas_neutralised(
        self, login, manager, finance, hostile_customer, team_customer, other_customer
    ):
        hostile = pay(finance, hostile_customer, "1200.50", reference=HOSTILE[2])
        team = pay(finance, team_customer, "80")
        pay(finance, other_customer, "90")
        header, *rows = csv_rows(login(manager).get(PAYMENT_EXPORT, headers=ENGLISH))
        assert header[0] == "Payment" and header[-1] == "Recorded by"
        assert {row[0] for row in rows} == {hostile.number, team.number}
        row = dict(zip(header, next(r for r in rows if r[0] == hostile.number), strict=True))
        assert row["Customer"] == as_text(HOSTILE[0]) and row["Reference"] == as_text(HOSTILE[2])
        assert row["Amount"] == "1200.50" and row["Unallocated"] == "1200.50"
        assert row["Method"] == "Bank transfer" and row["Date"] == "2026-03-01" and row["Recorded by"] == "周敏"

    def test_xlsx_applies_the_filters_and_keeps_numbers(self, login, finance, own_customer, other_customer):
        wanted = pay(finance, own_customer, "300", method=Payment.Method.CASH, reference=HOSTILE[1])
        pay(finance, own_customer, "200")
        pay(finance, other_customer, "100", method=Payment.Method.CASH)
        response = login(finance).get(
            PAYMENT_EXPORT, {"format": "xlsx", "method": "cash", "customer": own_customer.pk}, headers=ENGLISH
        )
        sheet = xlsx_sheet(response)
        header, *rows = list(sheet.iter_rows(values_only=True))
        assert [row[0] for row in rows] == [wanted.number]
        row = dict(zip(header, rows[0], strict=True))
        assert row["Amount"] == 300 and isinstance(row["Amount"], int | float)
        assert row["Date"] == datetime.datetime(2026, 3, 1) and row["Reference"] == xlsx_text(HOSTILE[1])
        amount = header.index("Amount") + 1
        assert sheet.cell(row=2, column=amount).number_format == "#,##0.00"

    def test_a_rep_never_exports_another_reps_payment(self, login, rep, finance, own_customer, other_customer):
        mine = pay(finance, own_customer, "10")
        pay(finance, other_customer, "20")
        for params in ({}, {"customer": other_customer.pk}, {"q": other_customer.name}):
            numbers = [row[0] for row in csv_rows(login(rep).get(PAYMENT_EXPORT, params))[1:]]
            assert numbers == ([mine.number] if not params else [])

    def test_an_unknown_format_is_404_and_post_is_405(self, login, finance):
        assert login(finance).get(PAYMENT_EXPORT, {"format": "xls"}).status_code == 404
        assert login(finance).post(PAYMENT_EXPORT).status_code == 405

    def test_the_list_offers_its_export_with_the_filters(self, login, finance):
        html = login(finance).get(reverse("sales:payment_list"), {"method": "cash"}).content.decode()
        assert f'href="{PAYMENT_EXPORT}?method=cash&amp;format=csv"' in html

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_rows(self, login, finance, own_customer, django_assert_num_queries, count):
        for _ in range(count):
            pay(finance, own_customer, "10")
        client = login(finance)
        # 1 session, 2 user, 3 the rows with customer and recorder, read in chunks through one cursor.
        with django_assert_num_queries(3):
            rows = csv_rows(client.get(PAYMENT_EXPORT))
        assert len(rows) == count + 1


def test_anonymous_users_are_sent_to_login(client):
    for url in (ORDER_EXPORT, PAYMENT_EXPORT):
        assert client.get(url).status_code == 302


def test_dates_are_local(login, finance, own_customer):
    """The export's file name carries today's date in Asia/Shanghai."""
    response = login(finance).get(PAYMENT_EXPORT)
    assert f"payments-{timezone.localdate():%Y%m%d}.csv" in response["Content-Disposition"]
