"""Pages of the catalogue: products, sales policies, contracts and after-sales requests.

Each page is checked for who may use it (404 for the invisible, 403 for the read-only,
405 for the wrong method), for its validation messages, and for a fixed number of
queries whatever the number of rows.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEvent
from sales import services
from sales.models import AfterSalesRequest, Contract, PolicyItem, Product, SalesPolicy
from sales.views.catalogue import rmb_in_words
from tests.factories import CustomerFactory, ProductFactory

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so the assertions read the source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def make_contract(actor, customer, product, *, lines=(("3", "12.50"),), status=None, **fields):
    contract = Contract(
        customer=customer,
        valid_from=fields.pop("valid_from", TODAY),
        valid_to=fields.pop("valid_to", TODAY + datetime.timedelta(days=365)),
        **fields,
    )
    contract = services.contract_save(
        actor=actor,
        contract=contract,
        lines=[services.ContractLineInput(product, Decimal(q), Decimal(p)) for q, p in lines],
    )
    if status:
        Contract.objects.filter(pk=contract.pk).update(status=status)
        contract.refresh_from_db()
    return contract


def line_data(rows, prefix="lines", initial=0):
    """POST data of the contract lines formset."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for index, (product, quantity, price) in enumerate(rows):
        data[f"{prefix}-{index}-product"] = product.pk if product else ""
        data[f"{prefix}-{index}-quantity"] = quantity
        data[f"{prefix}-{index}-unit_price"] = price
    return data


def contract_post(rows, **overrides):
    data = {
        "kind": Contract.Kind.ONE_OFF,
        "valid_from": TODAY.isoformat(),
        "valid_to": (TODAY + datetime.timedelta(days=90)).isoformat(),
        "payment_term_days": "45",
        "quality_terms": "符合国家兽药标准",
        "delivery_time": "合同签订后7日内",
        "delivery_place": "临沂市兰山区仓库",
        "transport": "汽运",
        "freight_payer": Contract.FreightPayer.SELLER,
        "acceptance_terms": "到货三日内验收",
        **line_data(rows),
    }
    data.update(overrides)
    return data


# -- Products -------------------------------------------------------------------------------

PRODUCT_FIELDS = {
    "name": "氟苯尼考粉",
    "brand": "华牧",
    "spec": "100g/袋",
    "unit": "袋",
    "category": Product.Category.ANTIBIOTIC,
    "industry": "vet_drugs",
    "list_price": "38.00",
    "active": "on",
    "approval_number": "兽药字(2024)150123",
}


def test_everyone_reads_the_product_list_and_searches_it(login, rep, finance):
    ProductFactory(name="阿莫西林可溶性粉", approval_number="兽药字(2023)000777")
    ProductFactory(name="恩诺沙星注射液", approval_number="兽药字(2023)000888")
    for user in (rep, finance):
        response = login(user).get(reverse("sales:product_list"), {"q": "000777"})
        assert response.status_code == 200
        names = [p.name for p in response.context["page"]]
        assert names == ["阿莫西林可溶性粉"]
        assert reverse("sales:product_create") not in response.content.decode()


def test_product_list_filters_on_category_and_active(login, rep):
    ProductFactory(name="Active antibiotic")
    ProductFactory(name="Old antibiotic", active=False)
    ProductFactory(name="Phone", category="handset", industry="handsets", model_name="X1", memory="8GB+256GB")
    client = login(rep)
    page = client.get(reverse("sales:product_list"), {"category": "antibiotic", "active": "true"}).context["page"]
    assert [p.name for p in page] == ["Active antibiotic"]
    page = client.get(reverse("sales:product_list"), {"industry": "handsets"}).context["page"]
    assert [p.name for p in page] == ["Phone"]


@pytest.mark.parametrize("role", ["rep", "manager", "client_service", "finance"])
def test_only_admins_create_or_edit_products(request, login, role):
    user = request.getfixturevalue(role)
    product = ProductFactory()
    client = login(user)
    assert client.get(reverse("sales:product_create")).status_code == 403
    assert client.post(reverse("sales:product_create"), PRODUCT_FIELDS).status_code == 403
    assert client.post(reverse("sales:product_edit", args=[product.pk]), PRODUCT_FIELDS).status_code == 403
    assert not Product.objects.filter(name=PRODUCT_FIELDS["name"]).exists()


