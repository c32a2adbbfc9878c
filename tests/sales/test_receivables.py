import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from crm import nightly
from sales import metrics, receivables, services
from sales.models import CustomerSales, Order

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = datetime.date(2026, 6, 30)


@pytest.fixture
def ledger(finance_user, own_customer, make_order):
    """Orders of 500 due at different ages (term 30 days), one partly paid."""
    due = {  # order date -> bucket of its due date (order date + 30) on TODAY
        datetime.date(2026, 6, 20): "not_due",
        datetime.date(2026, 5, 15): "1_30",
        datetime.date(2026, 4, 10): "31_60",
        datetime.date(2026, 3, 10): "61_90",
        datetime.date(2026, 1, 5): "over_90",
    }
    orders = {bucket: make_order(own_customer, "10", on=on) for on, bucket in due.items()}
    # 200 paid, allocated oldest first: to the over-90 order.
    services.payment_record(actor=finance_user, customer=own_customer, date=datetime.date(2026, 6, 1), amount=D("200"))
    return orders


def test_aging_buckets_and_totals(ledger):
    items = receivables.open_items(Order.objects.all(), TODAY)
    assert {o.number: o.bucket for o in items} == {o.number: b for b, o in ledger.items()}
    totals = receivables.totals(Order.objects.all(), TODAY)
    assert totals["over_90"] == D("300.00") and totals["not_due"] == D("500.00")
    assert totals["outstanding"] == D("2300.00") and totals["overdue"] == D("1800.00")


def test_cancelled_orders_leave_the_receivables(rep, ledger):
    services.order_transition(actor=rep, order=ledger["1_30"], action="cancel")
    assert receivables.totals(Order.objects.all(), TODAY)["1_30"] == D("0.00")


def test_collection_rate_of_what_fell_due(ledger):
    # Due in the first half of 2026: over_90 (due 2-4, 200 of 500 paid), 61_90 (due 4-9), 31_60 (due 5-10).
    rate = receivables.collection_rate(Order.objects.all(), datetime.date(2026, 1, 1), datetime.date(2026, 5, 31))
    assert rate == D("13.3")
    assert (
        receivables.collection_rate(Order.objects.all(), datetime.date(2025, 1, 1), datetime.date(2025, 1, 31)) is None
    )


def test_metrics_are_stored_per_customer(ledger, own_customer):
    metrics.refresh(today=TODAY, customer_ids=[own_customer.pk])
    figures = CustomerSales.objects.get(customer=own_customer)
    assert figures.first_order_date == datetime.date(2026, 1, 5)
    assert figures.last_order_date == datetime.date(2026, 6, 20)
    assert (figures.orders_12m, figures.amount_12m) == (5, D("2500.00"))
    assert (figures.receivable, figures.overdue) == (D("2300.00"), D("1800.00"))


def test_nightly_run_twice_gives_the_same_figures(ledger, own_customer, team_customer):
    first = nightly.run(today=TODAY)
    snapshot = list(CustomerSales.objects.order_by("pk").values())
    second = nightly.run(today=TODAY)
    assert first["sales_metrics"] == second["sales_metrics"] >= 2
    assert list(CustomerSales.objects.order_by("pk").values()) == snapshot


def test_nightly_command_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as exc:
        call_command("run_nightly", "--date", "2026-13-01")
    assert "--date" in str(exc.value)


def test_customer_list_filters_and_sorts_on_sales_figures(rep, login, ledger, own_customer, team_customer):
    from tests.factories import CustomerFactory

    quiet = CustomerFactory(owner=rep, name="无订单兽药店")
    metrics.refresh(today=TODAY)
    client = login(rep)
    page = client.get("/customers/", {"amount_12m_min": "1000"})
    assert [c.pk for c in page.context["page"]] == [own_customer.pk]
    ordered = client.get("/customers/", {"ordering": "-amount_12m"})
    assert [c.pk for c in ordered.context["page"]][0] == own_customer.pk
    overdue = client.get("/customers/", {"overdue": "true"})
    assert quiet.pk not in [c.pk for c in overdue.context["page"]]
