"""Contracts (购销合同) in a real browser: a rep drafts and submits one, the customer's
manager approves it; the detail and the printable contract on a desk and on a phone."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from sales.models import Contract
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_rep_drafts_and_submits_a_contract_and_the_manager_approves_it(
    page, login_as, screenshot, rep, manager, own_customer
):
    vaccine = ProductFactory(name="鸡新城疫活疫苗", brand="华牧", spec="1000羽份/瓶", unit="瓶", category="vaccine")
    powder = ProductFactory(name="阿莫西林可溶性粉", brand="华牧", spec="100g/袋", unit="袋", list_price=Decimal("50"))
    valid_to = timezone.localdate() + datetime.timedelta(days=180)

    login_as(page, rep)
    page.goto(reverse("sales:contract_create") + f"?customer={own_customer.pk}")
    expect(page.get_by_text(own_customer.name).first).to_be_visible()
    page.select_option("select[name=kind]", Contract.Kind.FRAMEWORK)
    page.fill("input[name=valid_to]", valid_to.isoformat())
    page.select_option("select[name=lines-0-product]", str(vaccine.pk))
    page.fill("input[name=lines-0-quantity]", "200")
    page.fill("input[name=lines-0-unit_price]", "18.50")
    page.select_option("select[name=lines-1-product]", str(powder.pk))
    page.fill("input[name=lines-1-quantity]", "40")  # unit price left empty: the list price
    page.fill("textarea[name=quality_terms]", "符合《中华人民共和国兽药典》标准，有效期不少于12个月")
    page.fill("input[name=delivery_time]", "每次订货后5日内")
    page.fill("input[name=delivery_place]", "临沂市兰山区乙方仓库")
    page.fill("input[name=transport]", "冷链汽运")
    page.select_option("select[name=freight_payer]", Contract.FreightPayer.SELLER)
    page.fill("textarea[name=acceptance_terms]", "到货当日清点数量，疫苗查验冷链记录")
    page.fill("input[name=payment_term_days]", "60")
    screenshot(page, "form")
    page.get_by_role("button", name="Save draft").click()

    contract = Contract.objects.get(customer=own_customer)
    expect(page).to_have_url(re.compile(reverse("sales:contract_detail", args=[contract.pk]) + "$"))
    # 200 × 18.50 + 40 × 50.00, summed by the database.
    expect(page.locator(".contract-total")).to_have_text("¥5,700.00")
    expect(page.locator(".contract-status")).to_have_text("Draft")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator(".contract-status")).to_have_text("Pending approval")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING

    page.context.clear_cookies()
    login_as(page, manager)
    page.goto(reverse("sales:contract_list") + "?status=pending")
    page.get_by_role("link", name=contract.number).click()
    expect(page.get_by_text("Waiting for the customer's manager")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text(f"Contract {contract.number} approved; it is now active.")).to_be_visible()
    expect(page.locator(".contract-status")).to_have_text("Active")
    expect(page.locator(".approval")).to_contain_text(str(manager))
    screenshot(page, "detail")

    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    assert contract.approved_by == manager and contract.approved_at is not None
    assert contract.signed_date == timezone.localdate()

    page.get_by_role("link", name="Printable contract").click()
    expect(page.locator(".contract-doc-title")).to_have_text("Purchase and sale contract")
    expect(page.locator(".contract-doc-total")).to_have_text("5,700.00")
    expect(page.get_by_text("伍仟柒佰元整")).to_be_visible()
    screenshot(page, "print")
    # Printed, the page keeps the contract and drops navigation and buttons.
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.locator(".contract-doc")).to_be_visible()
    screenshot(page, "print-media")


def test_contract_detail_and_print_on_a_phone(phone_page, login_as, screenshot, rep, own_customer):
    from sales import services

    product = ProductFactory(name="恩诺沙星注射液", spec="100ml/瓶", unit="瓶", list_price=Decimal("12.80"))
    contract = services.contract_save(
        actor=rep,
        contract=Contract(
            customer=own_customer,
            valid_from=timezone.localdate(),
            valid_to=timezone.localdate() + datetime.timedelta(days=30),
            delivery_place="临沂市河东区九曲街道某某路128号某某兽药经营部仓库",
        ),
        lines=[services.ContractLineInput(product, Decimal("120"), Decimal("12.80"))],
    )
    login_as(phone_page, rep)
    phone_page.goto(reverse("sales:contract_list"))
    expect(phone_page.get_by_role("link", name=contract.number)).to_be_visible()
    screenshot(phone_page, "list")
    phone_page.goto(reverse("sales:contract_detail", args=[contract.pk]))
    expect(phone_page.locator(".contract-total")).to_have_text("¥1,536.00")
    screenshot(phone_page, "detail")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the detail page is {width}px wide on a 375px phone"
    phone_page.goto(reverse("sales:contract_print", args=[contract.pk]))
    expect(phone_page.get_by_text("壹仟伍佰叁拾陆元整")).to_be_visible()
    screenshot(phone_page, "print")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the printable contract is {width}px wide on a 375px phone"


def test_catalogue_lists_fit_a_phone(phone_page, login_as, screenshot, rep, own_customer):
    from sales.models import AfterSalesRequest, PolicyItem, SalesPolicy

    today = timezone.localdate()
    drug = ProductFactory(name="盐酸多西环素可溶性粉（长效缓释型）", spec="500g/袋", prescription=True)
    ProductFactory(
        name="畅享70",
        brand="华为",
        category="handset",
        industry="handsets",
        unit="台",
        spec="8GB+128GB 幻夜黑",
        approval_number="",
        model_name="FGD-AL00",
        colour="幻夜黑",
        memory="8GB+128GB",
        list_price=Decimal("1199"),
    )
    policy = SalesPolicy.objects.create(
        name="春季防疫特价", start=today, end=today + datetime.timedelta(days=20), customer_types=["farm"]
    )
    PolicyItem.objects.create(policy=policy, product=drug, special_price=Decimal("39.90"))
    AfterSalesRequest.objects.create(
        customer=own_customer, product=drug, issue="到货时有3袋包装破损，客户要求补发", assignee=rep
    )

    login_as(phone_page, rep)
    for name, text in [
        ("sales:product_list", "FGD-AL00"),
        ("sales:policy_list", "In force today"),
        ("sales:after_sales_list", "open for"),
    ]:
        phone_page.goto(reverse(name))
        expect(phone_page.get_by_text(text).first).to_be_attached()
        screenshot(phone_page, name.split(":")[1])
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{name} is {width}px wide on a 375px phone"
