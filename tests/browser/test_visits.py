"""Visits in a real browser on a phone-sized screen (375 x 812): a rep opens today's page,
checks in from a plan (the browser gives the position, with permission granted), logs
the visit with a next step and sees the follow-up plan; without permission the visit is
logged without a location; a manager sees the team's week (on a phone and a desktop)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import ContactFactory
from visits.models import Visit, VisitFrequency, VisitPlan
from visits.services import cadence

pytestmark = pytest.mark.django_db(transaction=True)

# The customer's stored location, and where the phone says the rep is (about 60 m away).
SHOP = (Decimal("35.104673"), Decimal("118.356448"))
PHONE = {"latitude": 35.105213, "longitude": 118.356448, "accuracy": 12}


def _context(browser, live_server, *, width=375, height=812, located=True):
    options = {"base_url": live_server.url, "viewport": {"width": width, "height": height}, "locale": "en-US"}
    if located:
        options.update(geolocation=PHONE, permissions=["geolocation"])
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def located_phone(browser, live_server):
    context = _context(browser, live_server)
    yield context.new_page()
    context.close()


@pytest.fixture
def unlocated_phone(browser, live_server):
    # No permission granted: the page's request for the position is refused.
    context = _context(browser, live_server, located=False)
    yield context.new_page()
    context.close()


def test_rep_logs_a_visit_from_todays_plan_on_a_phone(located_phone, login_as, screenshot, rep, own_customer):
    page = located_phone
    Customer.objects.filter(pk=own_customer.pk).update(latitude=SHOP[0], longitude=SHOP[1])
    contact = ContactFactory(customer=own_customer, name="王老板", title="总经理")
    plan = VisitPlan.objects.create(
        customer=own_customer,
        rep=rep,
        planned_date=timezone.localdate(),
        planned_time=datetime.time(10),
        purpose="推介本月特价",
    )
    VisitFrequency.objects.create(customer_type="", interval_days=14)
    login_as(page, rep)

    page.goto(reverse("visits:today"))
    card = page.locator(".today-plan", has_text=own_customer.name)
    expect(card).to_contain_text("推介本月特价")
    screenshot(page, "today")
    card.get_by_role("button", name="Check in").click()

    visit = _wait_for_visit(page)
    expect(page).to_have_url(re.compile(reverse("visits:visit_edit", args=[visit.pk]) + "$"))
    expect(page.locator(".visit-distance")).to_contain_text("60 m from the customer")
    assert visit.plan == plan and visit.accuracy_m == 12
    assert visit.distance_m == pytest.approx(60, abs=2)

    page.get_by_label("王老板").check()
    page.fill("textarea[name=summary]", "老板有意扩大疫苗采购")
    page.fill("textarea[name=needs]", "圆环疫苗50瓶")
    page.fill("textarea[name=next_step]", "带合同草稿再访")
    follow_up = timezone.localdate() + datetime.timedelta(days=3)
    page.fill("input[name=follow_up_date]", follow_up.isoformat())
    screenshot(page, "log")
    page.get_by_role("button", name="Save and check out").click()

    expect(page).to_have_url(re.compile(reverse("visits:visit_detail", args=[visit.pk]) + "$"))
    expect(page.locator(".visit-summary")).to_have_text("老板有意扩大疫苗采购")
    expect(page.locator(".visit-log")).to_contain_text("王老板")
    link = page.locator("a.follow-up-link")
    expect(link).to_contain_text(follow_up.isoformat())
    screenshot(page, "visit")
    link.click()

    follow_up_plan = VisitPlan.objects.get(follow_up_of=visit)
    expect(page).to_have_url(re.compile(follow_up_plan.get_absolute_url() + "$"))
    expect(page.locator(".plan-purpose")).to_have_text("带合同草稿再访")
    expect(page.locator(".plan-status")).to_have_text("Planned")
    screenshot(page, "follow-up")
    assert (follow_up_plan.rep, follow_up_plan.planned_date) == (rep, follow_up)
    visit.refresh_from_db()
    assert visit.checked_out_at is not None and list(visit.contacts.all()) == [contact]

    # Back on today's page: the plan is done, the follow-up is coming up, nothing overdue.
    page.goto(reverse("visits:today"))
    expect(page.locator(".today-plan")).to_have_count(0)
    expect(page.locator(".follow-ups")).to_contain_text(own_customer.name)
    expect(page.locator(".overdue-customers")).to_contain_text("No customer is overdue")
    screenshot(page, "today-after")
    _assert_fits(page)


def test_without_permission_the_visit_has_no_location(unlocated_phone, login_as, screenshot, rep, own_customer):
    page = unlocated_phone
    login_as(page, rep)
    page.goto(reverse("customers:detail", args=[own_customer.pk]))
    page.get_by_role("link", name="Log a visit").click()
    expect(page.locator("select[name=customer]")).to_have_value(str(own_customer.pk))
    page.select_option("select[name=level]", "technical")
    screenshot(page, "check-in")
    page.get_by_role("button", name="Check in").click()
    visit = _wait_for_visit(page)
    expect(page.locator(".visit-location")).to_contain_text("No location")
    assert not visit.is_located and visit.level == "technical"
    own_customer.refresh_from_db()
    assert own_customer.latitude is None


def test_manager_sees_the_team_week(
    browser, live_server, login_as, screenshot, manager, rep, teammate, own_customer, team_customer
):
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    VisitPlan.objects.create(
        customer=team_customer, rep=teammate, planned_date=monday + datetime.timedelta(days=4), purpose="催款"
    )
    VisitPlan.objects.create(
        customer=own_customer,
        rep=rep,
        planned_date=monday + datetime.timedelta(days=1),
        purpose="送样",
        status="missed",
    )
    checked_in = timezone.make_aware(datetime.datetime.combine(monday, datetime.time(10)))
    Visit.objects.create(
        customer=own_customer, rep=rep, visit_date=monday, checked_in_at=checked_in,
        checked_out_at=checked_in + datetime.timedelta(minutes=40),
    )  # fmt: skip
    long_ago = checked_in - datetime.timedelta(days=21)
    Visit.objects.create(customer=team_customer, rep=teammate, visit_date=monday - datetime.timedelta(days=21),
                         checked_in_at=long_ago, checked_out_at=long_ago + datetime.timedelta(minutes=30))  # fmt: skip
    VisitFrequency.objects.create(customer_type="", interval_days=7)
    cadence.refresh(today=today)

    for width, height, name in ((375, 812, "phone"), (1280, 900, "desktop")):
        context = _context(browser, live_server, width=width, height=height, located=False)
        page = context.new_page()
        login_as(page, manager)
        page.goto(reverse("visits:team_week"))
        expect(page.locator(".team-name")).to_have_text(manager.team.name)
        rows = page.locator(".team-week-card" if name == "phone" else ".team-week-row")
        expect(rows).to_have_count(3)  # the manager, rep and teammate
        teammate_row = rows.filter(has_text=teammate.get_full_name())
        expect(teammate_row).to_contain_text(team_customer.name)
        expect(teammate_row).to_contain_text("0 visited · 1 open")
        rep_row = rows.filter(has_text=rep.get_full_name())
        expect(rep_row).to_contain_text("1 visited · 0 open")
        expect(rep_row.locator(".plan-missed")).to_have_count(1)
        screenshot(page, f"team-{name}")
        if name == "phone":
            _assert_fits(page)
            # From the team to one rep's week.
            teammate_row.get_by_role("link", name=teammate.get_full_name()).click()
            expect(page.locator("h1")).to_contain_text(teammate.get_full_name())
            expect(page.locator(".week-day").nth(4)).to_contain_text(team_customer.name)
            screenshot(page, "rep-week")
        else:
            page.goto(reverse("visits:overdue"))
            expect(page.locator(".overdue-table")).to_contain_text(team_customer.name)
            screenshot(page, "overdue")
        context.close()


def _wait_for_visit(page) -> Visit:
    expect(page).to_have_url(re.compile(r"/visits/\d+/edit/$"))
    return Visit.objects.get(pk=int(re.search(r"/visits/(\d+)/edit/", page.url).group(1)))


def _assert_fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (
        f"the page is {width}px wide on a {page.viewport_size['width']}px screen"
    )