def test_admin_creates_a_product_and_the_change_is_recorded(login, admin_user):
    response = login(admin_user).post(reverse("sales:product_create"), PRODUCT_FIELDS)
    assert response.status_code == 302
    product = Product.objects.get(name="氟苯尼考粉")
    assert product.approval_number == "兽药字(2024)150123"
    event = AuditEvent.objects.get(object_type="product", object_id=product.pk)
    assert event.actor == admin_user and event.action == AuditEvent.Action.CREATE


def test_a_veterinary_drug_needs_its_approval_number(login, admin_user):
    response = login(admin_user).post(reverse("sales:product_create"), {**PRODUCT_FIELDS, "approval_number": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["approval_number"] == [
        "A veterinary drug needs its approval number (兽药批准文号)."
    ]
    assert 'id="id_approval_number_error"' in response.content.decode()
    assert not Product.objects.exists()


def test_a_handset_needs_model_and_memory_and_gets_its_spec_from_them(login, admin_user):
    handset = {
        **PRODUCT_FIELDS,
        "name": "畅享70",
        "brand": "华为",
        "category": Product.Category.HANDSET,
        "industry": "handsets",
        "unit": "台",
        "spec": "",
        "approval_number": "",
    }
    client = login(admin_user)
    errors = client.post(reverse("sales:product_create"), handset).context["form"].errors
    assert errors["model_name"] == ["A handset needs its model."]
    assert errors["memory"] == ["A handset needs its memory, e.g. 8GB+256GB."]
    assert "approval_number" not in errors

    response = client.post(
        reverse("sales:product_create"), {**handset, "model_name": "FGD-AL00", "memory": "8GB+128GB", "colour": "黑色"}
    )
    assert response.status_code == 302
    assert Product.objects.get(name="畅享70").spec == "8GB+128GB 黑色"


def test_a_handset_cannot_be_filed_under_veterinary_drugs(login, admin_user):
    data = {**PRODUCT_FIELDS, "category": Product.Category.HANDSET, "model_name": "X", "memory": "8GB"}
    errors = login(admin_user).post(reverse("sales:product_create"), data).context["form"].errors
    assert errors["industry"] == ["Handsets belong to the Mobile handsets industry."]


def test_product_list_refuses_post(login, admin_user):
    assert login(admin_user).post(reverse("sales:product_list")).status_code == 405


@pytest.mark.parametrize("rows", [2, 30])
def test_product_list_queries_do_not_grow_with_rows(login, rep, django_assert_num_queries, rows):
    ProductFactory.create_batch(rows)
    client = login(rep)
    # session, user, count (capped), the page of products
    with django_assert_num_queries(4):
        assert client.get(reverse("sales:product_list")).status_code == 200


# -- Sales policies -------------------------------------------------------------------------


def policy_post(product, **overrides):
    data = {
        "name": "三月特价",
        "start": TODAY.replace(day=1).isoformat(),
        "end": (TODAY.replace(day=1) + datetime.timedelta(days=40)).isoformat(),
        "customer_types": ["dealer", "farm"],
        "active": "on",
        "notes": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-product": product.pk,
        "items-0-special_price": "42.00",
        "items-0-discount_percent": "",
    }
    data.update(overrides)
    return data


def test_everyone_reads_policies_and_sees_which_are_in_force(login, rep, product):
    current = SalesPolicy.objects.create(name="本月特价", start=TODAY, end=TODAY + datetime.timedelta(days=5))
    PolicyItem.objects.create(policy=current, product=product, special_price=Decimal("40"))
    SalesPolicy.objects.create(
        name="上月政策", start=TODAY - datetime.timedelta(days=40), end=TODAY - datetime.timedelta(days=10)
    )
    response = login(rep).get(reverse("sales:policy_list"))
    assert response.status_code == 200
    in_force = {p.name: p.in_force_today for p in response.context["page"]}
    assert in_force == {"本月特价": True, "上月政策": False}
    assert response.content.decode().count("In force today</span>") == 1
    only_current = login(rep).get(reverse("sales:policy_list"), {"in_force": "true"}).context["page"]
    assert [p.name for p in only_current] == ["本月特价"]


@pytest.mark.parametrize("role", ["rep", "manager", "client_service", "finance"])
def test_only_admins_write_policies(request, login, role, product):
    client = login(request.getfixturevalue(role))
    policy = SalesPolicy.objects.create(name="x", start=TODAY, end=TODAY)
    assert client.get(reverse("sales:policy_create")).status_code == 403
    assert client.post(reverse("sales:policy_create"), policy_post(product)).status_code == 403
    assert client.post(reverse("sales:policy_edit", args=[policy.pk]), policy_post(product)).status_code == 403
    assert SalesPolicy.objects.count() == 1


def test_admin_creates_a_policy_with_items_and_it_is_recorded(login, admin_user, product):
    response = login(admin_user).post(reverse("sales:policy_create"), policy_post(product))
    assert response.status_code == 302
    policy = SalesPolicy.objects.get(name="三月特价")
    assert sorted(policy.customer_types) == ["dealer", "farm"]
    assert [(i.product, i.special_price) for i in policy.items.all()] == [(product, Decimal("42.00"))]
    event = AuditEvent.objects.get(object_type="salespolicy", object_id=policy.pk)
    assert event.customer_id is None and event.actor == admin_user
    assert event.changes["items"][1] == [f"{product}: ¥42"]


def test_admin_edits_a_policy_and_the_diff_names_the_item(login, admin_user, product):
    client = login(admin_user)
    client.post(reverse("sales:policy_create"), policy_post(product))
    policy = SalesPolicy.objects.get()
    item = policy.items.get()
    data = policy_post(
        product,
        **{
            "items-INITIAL_FORMS": "1",
            "items-0-id": item.pk,
            "items-0-policy": policy.pk,
            "items-0-special_price": "",
            "items-0-discount_percent": "10",
            "customer_types": [],
        },
    )
    assert client.post(reverse("sales:policy_edit", args=[policy.pk]), data).status_code == 302
    item = policy.items.get()  # the items are replaced as a whole
    assert item.special_price is None and item.discount_percent == Decimal("10")
    event = AuditEvent.objects.filter(object_id=policy.pk, action=AuditEvent.Action.UPDATE).get()
    assert event.changes["items"] == [[f"{product}: ¥42"], [f"{product}: -10%"]]
    assert "customer_types" in event.changes


def test_a_policy_item_needs_a_price_or_a_discount_and_a_valid_period(login, admin_user, product):
    data = policy_post(product, **{"items-0-special_price": "", "end": "2020-01-01"})
    response = login(admin_user).post(reverse("sales:policy_create"), data)
    assert response.status_code == 200
    assert response.context["items"].forms[0].errors["special_price"] == [
        "Enter either a special price or a discount, not both."
    ]
    assert response.context["form"].errors["end"] == ["The end date cannot be before the start date."]
    assert not SalesPolicy.objects.exists()


@pytest.mark.parametrize("rows", [2, 20])
def test_policy_list_queries_do_not_grow_with_rows(login, rep, django_assert_num_queries, rows):
    for n in range(rows):
        policy = SalesPolicy.objects.create(name=f"政策{n}", start=TODAY, end=TODAY)
        PolicyItem.objects.create(policy=policy, product=ProductFactory(), discount_percent=Decimal("5"))
    client = login(rep)
    # session, user, count (capped), the page of policies, their items with products
    with django_assert_num_queries(5):
        assert client.get(reverse("sales:policy_list")).status_code == 200


# -- Contracts ------------------------------------------------------------------------------


def test_rep_drafts_a_contract_for_their_customer(login, rep, own_customer, product):
    other = ProductFactory(list_price=Decimal("100.00"))
    client = login(rep)
    url = reverse("sales:contract_create") + f"?customer={own_customer.pk}"
    page = client.get(url)
    assert page.status_code == 200 and "customer" not in page.context["form"].fields
    response = client.post(url, contract_post([(product, "3", "12.50"), (other, "2", ""), (None, "", "")]))
    assert response.status_code == 302
    contract = Contract.objects.get()
    assert response["Location"] == contract.get_absolute_url()
    assert contract.customer == own_customer and contract.status == Contract.Status.DRAFT
    assert contract.created_by == rep and contract.payment_term_days == 45
    # An empty unit price takes the list price.
    assert [(line.quantity, line.unit_price, line.amount) for line in contract.lines.all()] == [
        (Decimal("3.00"), Decimal("12.50"), Decimal("37.50")),
        (Decimal("2.00"), Decimal("100.00"), Decimal("200.00")),
    ]
    detail = client.get(contract.get_absolute_url())
    assert detail.context["total"] == Decimal("237.50")
    assert "¥237.50" in detail.content.decode()


def test_rep_picks_only_customers_they_edit(login, rep, own_customer, team_customer, product):
    client = login(rep)
    form = client.get(reverse("sales:contract_create")).context["form"]
    assert list(form.fields["customer"].queryset) == [own_customer]
    response = client.post(
        reverse("sales:contract_create"), contract_post([(product, "1", "")], customer=team_customer.pk)
    )
    assert response.status_code == 200 and "customer" in response.context["form"].errors
    assert client.get(reverse("sales:contract_create") + f"?customer={team_customer.pk}").status_code == 404
    assert not Contract.objects.exists()


def test_contract_form_messages(login, rep, own_customer, product):
    client = login(rep)
    url = reverse("sales:contract_create") + f"?customer={own_customer.pk}"
    response = client.post(url, contract_post([(None, "", "")], valid_to="2000-01-01"))
    assert response.status_code == 200
    assert response.context["form"].errors["valid_to"] == ["The end date cannot be before the start date."]
    assert response.context["lines"].non_form_errors() == ["A contract needs at least one line."]
    response = client.post(url, contract_post([(product, "0", "10")]))
    assert "quantity" in response.context["lines"].forms[0].errors
    assert not Contract.objects.exists()


def test_with_many_customers_the_customer_is_picked_by_code(monkeypatch, login, client_service, own_customer, product):
    monkeypatch.setattr("sales.forms.catalogue.CUSTOMER_SELECT_LIMIT", 0)
    client = login(client_service)
    form = client.get(reverse("sales:contract_create")).context["form"]
    assert form.fields["customer"].widget.input_type == "text"
    response = client.post(reverse("sales:contract_create"), contract_post([(product, "1", "5")], customer="KH999999"))
    assert response.context["form"].errors["customer"] == ["No customer you may choose has this code."]
    assert 'value="KH999999"' in response.content.decode()
    response = client.post(
        reverse("sales:contract_create"), contract_post([(product, "1", "5")], customer=own_customer.code)
    )
    assert response.status_code == 302
    assert Contract.objects.get().customer == own_customer


def test_manager_drafts_for_a_team_customer(login, manager, team_customer, product):
    url = reverse("sales:contract_create") + f"?customer={team_customer.pk}"
    assert login(manager).post(url, contract_post([(product, "1", "5")])).status_code == 302
    assert Contract.objects.get().customer == team_customer


def test_finance_reads_contracts_but_writes_none(login, finance, rep, own_customer, product):
    contract = make_contract(rep, own_customer, product)
    client = login(finance)
    assert client.get(contract.get_absolute_url()).status_code == 200
    assert client.get(reverse("sales:contract_print", args=[contract.pk])).status_code == 200
    assert client.get(reverse("sales:contract_create")).status_code == 403
    assert client.get(reverse("sales:contract_edit", args=[contract.pk])).status_code == 403
    url = reverse("sales:contract_transition", args=[contract.pk])
    assert client.post(url, {"action": "submit"}).status_code == 403
    contract.refresh_from_db()
    assert contract.status == Contract.Status.DRAFT


def test_a_rep_cannot_reach_another_reps_contract(
    login, rep, outsider, teammate, other_customer, team_customer, product
):
    foreign = make_contract(outsider, other_customer, product)
    teams = make_contract(teammate, team_customer, product)
    client = login(rep)
    for contract in (foreign, teams):
        for name in ("contract_detail", "contract_edit", "contract_print", "contract_file"):
            assert client.get(reverse(f"sales:{name}", args=[contract.pk])).status_code == 404
        assert (
            client.post(reverse("sales:contract_transition", args=[contract.pk]), {"action": "submit"}).status_code
            == 404
        )
    listed = client.get(reverse("sales:contract_list")).context["page"]
    assert list(listed) == []


def test_submit_then_the_customers_manager_approves(login, rep, manager, own_customer, product):
    contract = make_contract(rep, own_customer, product)
    client = login(rep)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert 'value="submit"' in page and 'value="approve"' not in page
    response = client.post(reverse("sales:contract_transition", args=[contract.pk]), {"action": "submit"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING
    # The drafter cannot approve: no button, and a POST is refused.
    assert 'value="approve"' not in client.get(contract.get_absolute_url()).content.decode()
    assert (
        client.post(reverse("sales:contract_transition", args=[contract.pk]), {"action": "approve"}).status_code == 403
    )

    client = login(manager)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert 'value="approve"' in page and 'value="reject"' in page
    client.post(reverse("sales:contract_transition", args=[contract.pk]), {"action": "approve"})
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    assert contract.approved_by == manager and contract.approved_at is not None


def test_another_teams_manager_and_client_service_cannot_approve(
    login, rep, other_manager, client_service, own_customer, product
):
    contract = make_contract(rep, own_customer, product, status=Contract.Status.PENDING)
    url = reverse("sales:contract_transition", args=[contract.pk])
    assert login(other_manager).post(url, {"action": "approve"}).status_code == 404
    client = login(client_service)
    assert 'value="approve"' not in client.get(contract.get_absolute_url()).content.decode()
    assert client.post(url, {"action": "approve"}).status_code == 403
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING and contract.approved_by is None


def test_manager_sends_back_with_a_reason_and_the_history_shows_it(login, rep, manager, own_customer, product):
    contract = make_contract(rep, own_customer, product, status=Contract.Status.PENDING)
    client = login(manager)
    client.post(reverse("sales:contract_transition", args=[contract.pk]), {"action": "reject", "reason": "单价偏低"})
    contract.refresh_from_db()
    assert contract.status == Contract.Status.DRAFT
    history = client.get(contract.get_absolute_url()).context["history"]
    assert history[0]["event"].reason == "单价偏低"
    assert ("status", "Pending approval", "Draft") in [(str(c[0]), c[1], c[2]) for c in history[0]["changes"]]


def test_a_wrong_transition_is_a_message_not_a_change(login, manager, rep, own_customer, product):
    contract = make_contract(rep, own_customer, product)
    client = login(manager)
    response = client.post(reverse("sales:contract_transition", args=[contract.pk]), {"action": "approve"}, follow=True)
    assert "This contract is Draft; it cannot be approved." in [str(m) for m in response.context["messages"]]
    contract.refresh_from_db()
    assert contract.status == Contract.Status.DRAFT
    assert client.post(reverse("sales:contract_transition", args=[contract.pk]), {"action": "sign"}).status_code == 400
    assert client.get(reverse("sales:contract_transition", args=[contract.pk])).status_code == 405


def test_only_a_draft_is_edited(login, rep, own_customer, product):
    contract = make_contract(rep, own_customer, product, status=Contract.Status.PENDING)
    client = login(rep)
    url = reverse("sales:contract_edit", args=[contract.pk])
    response = client.post(url, contract_post([(product, "99", "1")]))
    assert response.status_code == 302
    assert contract.lines.get().quantity == Decimal("3.00")


def test_editing_a_draft_replaces_its_lines(login, rep, own_customer, product):
    contract = make_contract(rep, own_customer, product, lines=(("3", "12.50"), ("1", "1.00")))
    client = login(rep)
    url = reverse("sales:contract_edit", args=[contract.pk])
    form_page = client.get(url)
    assert len(form_page.context["lines"].forms) == 2 + 3
    data = contract_post([(product, "4", "10"), (product, "1", "1")])
    data.update({"lines-INITIAL_FORMS": "2", "lines-1-DELETE": "on"})
    assert client.post(url, data).status_code == 302
    assert [(line.quantity, line.amount) for line in contract.lines.all()] == [(Decimal("4.00"), Decimal("40.00"))]


def test_signed_copy_is_uploaded_and_downloaded_privately(login, rep, outsider, own_customer, product):
    client = login(rep)
    upload = SimpleUploadedFile("合同扫描.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    url = reverse("sales:contract_create") + f"?customer={own_customer.pk}"
    client.post(url, {**contract_post([(product, "1", "5")]), "file": upload})
    contract = Contract.objects.get()
    response = client.get(reverse("sales:contract_file", args=[contract.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 signed"
    assert response["Cache-Control"] == "private, no-store"
    assert login(outsider).get(reverse("sales:contract_file", args=[contract.pk])).status_code == 404
    bad = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    response = login(rep).post(
        reverse("sales:contract_edit", args=[contract.pk]), {**contract_post([(product, "1", "5")]), "file": bad}
    )
    assert "file" in response.context["form"].errors


def test_print_view_is_the_standard_contract(login, rep, own_customer, product):
    contract = make_contract(
        rep, own_customer, product, lines=(("3", "12.50"), ("10", "100")), delivery_place="临沂仓库"
    )
    response = login(rep).get(reverse("sales:contract_print", args=[contract.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Purchase and sale contract",
        "Party A (seller)",
        "Party B (buyer)",
        own_customer.name,
        contract.number,
        "1. Subject",
        "2. Quality standard",
        "3. Delivery",
        "4. Acceptance",
        "5. Settlement",
        "Party B (seal)",
        "临沂仓库",
        "1,037.50",
        "壹仟零叁拾柒元伍角整",
        "css/print.css",
        "Status: Draft",
    ):
        assert text in html, text


def test_rmb_in_words():
    assert rmb_in_words(Decimal("1037.50")) == "壹仟零叁拾柒元伍角整"
    assert rmb_in_words(Decimal("100100")) == "壹拾万零壹佰元整"
    assert rmb_in_words(Decimal("20045.07")) == "贰万零肆拾伍元零柒分"
    assert rmb_in_words(Decimal("0")) == "零元整"


def test_contract_list_filters(login, rep, own_customer, product):
    soon = make_contract(
        rep, own_customer, product, status=Contract.Status.ACTIVE, valid_to=TODAY + datetime.timedelta(days=30)
    )
    later = make_contract(
        rep, own_customer, product, status=Contract.Status.ACTIVE, valid_to=TODAY + datetime.timedelta(days=200)
    )
    draft = make_contract(rep, own_customer, product, kind=Contract.Kind.FRAMEWORK)
    other = make_contract(rep, CustomerFactory(owner=rep), product)
    client = login(rep)

    def listed(**params):
        return {c.pk for c in client.get(reverse("sales:contract_list"), params).context["page"]}

    assert listed() == {soon.pk, later.pk, draft.pk, other.pk}
    assert listed(expiring="true") == {soon.pk}
    assert listed(status="draft") == {draft.pk, other.pk}
    assert listed(kind="framework") == {draft.pk}
    assert listed(customer=own_customer.pk) == {soon.pk, later.pk, draft.pk}
    assert listed(q=soon.number) == {soon.pk}
    totals = {c.pk: c.total for c in client.get(reverse("sales:contract_list")).context["page"]}
    assert totals[soon.pk] == Decimal("37.50")


@pytest.mark.parametrize("rows", [2, 20])
def test_contract_list_queries_do_not_grow_with_rows(
    login, rep, own_customer, product, django_assert_num_queries, rows
):
    for _ in range(rows):
        make_contract(rep, own_customer, product)
    client = login(rep)
    # session, user, shared customers of the rep, count (capped), the page with customers and totals
    with django_assert_num_queries(5):
        assert client.get(reverse("sales:contract_list")).status_code == 200


# -- After-sales ----------------------------------------------------------------------------


def test_rep_opens_a_request_for_their_customer(login, rep, own_customer, product, make_order):
    order = make_order(own_customer)
    client = login(rep)
    url = reverse("sales:after_sales_create") + f"?customer={own_customer.pk}"
    response = client.post(
        url, {"order": order.number, "product": product.pk, "issue": "包装破损 3 袋", "assignee": rep.pk}
    )
    assert response.status_code == 302
    item = AfterSalesRequest.objects.get()
    assert (item.customer, item.order, item.created_by, item.status) == (own_customer, order, rep, "open")


def test_after_sales_order_must_belong_to_the_customer(login, rep, own_customer, make_order):
    other_order = make_order(CustomerFactory(owner=rep))
    url = reverse("sales:after_sales_create") + f"?customer={own_customer.pk}"
    response = login(rep).post(url, {"order": other_order.number, "issue": "x"})
    assert response.status_code == 200 and "order" in response.context["form"].errors
    assert not AfterSalesRequest.objects.exists()


def test_after_sales_roles(login, finance, rep, outsider, other_customer, own_customer):
    item = AfterSalesRequest.objects.create(customer=other_customer, issue="x")
    assert login(finance).get(reverse("sales:after_sales_create")).status_code == 403
    assert login(finance).get(reverse("sales:after_sales_list")).status_code == 200
    assert (
        login(finance).post(reverse("sales:after_sales_edit", args=[item.pk]), {"status": "closed"}).status_code == 403
    )
    client = login(rep)
    assert client.get(reverse("sales:after_sales_create") + f"?customer={other_customer.pk}").status_code == 404
    assert client.get(reverse("sales:after_sales_edit", args=[item.pk])).status_code == 404
    assert list(client.get(reverse("sales:after_sales_list")).context["page"]) == []
    form = login(outsider).get(reverse("sales:after_sales_create")).context["form"]
    assert list(form.fields["customer"].queryset) == [other_customer]


def test_after_sales_status_transitions(login, client_service, own_customer):
    item = AfterSalesRequest.objects.create(customer=own_customer, issue="疫苗冷链断开")
    client = login(client_service)
    url = reverse("sales:after_sales_edit", args=[item.pk])
    client.post(url, {"status": "in_progress", "assignee": client_service.pk, "resolution": ""})
    item.refresh_from_db()
    assert item.status == "in_progress" and item.resolved_at is None and item.assignee == client_service

    client.post(url, {"status": "resolved", "assignee": client_service.pk, "resolution": "补发 2 箱"})
    item.refresh_from_db()
    assert item.status == "resolved" and item.resolved_at is not None
    assert client.get(reverse("sales:after_sales_list")).context["page"][0].time_to_resolve() is not None

    client.post(url, {"status": "closed", "assignee": client_service.pk, "resolution": "补发 2 箱"})
    response = client.post(url, {"status": "open", "assignee": "", "resolution": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["status"] == ["A request that is Closed cannot become Open."]
    item.refresh_from_db()
    assert item.status == "closed"


def test_after_sales_list_filters(login, client_service, rep, own_customer, team_customer):
    mine = AfterSalesRequest.objects.create(customer=own_customer, issue="a", assignee=rep)
    AfterSalesRequest.objects.create(customer=team_customer, issue="b", status="resolved", resolved_at=timezone.now())
    client = login(client_service)

    def listed(**params):
        return [r.pk for r in client.get(reverse("sales:after_sales_list"), params).context["page"]]

    assert listed(status="open") == [mine.pk]
    assert listed(assignee=rep.pk) == [mine.pk]
    assert listed(customer=own_customer.pk) == [mine.pk]


@pytest.mark.parametrize("rows", [2, 20])
def test_after_sales_list_queries_do_not_grow_with_rows(
    login, rep, own_customer, product, django_assert_num_queries, rows
):
    for n in range(rows):
        AfterSalesRequest.objects.create(customer=own_customer, issue=f"问题{n}", product=product, assignee=rep)
    client = login(rep)
    # session, user, shared customers of the rep, count (capped), the page with its
    # customers, products, orders and assignees, the assignee choices of the filter
    with django_assert_num_queries(6):
        assert client.get(reverse("sales:after_sales_list")).status_code == 200


def test_the_print_view_names_the_seller_from_settings(login, rep, own_customer, product, settings):
    from sales import services
    from sales.models import Contract

    settings.COMPANY_NAME = "山东华牧兽药有限公司"
    contract = services.contract_save(
        actor=rep,
        contract=Contract(
            customer=own_customer, valid_from=datetime.date(2026, 1, 1), valid_to=datetime.date(2026, 12, 31)
        ),
        lines=[services.ContractLineInput(product, Decimal("1"), Decimal("10"))],
    )
    page = login(rep).get(reverse("sales:contract_print", args=[contract.pk])).content.decode()
    assert "山东华牧兽药有限公司" in page
