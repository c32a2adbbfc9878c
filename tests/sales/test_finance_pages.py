"""The finance pages: payments (list, record, detail, the open-orders partial) and the
receivables page with its totals, filters, two views and export.

Who may do what (allowed, 404 for the invisible, 403 for a role that may not record
payments, 405 for the wrong method), allocation through the form, figures against
sums worked out by hand, exports parsed back, and query counts that do not grow.
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.errors import DomainError
from sales import services
from sales.models import Allocation, CustomerReceivable, Order, Payment
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = timezone.localdate
BOM = "\ufeff"
# The headers are asserted in English, the source language.
ENGLISH = {"Accept-Language": "en"}


def overdue_by(days: int) -> datetime.date:
    """The order date of an order (30-day term) that fell due `days` ago (negative: due later)."""
    return TODAY() - datetime.timedelta(days=30 + days)


@pytest.fixture
def ledger(own_customer, team_customer, other_customer, make_order):
    """Orders at 50.00 a unit, worked out by hand:

    own_customer (rep, team A, region A):  500 due 45 days ago (31-60), 500 not yet due
    team_customer (teammate, team A):      200 due 10 days ago (1-30)
    other_customer (outsider, team B, B):  300 due 100 days ago (over 90)
    """
    return {
        "own_late": make_order(own_customer, "10", on=overdue_by(45)),
        "own_fresh": make_order(own_customer, "10", on=overdue_by(-25)),
        "team": make_order(team_customer, "4", on=overdue_by(10)),
        "other": make_order(other_customer, "6", on=overdue_by(100)),
    }


def record(finance, customer, amount, order_ids=None):
    return services.payment_record(
        actor=finance, customer=customer, date=TODAY(), amount=D(amount), order_ids=order_ids
    )


def payment_data(customer, **extra):
    data = {
        "customer": customer.pk,
        "date": TODAY().isoformat(),
        "amount": "300.00",
        "method": Payment.Method.TRANSFER,
        "reference": "银行流水 001",
        "notes": "",
        "allocation": "oldest",
    }
    data.update(extra)
    return data


RECEIVABLES = reverse("sales:receivables")
EXPORT = reverse("sales:receivables_export")


# -- Recording a payment ----------------------------------------------------------------------


class TestPaymentCreate:
    url = reverse("sales:payment_create")

    @pytest.mark.parametrize("role", ["rep", "manager", "client_service"])
    def test_roles_that_do_not_record_payments_get_403(self, request, login, own_customer, role):
        client = login(request.getfixturevalue(role))
        assert client.get(self.url).status_code == 403
        assert client.post(self.url, payment_data(own_customer)).status_code == 403
        assert client.get(reverse("sales:payment_open_orders"), {"customer": own_customer.pk}).status_code == 403
        assert client.get(reverse("sales:payment_customer_options"), {"q": "临沂"}).status_code == 403
        assert not Payment.objects.exists()

    @pytest.mark.parametrize("role", ["finance", "admin_user"])
    def test_finance_and_admin_open_the_form(self, request, login, own_customer, role):
        response = login(request.getfixturevalue(role)).get(self.url, {"customer": own_customer.pk})
        assert response.status_code == 200
        assert response.context["form"].initial["customer"] == own_customer
        assert own_customer.name in response.content.decode()

    def test_unknown_customer_is_404(self, login, finance):
        assert login(finance).get(self.url, {"customer": 999999}).status_code == 404
        assert login(finance).get(self.url, {"customer": "x"}).status_code == 404

    def test_wrong_method_is_405(self, login, finance):
        assert login(finance).put(self.url).status_code == 405

    def test_oldest_first_is_the_default(self, login, finance, own_customer, ledger):
        response = login(finance).post(self.url, payment_data(own_customer, amount="600.00"))
        payment = Payment.objects.get()
        assert response.status_code == 302 and response.url == reverse("sales:payment_detail", args=[payment.pk])
        paid = dict(Allocation.objects.filter(payment=payment).values_list("order__number", "amount"))
        # The order due 45 days ago is paid in full first, the rest goes to the fresh one.
        assert paid == {ledger["own_late"].number: D("500.00"), ledger["own_fresh"].number: D("100.00")}
        assert (payment.amount, payment.unallocated, payment.recorded_by) == (D("600.00"), D("0.00"), finance)

    def test_chosen_orders_are_paid_and_the_rest_is_prepayment(self, login, finance, own_customer, ledger):
        fresh = ledger["own_fresh"]
        data = payment_data(own_customer, amount="700.00", allocation="chosen", orders=[fresh.pk])
        assert login(finance).post(self.url, data).status_code == 302
        payment = Payment.objects.get()
        assert list(payment.allocations.values_list("order_id", "amount")) == [(fresh.pk, D("500.00"))]
        assert payment.unallocated == D("200.00")
        late = Order.objects.get(pk=ledger["own_late"].pk)
        assert late.paid_amount == D("0.00")

    def test_chosen_mode_needs_ticked_orders(self, login, finance, own_customer, ledger):
        response = login(finance).post(self.url, payment_data(own_customer, allocation="chosen"))
        assert response.status_code == 200
        assert response.context["form"].errors["orders"]
        assert not Payment.objects.exists()

    def test_an_order_of_another_customer_cannot_be_chosen(self, login, finance, own_customer, ledger):
        data = payment_data(own_customer, allocation="chosen", orders=[ledger["other"].pk])
        response = login(finance).post(self.url, data)
        assert response.status_code == 200
        assert "orders" in response.context["form"].errors
        assert not Payment.objects.exists()

    def test_the_form_lists_the_customers_open_orders_oldest_first(self, login, finance, own_customer, ledger):
        response = login(finance).get(self.url, {"customer": own_customer.pk})
        choices = list(response.context["form"].fields["orders"].queryset)
        assert choices == [ledger["own_late"], ledger["own_fresh"]]
        assert response.context["customer_totals"]["outstanding"] == D("1000.00")

    def test_domain_error_lands_at_its_field(self, login, finance, own_customer, monkeypatch):
        def refuse(**kwargs):
            raise DomainError("金额不对", field="amount")

        monkeypatch.setattr(services, "payment_record", refuse)
        response = login(finance).post(self.url, payment_data(own_customer))
        assert response.status_code == 200
        assert response.context["form"].errors["amount"] == ["金额不对"]

    def test_amount_must_be_positive(self, login, finance, own_customer):
        response = login(finance).post(self.url, payment_data(own_customer, amount="0"))
        assert "amount" in response.context["form"].errors
        assert not Payment.objects.exists()


class TestPaymentPartials:
    def test_open_orders_of_the_chosen_customer(self, login, finance, own_customer, ledger):
        response = login(finance).get(reverse("sales:payment_open_orders"), {"customer": own_customer.pk})
        assert response.status_code == 200
        body = response.content.decode()
        assert ledger["own_late"].number in body and ledger["own_fresh"].number in body
        assert ledger["other"].number not in body
        assert 'name="orders"' in body

    def test_open_orders_of_an_unknown_customer_is_404(self, login, finance):
        assert login(finance).get(reverse("sales:payment_open_orders"), {"customer": 999999}).status_code == 404

    def test_customer_search_offers_matches_only(self, login, finance, own_customer, other_customer):
        response = login(finance).get(reverse("sales:payment_customer_options"), {"q": "临沂康达"})
        choices = [value for value, _label in response.context["form"].fields["customer"].widget.choices]
        assert choices == [own_customer.pk]


# -- Payment list and detail ------------------------------------------------------------------


class TestPaymentList:
    url = reverse("sales:payment_list")

    def test_each_role_sees_payments_of_the_customers_it_sees(
        self, login, rep, manager, finance, own_customer, team_customer, other_customer
    ):
        own, team, other = (record(finance, c, "100") for c in (own_customer, team_customer, other_customer))

        def listed(user):
            return {p.pk for p in login(user).get(self.url).context["page"]}

        assert listed(rep) == {own.pk}
        assert listed(manager) == {own.pk, team.pk}
        assert listed(finance) == {own.pk, team.pk, other.pk}

    def test_filters(self, login, finance, own_customer, other_customer, ledger):
        paid = record(finance, own_customer, "500")  # fully allocated
        prepaid = record(finance, other_customer, "1000")  # 700 left over
        cash = Payment.objects.filter(pk=prepaid.pk)
        cash.update(method=Payment.Method.CASH, date=TODAY() - datetime.timedelta(days=40))
        client = login(finance)

        def listed(**params):
            return {p.pk for p in client.get(self.url, params).context["page"]}

        assert listed(unallocated="on") == {prepaid.pk}
        assert listed(method="cash") == {prepaid.pk}
        assert listed(date_from=(TODAY() - datetime.timedelta(days=10)).isoformat()) == {paid.pk}
        assert listed(date_to=(TODAY() - datetime.timedelta(days=10)).isoformat()) == {prepaid.pk}
        assert listed(q="临沂康达") == {paid.pk}
        assert listed(customer=other_customer.pk) == {prepaid.pk}

    def test_record_button_only_for_those_who_may(self, login, rep, finance):
        assert login(rep).get(self.url).context["can_record"] is False
        assert login(finance).get(self.url).context["can_record"] is True

    def test_wrong_method_is_405(self, login, finance):
        assert login(finance).post(self.url).status_code == 405

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_rows(self, login, finance, own_customer, django_assert_num_queries, count):
        for _n in range(count):
            record(finance, own_customer, "10")
        client = login(finance)
        # 1 session, 2 user, 3 count (paginator), 4 the page of payments with customer and recorder.
        with django_assert_num_queries(4):
            response = client.get(self.url)
        assert len(response.context["page"]) == min(count, 25)


class TestPaymentDetail:
    def test_shows_allocations_and_remainder(self, login, finance, own_customer, ledger):
        payment = record(finance, own_customer, "1200")
        response = login(finance).get(reverse("sales:payment_detail", args=[payment.pk]))
        assert response.status_code == 200
        assert [a.order for a in response.context["allocations"]] == [ledger["own_late"], ledger["own_fresh"]]
        assert response.context["allocated"] == D("1000.00")
        assert response.context["payment"].unallocated == D("200.00")

    def test_the_owner_and_their_manager_see_it(self, login, rep, manager, finance, own_customer):
        url = reverse("sales:payment_detail", args=[record(finance, own_customer, "10").pk])
        assert login(rep).get(url).status_code == 200
        assert login(manager).get(url).status_code == 200

    def test_invisible_payment_is_404(self, login, outsider, other_manager, finance, own_customer):
        url = reverse("sales:payment_detail", args=[record(finance, own_customer, "10").pk])
        assert login(outsider).get(url).status_code == 404
        assert login(other_manager).get(url).status_code == 404
        assert login(finance).get(reverse("sales:payment_detail", args=[999999])).status_code == 404

    def test_wrong_method_is_405(self, login, finance, own_customer):
        url = reverse("sales:payment_detail", args=[record(finance, own_customer, "10").pk])
        assert login(finance).post(url).status_code == 405


# -- Receivables ------------------------------------------------------------------------------


def totals_of(response) -> dict:
    return dict(response.context["totals"])


class TestReceivables:
    def test_finance_sees_every_customer(self, login, finance, ledger):
        totals = totals_of(login(finance).get(RECEIVABLES))
        assert totals == {
            "outstanding": D("1500.00"),
            "overdue": D("1000.00"),
            "not_due": D("500.00"),
            "1_30": D("200.00"),
            "31_60": D("500.00"),
            "61_90": D("0.00"),
            "over_90": D("300.00"),
        }

    def test_a_manager_sees_only_the_teams_receivables(self, login, manager, other_manager, ledger):
        response = login(manager).get(RECEIVABLES)
        assert totals_of(response)["outstanding"] == D("1200.00")
        assert {o.pk for o in response.context["page"]} == {
            ledger["own_late"].pk,
            ledger["own_fresh"].pk,
            ledger["team"].pk,
        }
        assert ledger["other"].number not in response.content.decode()
        other = login(other_manager).get(RECEIVABLES)
        assert totals_of(other)["outstanding"] == D("300.00")
        assert [o.pk for o in other.context["page"]] == [ledger["other"].pk]

    def test_a_rep_sees_their_own_customers(self, login, rep, ledger):
        response = login(rep).get(RECEIVABLES)
        assert totals_of(response)["outstanding"] == D("1000.00")
        assert response.context["can_record"] is False

    @pytest.mark.parametrize(
        ("params", "outstanding", "overdue"),
        [
            ({"region": "region_a"}, "1200.00", "700.00"),
            ({"region": "region_b"}, "300.00", "300.00"),
            ({"team": "team_a"}, "1200.00", "700.00"),
            ({"team": "team_b"}, "300.00", "300.00"),
            ({"rep": "teammate"}, "200.00", "200.00"),
            ({"rep": "rep"}, "1000.00", "500.00"),
            ({"bucket": "31_60"}, "500.00", "500.00"),
            ({"bucket": "not_due"}, "500.00", "0.00"),
            ({"bucket": "61_90"}, "0.00", "0.00"),
            ({"team": "team_a", "bucket": "1_30"}, "200.00", "200.00"),
            ({"q": "潍坊牧原"}, "200.00", "200.00"),
        ],
    )
    def test_filters_against_sums_by_hand(self, request, login, finance, ledger, params, outstanding, overdue):
        params = {k: (v if k in ("bucket", "q") else request.getfixturevalue(v).pk) for k, v in params.items()}
        response = login(finance).get(RECEIVABLES, params)
        totals = totals_of(response)
        assert (totals["outstanding"], totals["overdue"]) == (D(outstanding), D(overdue))
        # The rows listed add up to the totals.
        assert sum((o.outstanding_amount for o in response.context["page"]), D("0")) == D(outstanding)

    def test_a_manager_is_offered_only_the_teams_filters(self, login, manager, team_a, team_b, rep, outsider):
        form = login(manager).get(RECEIVABLES).context["filterset"].form
        assert list(form.fields["team"].queryset) == [team_a]
        assert rep in form.fields["rep"].queryset and outsider not in form.fields["rep"].queryset
        assert list(form.fields["region"].queryset) == [team_a.region]

    def test_per_customer_view_sums(self, login, finance, own_customer, team_customer, other_customer, ledger):
        response = login(finance).get(RECEIVABLES, {"view": "customers"})
        rows = {row["customer_id"]: row for row in response.context["page"]}
        own = rows[own_customer.pk]
        assert (own["outstanding"], own["overdue"]) == (D("1000.00"), D("500.00"))
        assert (own["b_not_due"], own["b_31_60"], own["b_1_30"], own["b_over_90"]) == (
            D("500.00"),
            D("500.00"),
            D("0.00"),
            D("0.00"),
        )
        assert (rows[team_customer.pk]["b_1_30"], rows[other_customer.pk]["b_over_90"]) == (D("200.00"), D("300.00"))
        # Sorted by what is owed, most first.
        assert [row["customer_id"] for row in response.context["page"]] == [
            own_customer.pk,
            other_customer.pk,
            team_customer.pk,
        ]

    def test_per_customer_view_sorts_by_overdue(
        self, login, finance, own_customer, team_customer, other_customer, ledger
    ):
        page = login(finance).get(RECEIVABLES, {"view": "customers", "ordering": "-overdue"}).context["page"]
        assert [row["customer_id"] for row in page] == [own_customer.pk, other_customer.pk, team_customer.pk]
        page = login(finance).get(RECEIVABLES, {"view": "customers", "ordering": "overdue"}).context["page"]
        assert [row["customer_id"] for row in page] == [team_customer.pk, other_customer.pk, own_customer.pk]

    def test_per_order_view_sorts(self, login, finance, ledger):
        client = login(finance)
        most_overdue = [o.pk for o in client.get(RECEIVABLES).context["page"]]
        assert most_overdue == [ledger[k].pk for k in ("other", "own_late", "team", "own_fresh")]
        largest = [o.pk for o in client.get(RECEIVABLES, {"ordering": "-outstanding"}).context["page"]]
        assert largest[-1] == ledger["team"].pk and set(largest[:2]) == {ledger["own_late"].pk, ledger["own_fresh"].pk}

    def test_a_payment_lowers_the_receivable(self, login, finance, own_customer, ledger):
        client = login(finance)
        before = totals_of(client.get(RECEIVABLES, {"customer": own_customer.pk}))
        record(finance, own_customer, "300")
        after = totals_of(client.get(RECEIVABLES, {"customer": own_customer.pk}))
        assert before["outstanding"] - after["outstanding"] == D("300.00")
        assert after["31_60"] == D("200.00")

    def test_collection_rates(self, login, finance, own_customer, ledger):
        client = login(finance)
        # From the day the oldest order fell due: own_late, team and other (1000) fell due since.
        start = overdue_by(100) + datetime.timedelta(days=30)
        params = {"period_from": start.isoformat(), "period_to": TODAY().isoformat()}
        assert client.get(RECEIVABLES, params).context["period_rate"] == D("0.0")
        record(finance, own_customer, "500")  # pays own_late (500 of the 1000 due in the period)
        response = client.get(RECEIVABLES, params)
        assert response.context["period_rate"] == D("50.0")
        assert response.context["period"] == (start, TODAY())

    def test_wrong_method_is_405(self, login, finance):
        assert login(finance).post(RECEIVABLES).status_code == 405
        assert login(finance).post(EXPORT, {"format": "csv"}).status_code == 405

    @pytest.mark.parametrize("view", ["orders", "customers"])
    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_rows(
        self, login, manager, rep, make_order, django_assert_num_queries, view, count
    ):
        for n in range(count):
            make_order(CustomerFactory(owner=rep), "1", on=overdue_by(n))
        client = login(manager)
        # 1 session, 2 user, 3 the manager's team members (visibility), 4 whether the
        # stored figures are as of today, 5 totals and collection rates to date (stored),
        # 6 count (paginator), 7 the page (orders with customer and owner, or the stored
        # per-customer figures), 8-10 region, team and rep choices of the filter form.
        with django_assert_num_queries(10):
            response = client.get(RECEIVABLES, {"view": view})
        assert len(response.context["page"]) == min(count, 25)
        # Stored figures of another day: 5 totals and 6 collection rates from the
        # orders, 7 count, 8 the page (or the per-customer sums of the orders), 9-11 choices.
        CustomerReceivable.objects.update(as_of=TODAY() - datetime.timedelta(days=1))
        with django_assert_num_queries(11):
            response = client.get(RECEIVABLES, {"view": view})
        assert len(response.context["page"]) == min(count, 25)


# -- Export -----------------------------------------------------------------------------------


@pytest.fixture
def tricky_customer(rep, make_order):
    """A customer whose name and code a spreadsheet would run as formulas."""
    customer = CustomerFactory(owner=rep, name='=HYPERLINK("http://evil.example","点我")', code="@SUM(A1)")
    make_order(customer, "2", on=overdue_by(5))  # 100 due 5 days ago
    return customer


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(workbook.active.iter_rows(values_only=True))


class TestReceivablesExport:
    def test_csv_per_order_is_what_the_manager_sees(self, login, manager, ledger, tricky_customer):
        response = login(manager).get(EXPORT, {"format": "csv"}, headers=ENGLISH)
        assert response.status_code == 200 and response.streaming
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        header, *rows = csv_rows(response)
        assert header[0] == "Order" and header[-1] == "Outstanding"
        numbers = {row[0] for row in rows}
        assert numbers == {ledger[k].number for k in ("own_late", "own_fresh", "team")} | {
            Order.objects.get(customer=tricky_customer).number
        }
        assert ledger["other"].number not in numbers
        tricky = next(row for row in rows if row[2].startswith("'"))
        assert tricky[1] == "'@SUM(A1)"
        assert tricky[2] == "'" + tricky_customer.name
        assert tricky[-1] == "100.00" and tricky[6] == "5"

    def test_csv_applies_the_filters(self, login, finance, team_b, ledger):
        header, *rows = csv_rows(login(finance).get(EXPORT, {"format": "csv", "team": team_b.pk}))
        assert [row[0] for row in rows] == [ledger["other"].number]
        assert rows[0][-1] == "300.00"

    def test_xlsx_per_customer_has_numeric_cells(
        self, login, finance, own_customer, team_customer, other_customer, ledger, tricky_customer
    ):
        response = login(finance).get(EXPORT, {"format": "xlsx", "view": "customers"}, headers=ENGLISH)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        header, *rows = xlsx_rows(response)
        assert header[:5] == ("Customer code", "Customer", "Owner rep", "Outstanding", "Overdue")
        by_name = {row[1]: row for row in rows}
        own = by_name[own_customer.name]
        assert own[3:] == (1000, 500, 500, 0, 500, 0, 0)
        assert all(isinstance(v, int | float) for v in own[3:])
        tricky = by_name["'" + tricky_customer.name]
        assert tricky[0] == "'@SUM(A1)" and tricky[3] == 100
        assert len(rows) == 4

    def test_xlsx_only_visible_rows_with_filters(self, login, rep, ledger, tricky_customer):
        response = login(rep).get(EXPORT, {"format": "xlsx", "bucket": "31_60"})
        header, *rows = xlsx_rows(response)
        assert [row[0] for row in rows] == [ledger["own_late"].number]
        assert rows[0][-1] == 500 and isinstance(rows[0][4], datetime.datetime)

    @pytest.mark.parametrize("view", ["orders", "customers"])
    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_rows(
        self, login, finance, rep, make_order, django_assert_num_queries, view, count
    ):
        for n in range(count):
            make_order(CustomerFactory(owner=rep), "1", on=overdue_by(n))
        client = login(finance)
        # 1 session, 2 user, 3 the rows, read in chunks through one cursor.
        with django_assert_num_queries(3):
            rows = csv_rows(client.get(EXPORT, {"view": view}))
        assert len(rows) == count + 1

    def test_csv_is_the_default_and_an_unknown_format_is_404(self, login, finance):
        assert login(finance).get(EXPORT)["Content-Type"].startswith("text/csv")
        assert login(finance).get(EXPORT, {"format": "pdf"}).status_code == 404


def test_anonymous_users_are_sent_to_login(client):
    for name in ("sales:payment_list", "sales:payment_create", "sales:receivables", "sales:receivables_export"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response.url


def test_a_superuser_records_payments(login):
    # Whatever the role says: superusers are admins (is_admin_role).
    superuser = UserFactory(role="rep", is_superuser=True)
    assert login(superuser).get(reverse("sales:payment_create")).status_code == 200
