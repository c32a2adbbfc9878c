"""The sales demo (loaded by seed_demo after the archive demo): three years of orders
with the 80/20 skew, dormant customers, money in every aging bucket, consistent
allocations, contracts about to expire, and nothing added by a second run."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.demo import DEMO_REASON
from crm.models import AuditEvent
from sales import receivables
from sales.demo import SEED, SalesMaker
from sales.models import (
    AfterSalesRequest,
    Allocation,
    Contract,
    CustomerSales,
    Order,
    OrderLine,
    Payment,
    Product,
    SalesPolicy,
    SalesTarget,
)

ZERO = Decimal("0")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def today():
    return timezone.localdate()


# django_db also makes pytest-django create the test database before `seeded` runs.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def test_seed_reports_the_sales_demo(seeded):
    assert "Sales demo loaded" in seeded


def test_catalogue_and_policies():
    drugs = Product.objects.filter(industry="vet_drugs")
    assert drugs.count() >= 35
    assert not drugs.filter(approval_number="").exists()
    assert drugs.filter(approval_number__regex=r"^兽药(生)?字\(20\d\d\)15\d{7}$").count() == drugs.count()
    assert drugs.filter(prescription=True).exists() and drugs.filter(prescription=False).exists()
    phones = Product.objects.filter(category=Product.Category.HANDSET)
    assert phones.count() >= 12
    assert not phones.filter(Q(model_name="") | Q(colour="") | Q(memory="")).exists()
    types = {t for policy in SalesPolicy.objects.all() for t in policy.customer_types}
    assert {"dealer", "farm"} <= types
    # Lines bought while a policy ran took its (lower) price and name it.
    policy_lines = OrderLine.objects.exclude(policy=None)
    assert policy_lines.exists()
    assert not policy_lines.filter(unit_price__gte=F("list_price")).exists()


def test_three_years_of_orders_in_every_status(today):
    first = Order.objects.order_by("order_date").values_list("order_date", flat=True).first()
    assert (today - first).days >= 3 * 365
    statuses = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    assert set(statuses) == set(Order.Status.values)
    assert statuses[Order.Status.COMPLETED] > sum(statuses.values()) / 2
    recent = Order.objects.filter(order_date__gte=today - datetime.timedelta(days=30))
    assert recent.filter(status__in=[Order.Status.CONFIRMED, Order.Status.SHIPPED]).exists()
    assert not Order.objects.filter(status=Order.Status.DRAFT).exclude(due_date=None).exists()


def test_order_totals_are_the_sum_of_their_lines():
    mismatched = (
        Order.objects.annotate(lines_total=Coalesce(Sum("lines__amount"), ZERO)).exclude(total=F("lines_total")).count()
    )
    assert mismatched == 0
    assert not OrderLine.objects.exclude(amount=F("quantity") * F("unit_price")).exists()


def test_revenue_follows_the_80_20_rule():
    revenue = list(
        Order.objects.open()
        .values("customer")
        .annotate(total=Sum("total"))
        .order_by("-total")
        .values_list("total", flat=True)
    )
    assert len(revenue) >= 250
    top_fifth = sum(revenue[: len(revenue) // 5])
    assert top_fifth / sum(revenue) >= Decimal("0.70")


def test_dormant_customers_exist(today):
    half_year_ago = today - datetime.timedelta(days=180)
    dormant = CustomerSales.objects.filter(last_order_date__lt=half_year_ago)
    assert dormant.count() >= 10
    # Their stored figures agree with the orders: nothing ordered since.
    assert (
        not Order.objects.open().filter(customer__in=dormant.values("customer"), order_date__gte=half_year_ago).exists()
    )


def test_every_aging_bucket_holds_money(today):
    totals = receivables.totals(Order.objects.all(), today)
    for key, _label in receivables.BUCKETS:
        assert totals[key] > 0, key
    assert totals["overdue"] > 0
    stored = CustomerSales.objects.aggregate(receivable=Sum("receivable"), overdue=Sum("overdue"))
    assert stored["receivable"] == totals["outstanding"]
    assert stored["overdue"] == totals["overdue"]


def test_payments_and_allocations_add_up():
    assert Payment.objects.count() > 1000
    assert not Order.objects.filter(paid_amount__gt=F("total")).exists()
    # An order's paid amount is what was allocated to it; unallocated orders paid nothing.
    allocated = Order.objects.annotate(allocated=Coalesce(Sum("allocations__amount"), ZERO))
    assert not allocated.exclude(paid_amount=F("allocated")).exists()
    per_payment = Payment.objects.annotate(allocated=Coalesce(Sum("allocations__amount"), ZERO))
    assert not per_payment.exclude(amount=F("allocated") + F("unallocated")).exists()
    assert not Allocation.objects.exclude(order__status__in=Order.RECEIVABLE_STATUSES).exists()
    # Prepayment is only left over when the customer has nothing open to pay.
    prepaid = Payment.objects.filter(unallocated__gt=0).values("customer")
    assert not Order.objects.outstanding().filter(customer__in=prepaid).exists()


def test_oldest_orders_are_paid_first():
    """While an order is unpaid, no payment made after it was placed went to an order
    due later: checked for the customers with the most orders."""
    busiest = (
        Order.objects.open()
        .values("customer")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("customer", flat=True)
    )
    checked = 0
    for customer_id in busiest[:5]:
        orders = list(Order.objects.open().filter(customer_id=customer_id).order_by("due_date", "order_date", "id"))
        for position, unpaid in enumerate(orders):
            if unpaid.paid_amount == unpaid.total:
                continue
            later = [o.pk for o in orders[position + 1 :]]
            jumped = Allocation.objects.filter(order__in=later, payment__date__gte=unpaid.order_date)
            assert not jumped.exists(), unpaid.number
            checked += 1
    assert checked > 0


def test_contracts_in_every_state(today):
    statuses = set(Contract.objects.values_list("status", flat=True))
    assert {"active", "expired", "pending", "draft"} <= statuses
    soon = Contract.objects.filter(
        status=Contract.Status.ACTIVE, valid_to__gte=today, valid_to__lte=today + datetime.timedelta(days=60)
    )
    assert soon.exists()
    assert Contract.objects.filter(kind=Contract.Kind.FRAMEWORK, status=Contract.Status.ACTIVE).count() >= 10
    assert not Contract.objects.filter(status=Contract.Status.ACTIVE, valid_to__lt=today).exists()
    assert not Contract.objects.filter(status=Contract.Status.ACTIVE, approved_by=None).exists()
    # Orders placed under a contract fall in its period and take its payment term.
    linked = Order.objects.exclude(contract=None).select_related("contract")
    assert linked.exists()
    for order in linked[:300]:
        assert order.contract.valid_from <= order.order_date <= order.contract.valid_to
        assert order.payment_term_days == order.contract.payment_term_days


def test_after_sales_and_targets(today):
    assert set(AfterSalesRequest.objects.values_list("status", flat=True)) == set(AfterSalesRequest.Status.values)
    assert not AfterSalesRequest.objects.filter(status="resolved", resolved_at=None).exists()
    targets = SalesTarget.objects.values("rep").annotate(months=Count("id"))
    assert len(targets) == 6 and all(t["months"] == 12 for t in targets)


def test_history_records_each_order_payment_and_contract():
    events = AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, reason=DEMO_REASON)
    assert events.filter(object_type="order").count() == Order.objects.count()
    assert events.filter(object_type="payment").count() == Payment.objects.count()
    assert events.filter(object_type="contract").count() == Contract.objects.count()
    assert events.filter(object_type="order", actor__username="admin").exists()
    sample = events.filter(object_type="order").first()
    assert sample.changes["lines"][1] and sample.at.date() <= timezone.localdate()


def test_the_maker_is_deterministic():
    maker_a = SalesMaker(seed=SEED, today=datetime.date(2026, 1, 15), products=[], price_book=None)
    maker_b = SalesMaker(seed=SEED, today=datetime.date(2026, 1, 15), products=[], price_book=None)
    types = ["dealer", "farm", "clinic", "store"] * 50
    assert maker_a.weights(types) == maker_b.weights(types)


def test_second_run_adds_nothing():
    counts = [m.objects.count() for m in (Order, OrderLine, Payment, Allocation, Contract, AuditEvent, Product)]
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Sales demo loaded" not in out.getvalue()
    assert counts == [m.objects.count() for m in (Order, OrderLine, Payment, Allocation, Contract, AuditEvent, Product)]
