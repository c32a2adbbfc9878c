"""Orders in a real browser: a rep starts an order from the customer's sales tab, sees
the policy price and the total before saving (htmx preview), adds a line, saves, and
reads the order; the same form fits a phone; a manager sets a rep's target and sees
the achievement."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from sales import services
from sales.models import Order, PolicyItem, SalesPolicy, SalesTarget
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def policy_product(db):
    """A product listed at 50.00 with this month's special price of 42.00 for every customer."""
    today = timezone.localdate()
    product = ProductFactory(name="阿莫西林可溶性粉", list_price=Decimal("50.00"))
    policy = SalesPolicy.objects.create(
        name="本月特价", start=today.replace(day=1), end=today + datetime.timedelta(days=31)
    )
    PolicyItem.objects.create(policy=policy, product=product, special_price=Decimal("42.00"))
    return product


def test_rep_creates_an_order_with_a_policy_price(page, login_as, screenshot, rep, own_customer, policy_product):
    other = ProductFactory(name="黄芪多糖注射液", list_price=Decimal("12.50"))
    login_as(page, rep)
    page.goto(reverse("customers:detail", args=[own_customer.pk]) + "?tab=sales")
    page.get_by_role("link", name="+ New order").click()
    expect(page).to_have_url(re.compile(rf"customer={own_customer.pk}"))
    expect(page.locator("select[name=customer]")).to_have_value(str(own_customer.pk))

    page.select_option("select[name='lines-0-product']", str(policy_product.pk))
    page.fill("input[name='lines-0-quantity']", "3")
    preview = page.locator("#price-preview")
    expect(preview.locator(".policy-name")).to_have_text("本月特价")
    expect(preview.locator(".unit-price").first).to_have_text("42.00")
    expect(preview.locator(".preview-total")).to_have_text("126.00")

    # A sixth line through htmx: the row count follows, so the server reads the new row.
    page.locator("button.add-line").click()
    expect(page.locator("select[name='lines-5-product']")).to_be_visible()
    expect(page.locator("#id_lines-TOTAL_FORMS")).to_have_value("6")
    page.select_option("select[name='lines-5-product']", str(other.pk))
    page.fill("input[name='lines-5-quantity']", "2")
    expect(preview.locator(".preview-total")).to_have_text("151.00")  # 3 × 42.00 + 2 × 12.50
    screenshot(page, "form")

    page.locator("#order-form [type=submit]").click()
    order = Order.objects.get(customer=own_customer)
    expect(page).to_have_url(re.compile(reverse("sales:order_detail", args=[order.pk]) + "$"))
    expect(page.locator(".order-total")).to_have_text("151.00")
    expect(page.locator(".order-lines .policy-name")).to_have_text("本月特价")
    screenshot(page, "detail")
    assert order.total == Decimal("151.00") and order.status == Order.Status.DRAFT
    assert sorted(order.lines.values_list("unit_price", flat=True)) == [Decimal("12.50"), Decimal("42.00")]

    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".order-status")).to_have_text("Confirmed")
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED and order.due_date is not None

    # The customer's sales tab now owes the order's total.
    page.goto(reverse("customers:detail", args=[own_customer.pk]) + "?tab=sales")
    expect(page.locator(".receivable-total")).to_have_text("151.00")
    expect(page.get_by_role("link", name=order.number)).to_be_visible()
    screenshot(page, "sales-tab")


def test_order_form_and_detail_fit_a_phone(phone_page, login_as, screenshot, rep, own_customer, policy_product):
    login_as(phone_page, rep)
    phone_page.goto(reverse("sales:order_create") + f"?customer={own_customer.pk}")
    phone_page.select_option("select[name='lines-0-product']", str(policy_product.pk))
    phone_page.fill("input[name='lines-0-quantity']", "10")
    expect(phone_page.locator(".preview-total")).to_have_text("420.00")
    screenshot(phone_page, "form")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the order form is {width}px wide on a 375px phone"

    phone_page.locator("#order-form [type=submit]").click()
    expect(phone_page.locator(".order-total")).to_have_text("420.00")
    screenshot(phone_page, "detail")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the order page is {width}px wide on a 375px phone"
    phone_page.goto(reverse("sales:order_list"))
    screenshot(phone_page, "list")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the order list is {width}px wide on a 375px phone"


def test_manager_sets_a_target_and_sees_the_achievement(page, login_as, screenshot, manager, rep, own_customer):
    today = timezone.localdate()
    product = ProductFactory(list_price=Decimal("100.00"))
    order = services.order_create(
        actor=rep, customer=own_customer, order_date=today, lines=[services.LineInput(product, Decimal("5"))]
    )
    services.order_transition(actor=rep, order=order, action="confirm")
    login_as(page, manager)
    page.goto(reverse("sales:target_list"))
    row = page.locator(f".target-row[data-rep='{rep.pk}']")
    row.get_by_role("link", name="Set").click()
    page.fill("input[name=order_target]", "2000")
    page.fill("input[name=collection_target]", "1000")
    page.locator(".target-form [type=submit]").click()
    expect(row.locator(".order-percent")).to_have_text("25.0%")  # 500 of 2,000
    expect(row.locator(".collection-percent")).to_have_text("0.0%")
    screenshot(page, "targets")
    target = SalesTarget.objects.get(rep=rep)
    assert (target.month, target.order_target) == (today.replace(day=1), Decimal("2000.00"))
