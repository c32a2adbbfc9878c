"""The customer archive in a real browser: the paths a rep, client service and a
manager take every day, and the list page on a phone."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from customers.models import Contact, Customer
from customers.validators import credit_code_check_char
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_rep_finds_a_customer_and_adds_a_contact(page, login_as, screenshot, rep, own_customer, team_customer):
    login_as(page, rep)
    page.goto(reverse("customers:list"))
    page.fill("input[name=q]", "康达")
    page.press("input[name=q]", "Enter")
    result = page.get_by_role("link", name=own_customer.name)
    expect(result).to_be_visible()
    # The search narrowed the list: the rep's other visible customer is gone.
    expect(page.get_by_role("link", name=team_customer.name)).to_have_count(0)
    screenshot(page, "search")

    result.click()
    expect(page).to_have_url(re.compile(reverse("customers:detail", args=[own_customer.pk])))
    page.locator("a[href*='tab=contacts']").first.click()
    add_url = reverse("customers:contact_create", args=[own_customer.pk])
    page.locator(f"a[href='{add_url}']").first.click()
    page.fill("input[name=name]", "张建国")
    page.select_option("select[name=role]", Contact.Role.PURCHASER)
    page.fill("input[name=mobile]", "13912345678")
    screenshot(page, "contact-form")
    page.locator("form:has(input[name=mobile]) [type=submit]").click()

    expect(page).to_have_url(re.compile(r"tab=contacts"))
    expect(page.get_by_text("张建国")).to_be_visible()
    expect(page.get_by_text("13912345678")).to_be_visible()
    screenshot(page, "contacts")
    contact = Contact.objects.get(customer=own_customer)
    assert (contact.name, contact.mobile) == ("张建国", "13912345678")


def test_rep_opening_another_reps_customer_gets_not_found(page, login_as, screenshot, rep, other_customer):
    login_as(page, rep)
    response = page.goto(reverse("customers:detail", args=[other_customer.pk]))
    assert response.status == 404
    expect(page.get_by_text("Page not found").first).to_be_visible()
    expect(page.get_by_text(other_customer.name)).to_have_count(0)
    screenshot(page, "404")


def test_client_service_sees_a_bad_credit_code_at_its_field(page, login_as, screenshot, client_service, rep):
    login_as(page, client_service)
    page.goto(reverse("customers:create"))
    page.fill("input[name=name]", "济南惠民兽药店")
    page.select_option("select[name=type]", Customer.Type.STORE)
    page.select_option("select[name=industry]", Customer.Industry.VET_DRUGS)
    page.select_option("select[name=province]", "37")
    page.fill("input[name=city]", "济南")
    owner = page.locator("select[name=owner]")
    if owner.count():
        owner.select_option(str(rep.pk))
    # A typo in the last character: right length and alphabet, wrong check character.
    body = "91370100MA3C4XY01"
    wrong = "0" if credit_code_check_char(body) != "0" else "1"
    page.fill("input[name=credit_code]", body + wrong)
    page.locator("form:has(input[name=credit_code]) [type=submit]").click()

    feedback = page.locator("[name=credit_code] + .invalid-feedback")
    expect(feedback).to_contain_text("check character")
    expect(page.locator("input[name=credit_code]")).to_have_class(re.compile(r"\bis-invalid\b"))
    screenshot(page, "credit-code")
    assert not Customer.objects.filter(name="济南惠民兽药店").exists()


def test_manager_hands_a_customer_over(page, login_as, screenshot, manager, rep, teammate, own_customer):
    login_as(page, manager)
    page.goto(reverse("customers:handover"))
    page.select_option("select[name=to_user]", str(teammate.pk))
    page.locator(f"input[name=customers][value='{own_customer.pk}']").check()
    page.fill("[name=reason]", "李明调往山西")
    screenshot(page, "handover-form")
    page.locator("form:has([name=reason]) [type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text(str(teammate))

    page.goto(reverse("customers:detail", args=[own_customer.pk]))
    expect(page.locator(".owner-name")).to_have_text(str(teammate))
    screenshot(page, "new-owner")
    own_customer.refresh_from_db()
    assert own_customer.owner == teammate


def test_customer_list_and_page_fit_a_phone(phone_page, login_as, screenshot, rep):
    CustomerFactory.create_batch(8, owner=rep, address="山东省临沂市兰山区金雀山路与沂蒙路交汇处东北角")
    long_name = CustomerFactory(
        owner=rep, name="临沂市兰山区康达兽药经营部（原临沂康达动物药品有限公司）第二分店", city="临沂"
    )
    login_as(phone_page, rep)
    phone_page.goto(reverse("customers:list"))
    expect(phone_page.locator("input[name=q]")).to_be_visible()
    expect(phone_page.get_by_role("link", name=long_name.name)).to_be_visible()
    screenshot(phone_page, "list")
    scroll_width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375, f"the list page is {scroll_width}px wide on a 375px phone"

    phone_page.goto(reverse("customers:detail", args=[long_name.pk]))
    screenshot(phone_page, "detail")
    scroll_width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375, f"the customer page is {scroll_width}px wide on a 375px phone"
