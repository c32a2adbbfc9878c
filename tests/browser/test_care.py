"""Customer care in a real browser on a phone (375 x 812): a client-service clerk writes
a bulk message, previews it with its recipient count and sample, and sends it; a rep
logs a call from the customer's timeline and finds it there."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import ContactFactory, CustomerFactory
from tests.visits.care_helpers import MEMORY_BACKEND, make_template
from visits import sms
from visits.models import Campaign, Communication

pytestmark = pytest.mark.django_db(transaction=True)


def fits(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the {what} is {width}px wide on a 375px phone"


def test_clerk_previews_a_bulk_message_and_sends_it(phone_page, login_as, screenshot, settings, client_service, rep):
    settings.SMS_BACKEND = MEMORY_BACKEND
    sms.MemoryBackend.outbox.clear()
    template = make_template(occasion="bulk", name="新品上市通知", body="{contact}您好！新品到货，欢迎{customer}订购。")
    for n in range(3):
        farm = CustomerFactory(owner=rep, type="farm", name=f"沂蒙第{n + 1}养殖场")
        ContactFactory(customer=farm, is_primary=True, mobile=f"1380000000{n}", name=f"王场长{n + 1}")
    ContactFactory(customer=CustomerFactory(owner=rep, type="farm"), is_primary=True, opted_out=True)
    ContactFactory(customer=CustomerFactory(owner=rep, type="store"), is_primary=True)
    page = phone_page
    login_as(page, client_service)

    page.goto(reverse("visits:campaign_list"))
    expect(page.locator(".bulk-rules")).to_contain_text("managers to their team's customers")
    page.get_by_role("link", name="New bulk message").click()
    page.fill("input[name=name]", "猪场新品通知")
    page.select_option("select[name=template]", str(template.pk))
    page.select_option("select[name=customer_type]", "farm")
    screenshot(page, "form")
    fits(page, "bulk message form")
    page.get_by_role("button", name="Preview").click()

    campaign = Campaign.objects.get()
    expect(page).to_have_url(re.compile(reverse("visits:campaign_detail", args=[campaign.pk]) + "$"))
    expect(page.locator("#recipient-count")).to_have_text("3")
    expect(page.locator(".campaign-preview")).to_contain_text("1 opted out")
    expect(page.locator(".campaign-sample")).to_contain_text("王场长1您好！新品到货，欢迎沂蒙第1养殖场订购。")
    screenshot(page, "preview")
    fits(page, "preview")
    assert sms.MemoryBackend.outbox == [], "nothing is sent by previewing"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Send to 3 recipients").click()
    expect(page.locator("#sent-count")).to_have_text("3")
    screenshot(page, "sent")
    assert sorted(to for to, _text in sms.MemoryBackend.outbox) == ["13800000000", "13800000001", "13800000002"]
    sms.MemoryBackend.outbox.clear()


def test_rep_logs_a_call_from_the_timeline(phone_page, login_as, screenshot, rep, own_customer):
    ContactFactory(customer=own_customer, name="王经理")
    page = phone_page
    login_as(page, rep)
    page.goto(reverse("customers:detail", args=[own_customer.pk]) + "?tab=timeline")
    expect(page.get_by_text("Nothing recorded yet.")).to_be_visible()
    page.get_by_role("link", name="Log communication").first.click()
    page.select_option("select[name=kind]", "call")
    page.select_option("select[name=contact]", label="王经理")
    page.fill("textarea[name=summary]", "电话沟通下月进货，客户要补货阿莫西林50袋")
    screenshot(page, "form")
    fits(page, "communication form")
    page.locator(".communication-form [type=submit]").click()

    expect(page).to_have_url(re.compile(r"tab=timeline"))
    entry = page.locator(".timeline-communication").first
    expect(entry).to_contain_text("电话沟通下月进货")
    expect(entry).to_contain_text("王经理")
    screenshot(page, "timeline")
    fits(page, "timeline")
    assert Communication.objects.get().user == rep
