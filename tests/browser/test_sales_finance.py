"""Finance in a real browser: the receivables page, recording a payment (customer
found by search, open orders loaded with htmx), and the receivable dropping by the
payment; the receivables page on a phone."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from sales import services
from sales.models import Order, Payment
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def money(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.\-]", "", text))


@pytest.fixture
def make_order(db):
    product = ProductFactory(list_price=Decimal("50.00"))

    def _make(customer, quantity, on):
        lines = [services.LineInput(product=product, quantity=Decimal(quantity))]
        order = services.order_create(actor=customer.owner, customer=customer, order_date=on, lines=lines)
        return services.order_transition(actor=customer.owner, order=order, action="confirm")

    return _make


@pytest.fixture
def owed(own_customer, other_customer, make_order):
    """own_customer owes 500 due 40 days ago and 250 not yet due; another customer 300."""
    today = timezone.localdate()
    late = make_order(own_customer, "10", on=today - datetime.timedelta(days=70))
    fresh = make_order(own_customer, "5", on=today - datetime.timedelta(days=3))
    make_order(other_customer, "6", on=today - datetime.timedelta(days=50))
    return late, fresh


def customer_outstanding(page, customer) -> Decimal:
    page.goto(f"{reverse('sales:receivables')}?view=customers")
    return money(page.locator(f"tr[data-customer='{customer.pk}'] .row-outstanding").inner_text())


def test_finance_records_a_payment_and_the_receivable_drops(page, login_as, screenshot, finance, own_customer, owed):
    late, fresh = owed
    login_as(page, finance)
    before = customer_outstanding(page, own_customer)
    assert before == Decimal("750.00")
    expect(page.locator("#total-outstanding")).to_have_text("1,050.00")
    screenshot(page, "receivables-before")

    page.goto(reverse("sales:payment_create"))
    page.fill("#customer-search", "康达")
    # The search fills the select and the first match's open orders load with it.
    expect(page.locator("#id_customer option")).to_have_text([re.compile(own_customer.name)])
    expect(page.locator("#open-orders")).to_contain_text(late.number)
    expect(page.locator("#open-orders")).to_contain_text(fresh.number)
    expect(page.locator("#open-orders")).to_contain_text("750.00")
    page.fill("input[name=amount]", "300")
    page.fill("input[name=reference]", "工行 20260301-01")
    expect(page.locator("input[name=allocation][value=oldest]")).to_be_checked()
    screenshot(page, "payment-form")
    with page.expect_navigation():
        page.locator("form.payment-form [type=submit]").click()

    payment = Payment.objects.get()
    expect(page).to_have_url(re.compile(reverse("sales:payment_detail", args=[payment.pk])))
    expect(page.locator("#payment-allocated")).to_have_text("300.00")
    expect(page.locator(".allocation-table")).to_contain_text(late.number)
    screenshot(page, "payment-detail")

    after = customer_outstanding(page, own_customer)
    assert before - after == Decimal("300.00")
    expect(page.locator("#total-outstanding")).to_have_text("750.00")
    screenshot(page, "receivables-after")
    # The database agrees: oldest first, so the late order carries the payment.
    assert Order.objects.get(pk=late.pk).paid_amount == Decimal("300.00")
    assert Order.objects.get(pk=fresh.pk).paid_amount == Decimal("0.00")
    assert (payment.customer, payment.amount, payment.recorded_by) == (own_customer, Decimal("300.00"), finance)


def test_receivables_fit_a_phone(phone_page, login_as, screenshot, finance, owed):
    login_as(phone_page, finance)
    phone_page.goto(reverse("sales:receivables"))
    expect(phone_page.locator("#total-outstanding")).to_be_visible()
    screenshot(phone_page, "orders")
    fits = "el => el.scrollWidth <= el.clientWidth"
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    # The table itself fits too: no sideways scrolling to reach the amounts.
    assert phone_page.locator(".table-responsive-md").evaluate(fits)
    phone_page.goto(f"{reverse('sales:receivables')}?view=customers")
    screenshot(phone_page, "customers")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    assert phone_page.locator(".table-responsive-md").evaluate(fits)
