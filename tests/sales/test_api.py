"""The sales API: prices, amounts and totals computed by the server (and refused from
clients), the policy price on API orders, payment allocation (oldest first and chosen),
contract approval by role, receivables and their summary, visibility (404 / left out),
field-keyed errors, audited writes of the catalogue and targets, and the query count of
every list endpoint at two sizes."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.models import AuditEvent, User
from sales import receivables, selectors, services
from sales.api.serializers import ERR_COMPUTED, ERR_FIXED
from sales.models import (
    AfterSalesRequest,
    Contract,
    Order,
    Payment,
    PolicyItem,
    Product,
    SalesPolicy,
    SalesTarget,
)
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db
D = Decimal
MARCH = datetime.date(2026, 3, 1)


@pytest.fixture
def api():
    """api(user) is an API client authenticated as `user`, reading English errors."""

    def _api(user):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        # A fresh object per client, as a request would have (shares are cached per object).
        client.force_authenticate(User.objects.get(pk=user.pk))
        return client

    return _api


def order_body(customer, product, quantity="2", **extra):
    return {
        "customer": customer.pk,
        "order_date": "2026-03-10",
        "lines": [{"product": product.pk, "quantity": quantity}],
        **extra,
    }


def confirmed_order(actor, customer, product, quantity, on):
    order = services.order_create(
        actor=actor, customer=customer, order_date=on, lines=[services.LineInput(product, D(quantity))]
    )
    return services.order_transition(actor=actor, order=order, action="confirm")


# -- Orders -----------------------------------------------------------------------------------


class TestOrders:
    def test_lines_and_total_are_computed_with_the_policy_price(self, api, rep, own_customer, product):
        other = ProductFactory(list_price=D("12.50"))
        policy = SalesPolicy.objects.create(name="三月特价", start=MARCH, end=datetime.date(2026, 3, 31))
        PolicyItem.objects.create(policy=policy, product=product, special_price=D("42.00"))
        body = order_body(own_customer, product, "3")
        body["lines"].append({"product": other.pk, "quantity": "4"})
        response = api(rep).post("/api/orders/", body, format="json")
        assert response.status_code == 201, response.json()
        data = response.json()
        assert data["status"] == "draft" and data["number"].startswith("DD202603")
        first, second = data["lines"]
        assert (first["list_price"], first["unit_price"], first["amount"]) == ("50.00", "42.00", "126.00")
        assert (first["policy"], first["policy_name"]) == (policy.pk, "三月特价")
        assert (second["unit_price"], second["amount"], second["policy"]) == ("12.50", "50.00", None)
        assert data["total"] == "176.00"
        assert Order.objects.get(pk=data["id"]).total == D("176.00")

    @pytest.mark.parametrize("field", ["unit_price", "amount", "list_price"])
    def test_a_price_sent_on_a_line_is_refused_at_that_field(self, api, rep, own_customer, product, field):
        body = order_body(own_customer, product)
        body["lines"][0][field] = "1.00"
        response = api(rep).post("/api/orders/", body, format="json")
        assert response.status_code == 400
        assert response.json() == {"lines": {"0": {field: [str(ERR_COMPUTED)]}}}
        assert "computed by the server" in str(ERR_COMPUTED)
        assert not Order.objects.exists()

    @pytest.mark.parametrize("field", ["total", "paid_amount", "status", "due_date"])
    def test_a_computed_order_field_is_refused(self, api, rep, own_customer, product, field):
        response = api(rep).post("/api/orders/", order_body(own_customer, product, **{field: "1"}), format="json")
        assert response.status_code == 400
        assert response.json() == {field: [str(ERR_COMPUTED)]}

    def test_a_customer_the_user_cannot_see_does_not_exist(self, api, rep, team_customer, product):
        response = api(rep).post("/api/orders/", order_body(team_customer, product), format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["customer"]
        assert "does not exist" in response.json()["customer"][0]

    def test_finance_may_not_create_orders(self, api, finance, own_customer, product):
        response = api(finance).post("/api/orders/", order_body(own_customer, product), format="json")
        assert response.status_code == 403

    def test_a_domain_error_is_keyed_by_its_field(self, api, rep, own_customer, product):
        product.active = False
        product.save()
        response = api(rep).post("/api/orders/", order_body(own_customer, product), format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["lines"]
        assert "no longer sold" in response.json()["lines"][0]

    def test_a_contract_of_another_customer_is_refused_at_contract(self, api, rep, own_customer, product):
        second = CustomerFactory(owner=rep)
        contract = services.contract_save(
            actor=rep,
            contract=Contract(customer=second, valid_from=MARCH, valid_to=datetime.date(2026, 12, 31)),
        )
        response = api(rep).post("/api/orders/", order_body(own_customer, product, contract=contract.pk), format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["contract"]

    def test_patch_replaces_the_lines_of_a_draft_and_reprices_them(self, api, rep, own_customer, product):
        client = api(rep)
        order = client.post("/api/orders/", order_body(own_customer, product, "2"), format="json").json()
        response = client.patch(
            f"/api/orders/{order['id']}/",
            {"lines": [{"product": product.pk, "quantity": "5"}], "notes": "加急"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert (response.json()["total"], response.json()["notes"]) == ("250.00", "加急")
        assert [line["quantity"] for line in response.json()["lines"]] == ["5.00"]

    def test_patch_keeps_the_lines_when_only_notes_change(self, api, rep, own_customer, product):
        client = api(rep)
        order = client.post("/api/orders/", order_body(own_customer, product, "2"), format="json").json()
        response = client.patch(f"/api/orders/{order['id']}/", {"notes": "周五送"}, format="json")
        assert response.status_code == 200
        assert response.json()["total"] == "100.00" and len(response.json()["lines"]) == 1

    def test_the_customer_of_an_order_is_fixed_and_a_confirmed_order_cannot_change(
        self, api, rep, own_customer, product
    ):
        client = api(rep)
        order = client.post("/api/orders/", order_body(own_customer, product), format="json").json()
        url = f"/api/orders/{order['id']}/"
        moved = client.patch(url, {"customer": CustomerFactory(owner=rep).pk}, format="json")
        assert moved.status_code == 400 and moved.json() == {"customer": [str(ERR_FIXED)]}
        assert client.put(url, {"notes": "x"}, format="json").status_code == 405
        assert client.delete(url).status_code == 405
        client.post(f"{url}transition/", {"action": "confirm"}, format="json")
        changed = client.patch(url, {"lines": [{"product": product.pk, "quantity": "1"}]}, format="json")
        assert changed.status_code == 400
        assert list(changed.json()) == ["status"]

    def test_transitions(self, api, rep, own_customer, product):
        client = api(rep)
        order = client.post("/api/orders/", order_body(own_customer, product), format="json").json()
        url = f"/api/orders/{order['id']}/transition/"
        shipped_early = client.post(url, {"action": "ship"}, format="json")
        assert shipped_early.status_code == 400 and list(shipped_early.json()) == ["status"]
        assert client.post(url, {"action": "fly"}, format="json").json()["action"]
        confirmed = client.post(url, {"action": "confirm"}, format="json").json()
        assert (confirmed["status"], confirmed["due_date"], confirmed["outstanding"]) == (
            "confirmed",
            "2026-04-09",
            "100.00",
        )
        cancelled = client.post(url, {"action": "cancel"}, format="json").json()
        assert (cancelled["status"], cancelled["outstanding"]) == ("cancelled", "0.00")

    def test_visibility(self, api, rep, manager, own_customer, team_customer, other_customer, product, teammate):
        mine = confirmed_order(rep, own_customer, product, "1", MARCH)
        theirs = confirmed_order(teammate, team_customer, product, "1", MARCH)
        client = api(rep)
        assert [row["id"] for row in client.get("/api/orders/").json()["results"]] == [mine.pk]
        assert client.get(f"/api/orders/{theirs.pk}/").status_code == 404
        assert client.post(f"/api/orders/{theirs.pk}/transition/", {"action": "ship"}).status_code == 404
        listed = {row["id"] for row in api(manager).get("/api/orders/").json()["results"]}
        assert listed == {mine.pk, theirs.pk}

    def test_filters(self, api, rep, own_customer, product):
        march = confirmed_order(rep, own_customer, product, "1", MARCH)
        second = CustomerFactory(owner=rep)
        april = services.order_create(
            actor=rep, customer=second, order_date=datetime.date(2026, 4, 2), lines=[services.LineInput(product, D(1))]
        )
        client = api(rep)

        def ids(**params):
            return [row["id"] for row in client.get("/api/orders/", params).json()["results"]]

        assert ids(customer=second.pk) == [april.pk]
        assert ids(status="confirmed") == [march.pk]
        assert ids(order_date_after="2026-04-01") == [april.pk]
        assert ids(order_date_before="2026-03-31") == [march.pk]
        assert ids(rep=rep.pk, ordering="order_date") == [march.pk, april.pk]
        assert ids(product=ProductFactory().pk) == []


# -- Contracts ---------------------------------------------------------------------------------


def contract_body(customer, product, **extra):
    return {
        "customer": customer.pk,
        "kind": "framework",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "payment_term_days": 60,
        "lines": [{"product": product.pk, "quantity": "100", "unit_price": "45.50"}],
        **extra,
    }


class TestContracts:
    def test_draft_with_lines_and_computed_total(self, api, rep, own_customer, product):
        response = api(rep).post("/api/contracts/", contract_body(own_customer, product), format="json")
        assert response.status_code == 201, response.json()
        data = response.json()
        assert (data["status"], data["total"], data["lines"][0]["amount"]) == ("draft", "4550.00", "4550.00")
        assert data["number"].startswith("HT202601")

    @pytest.mark.parametrize("field", ["status", "number", "total"])
    def test_server_fields_are_refused(self, api, rep, own_customer, product, field):
        body = contract_body(own_customer, product, **{field: "active"})
        response = api(rep).post("/api/contracts/", body, format="json")
        assert response.status_code == 400 and list(response.json()) == [field]

    def test_line_amount_is_refused_and_period_checked(self, api, rep, own_customer, product):
        client = api(rep)
        body = contract_body(own_customer, product)
        body["lines"][0]["amount"] = "1"
        assert client.post("/api/contracts/", body, format="json").json() == {
            "lines": {"0": {"amount": [str(ERR_COMPUTED)]}}
        }
        backwards = client.post("/api/contracts/", contract_body(own_customer, product, valid_to="2025-01-01"))
        assert backwards.status_code == 400 and list(backwards.json()) == ["valid_to"]

    def test_update_of_a_draft_replaces_lines_and_a_pending_one_is_locked(self, api, rep, own_customer, product):
        client = api(rep)
        contract = client.post("/api/contracts/", contract_body(own_customer, product), format="json").json()
        url = f"/api/contracts/{contract['id']}/"
        changed = client.patch(
            url, {"lines": [{"product": product.pk, "quantity": "10", "unit_price": "40"}]}, format="json"
        )
        assert changed.status_code == 200 and changed.json()["total"] == "400.00"
        client.post(f"{url}transition/", {"action": "submit"}, format="json")
        locked = client.patch(url, {"transport": "物流"}, format="json")
        assert locked.status_code == 400
        assert "Pending approval" in locked.json()["non_field_errors"][0]

    def test_approval_by_role(
        self, api, rep, manager, other_manager, client_service, admin_user, own_customer, product
    ):
        contract = api(rep).post("/api/contracts/", contract_body(own_customer, product), format="json").json()
        url = f"/api/contracts/{contract['id']}/transition/"
        assert api(rep).post(url, {"action": "submit"}, format="json").json()["status"] == "pending"
        refused = api(rep).post(url, {"action": "approve"}, format="json")
        assert refused.status_code == 403
        assert refused.json()["detail"] == str(services.ERR_APPROVER)
        assert api(client_service).post(url, {"action": "approve"}, format="json").status_code == 403
        assert api(other_manager).post(url, {"action": "approve"}, format="json").status_code == 404
        approved = api(manager).post(url, {"action": "approve", "reason": "条款齐全"}, format="json")
        assert approved.status_code == 200
        assert (approved.json()["status"], approved.json()["approved_by"]["id"]) == ("active", manager.pk)
        event = AuditEvent.objects.filter(object_type="contract", object_id=contract["id"]).latest("id")
        assert (event.actor, event.reason) == (manager, "条款齐全")
        assert api(admin_user).post(url, {"action": "terminate"}, format="json").json()["status"] == "terminated"

    def test_a_manager_cannot_approve_their_own_draft(self, api, manager, own_customer, product):
        client = api(manager)
        contract = client.post("/api/contracts/", contract_body(own_customer, product), format="json").json()
        url = f"/api/contracts/{contract['id']}/transition/"
        client.post(url, {"action": "submit"}, format="json")
        response = client.post(url, {"action": "approve"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": [str(services.ERR_OWN_APPROVAL)]}

    def test_the_signed_copy_is_served_only_when_there_is_one(self, api, rep, own_customer, product):
        contract = api(rep).post("/api/contracts/", contract_body(own_customer, product), format="json").json()
        assert api(rep).get(f"/api/contracts/{contract['id']}/file/").status_code == 404


# -- Payments ---------------------------------------------------------------------------------


class TestPayments:
    @pytest.fixture
    def orders(self, rep, own_customer, product):
        """Three open orders of 100 each: the oldest is due first."""
        return [confirmed_order(rep, own_customer, product, "2", datetime.date(2026, 1, day)) for day in (20, 5, 12)]

    def test_oldest_due_first_and_the_rest_is_prepayment(self, api, finance, own_customer, orders):
        response = api(finance).post(
            "/api/payments/",
            {"customer": own_customer.pk, "date": "2026-03-01", "amount": "350.00", "method": "transfer"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        data = response.json()
        oldest_first = [orders[1], orders[2], orders[0]]
        assert [(a["order"], a["amount"]) for a in data["allocations"]] == [(o.pk, "100.00") for o in oldest_first]
        assert data["unallocated"] == "50.00"
        assert data["number"].startswith("HK202603")

    def test_to_chosen_orders(self, api, finance, own_customer, orders):
        response = api(finance).post(
            "/api/payments/",
            {"customer": own_customer.pk, "date": "2026-03-01", "amount": "150", "orders": [orders[0].pk]},
            format="json",
        )
        assert response.status_code == 201
        assert [(a["order"], a["amount"]) for a in response.json()["allocations"]] == [(orders[0].pk, "100.00")]
        assert Order.objects.get(pk=orders[0].pk).paid_amount == D("100.00")
        assert Order.objects.get(pk=orders[1].pk).paid_amount == D("0.00")

    def test_an_order_of_another_customer_is_refused_at_orders(self, api, finance, own_customer, team_customer, orders):
        response = api(finance).post(
            "/api/payments/",
            {"customer": team_customer.pk, "date": "2026-03-01", "amount": "10", "orders": [orders[0].pk]},
            format="json",
        )
        assert response.status_code == 400 and list(response.json()) == ["orders"]
        assert orders[0].number in response.json()["orders"][0]
        assert not Payment.objects.exists()

    def test_only_finance_and_admins_record_payments(self, api, rep, manager, client_service, own_customer):
        body = {"customer": own_customer.pk, "date": "2026-03-01", "amount": "10"}
        for user in (rep, manager, client_service):
            response = api(user).post("/api/payments/", body, format="json")
            assert response.status_code == 403
            assert response.json()["detail"] == str(services.ERR_PAYMENT_ROLE)

    def test_computed_fields_and_field_errors(self, api, finance, own_customer):
        client = api(finance)
        body = {"customer": own_customer.pk, "date": "2026-03-01", "amount": "10"}
        assert client.post("/api/payments/", {**body, "unallocated": "0"}, format="json").json() == {
            "unallocated": [str(ERR_COMPUTED)]
        }
        assert list(client.post("/api/payments/", {**body, "amount": "0"}, format="json").json()) == ["amount"]

    def test_everyone_reads_the_payments_of_the_customers_they_see(
        self, api, rep, finance, own_customer, team_customer, orders
    ):
        services.payment_record(actor=finance, customer=own_customer, date=MARCH, amount=D("20"))
        theirs = services.payment_record(actor=finance, customer=team_customer, date=MARCH, amount=D("20"))
        client = api(rep)
        assert [row["customer"] for row in client.get("/api/payments/").json()["results"]] == [own_customer.pk]
        assert client.get(f"/api/payments/{theirs.pk}/").status_code == 404
        allocations = client.get("/api/allocations/", {"customer": own_customer.pk}).json()["results"]
        assert [(row["order"], row["amount"]) for row in allocations] == [(orders[1].pk, "20.00")]
        assert client.get("/api/allocations/", {"customer": team_customer.pk}).json()["count"] == 0


# -- Receivables ------------------------------------------------------------------------------


class TestReceivables:
    @pytest.fixture
    def ledger(self, rep, teammate, outsider, finance, own_customer, team_customer, other_customer, product):
        today = datetime.date.today()
        old = confirmed_order(rep, own_customer, product, "4", today - datetime.timedelta(days=100))  # 200, 70 late
        recent = confirmed_order(rep, own_customer, product, "1", today)  # 50, not due
        theirs = confirmed_order(teammate, team_customer, product, "2", today - datetime.timedelta(days=50))
        far = confirmed_order(outsider, other_customer, product, "6", today - datetime.timedelta(days=200))
        services.payment_record(actor=finance, customer=own_customer, date=today, amount=D("30"), order_ids=[old.pk])
        return {"old": old, "recent": recent, "theirs": theirs, "far": far}

    def test_open_orders_with_age(self, api, rep, ledger):
        rows = {row["id"]: row for row in api(rep).get("/api/receivables/").json()["results"]}
        assert set(rows) == {ledger["old"].pk, ledger["recent"].pk}
        old = rows[ledger["old"].pk]
        assert (old["outstanding_amount"], old["bucket"], old["days_overdue"]) == ("170.00", "61_90", 70)
        assert (rows[ledger["recent"].pk]["bucket"], rows[ledger["recent"].pk]["days_overdue"]) == ("not_due", 0)

    def test_filters(self, api, finance, rep, outsider, team_b, ledger):
        client = api(finance)

        def ids(**params):
            return {row["id"] for row in client.get("/api/receivables/", params).json()["results"]}

        assert ids(bucket="over_90") == {ledger["far"].pk}
        assert ids(bucket="not_due") == {ledger["recent"].pk}
        assert ids(rep=rep.pk) == {ledger["old"].pk, ledger["recent"].pk}
        assert ids(team=team_b.pk) == {ledger["far"].pk}
        assert ids(region=team_b.region_id) == {ledger["far"].pk}
        assert ids(customer=ledger["theirs"].customer_id) == {ledger["theirs"].pk}
        assert client.get("/api/receivables/", {"bucket": "soon"}).status_code == 400

    @pytest.mark.parametrize("role", ["rep", "manager", "finance"])
    def test_summary_equals_the_receivables_totals(self, api, request, ledger, role):
        user = request.getfixturevalue(role)
        today = datetime.date.today()
        response = api(user).get("/api/receivables/summary/")
        assert response.status_code == 200
        data = response.json()
        expected = receivables.totals(Order.objects.visible_to(user), today)
        assert D(data["outstanding"]) == expected["outstanding"] and expected["outstanding"] > 0
        assert D(data["overdue"]) == expected["overdue"]
        assert [D(data[k]) for k in ("not_due", "days_1_30", "days_31_60", "days_61_90", "over_90")] == [
            expected[k] for k in ("not_due", "1_30", "31_60", "61_90", "over_90")
        ]

    def test_summary_filters_and_collection_rate(self, api, finance, rep, ledger):
        start = (ledger["old"].due_date).isoformat()
        response = api(finance).get("/api/receivables/summary/", {"rep": rep.pk, "start": start, "end": start})
        data = response.json()
        assert D(data["outstanding"]) == D("220.00")  # 170 + 50
        assert D(data["collection_rate"]) == D("15.0")  # 30 of 200 fell due that day
        empty = api(finance).get("/api/receivables/summary/", {"start": "2000-01-01", "end": "2000-01-31"}).json()
        assert empty["collection_rate"] is None
        backwards = api(finance).get("/api/receivables/summary/", {"start": "2026-02-01", "end": "2026-01-01"})
        assert backwards.status_code == 400 and list(backwards.json()) == ["end"]


# -- Products and policies --------------------------------------------------------------------

PRODUCT = {
    "name": "猪圆环病毒疫苗",
    "brand": "瑞普",
    "spec": "20ml/瓶",
    "unit": "瓶",
    "category": "vaccine",
    "industry": "vet_drugs",
    "list_price": "38.00",
    "approval_number": "兽药生字(2024)120001",
    "prescription": True,
}


class TestCatalogue:
    def test_admins_write_products_and_it_is_recorded(self, api, admin_user, rep, finance):
        assert api(rep).post("/api/products/", PRODUCT, format="json").status_code == 403
        assert api(finance).post("/api/products/", PRODUCT, format="json").status_code == 403
        created = api(admin_user).post("/api/products/", PRODUCT, format="json")
        assert created.status_code == 201, created.json()
        product_id = created.json()["id"]
        changed = api(admin_user).patch(f"/api/products/{product_id}/", {"list_price": "36.50"}, format="json")
        assert changed.json()["list_price"] == "36.50"
        events = AuditEvent.objects.filter(object_type="product", object_id=product_id).order_by("id")
        assert [(e.action, e.actor_id) for e in events] == [("create", admin_user.pk), ("update", admin_user.pk)]
        assert events[1].changes["list_price"] == ["38", "36.5"]
        assert api(rep).get(f"/api/products/{product_id}/").json()["name"] == "猪圆环病毒疫苗"
        assert api(admin_user).delete(f"/api/products/{product_id}/").status_code == 405

    def test_a_duplicate_product_is_refused(self, api, admin_user):
        api(admin_user).post("/api/products/", PRODUCT, format="json")
        response = api(admin_user).post("/api/products/", PRODUCT, format="json")
        assert response.status_code == 400
        assert Product.objects.count() == 1

    def test_policies_with_items(self, api, admin_user, rep, product):
        other = ProductFactory()
        body = {
            "name": "四月政策",
            "start": "2026-04-01",
            "end": "2026-04-30",
            "customer_types": ["dealer", "farm"],
            "items": [
                {"product": product.pk, "special_price": "40.00"},
                {"product": other.pk, "discount_percent": "10"},
            ],
        }
        assert api(rep).post("/api/policies/", body, format="json").status_code == 403
        created = api(admin_user).post("/api/policies/", body, format="json")
        assert created.status_code == 201, created.json()
        policy_id = created.json()["id"]
        items = api(rep).get(f"/api/policies/{policy_id}/").json()["items"]
        assert [(i["product"], i["special_price"], i["discount_percent"]) for i in items] == [
            (product.pk, "40.00", None),
            (other.pk, None, "10.00"),
        ]
        changed = api(admin_user).patch(f"/api/policies/{policy_id}/", {"items": body["items"][:1]}, format="json")
        assert len(changed.json()["items"]) == 1
        event = AuditEvent.objects.filter(object_type="salespolicy", object_id=policy_id).latest("id")
        assert len(event.changes["items"][0]) == 2 and len(event.changes["items"][1]) == 1
        in_force = api(rep).get("/api/policies/", {"in_force_on": "2026-04-15"}).json()["results"]
        assert [p["id"] for p in in_force] == [policy_id]

    def test_policy_errors_are_keyed(self, api, admin_user, product):
        client = api(admin_user)
        base = {"name": "坏政策", "start": "2026-04-01", "end": "2026-04-30"}
        both = client.post(
            "/api/policies/",
            {**base, "items": [{"product": product.pk, "special_price": "1", "discount_percent": "5"}]},
            format="json",
        )
        assert both.status_code == 400 and list(both.json()) == ["items"]
        twice = client.post(
            "/api/policies/",
            {**base, "items": [{"product": product.pk, "special_price": "1"}] * 2},
            format="json",
        )
        assert twice.status_code == 400 and list(twice.json()) == ["items"]
        backwards = client.post("/api/policies/", {**base, "end": "2026-03-01"}, format="json")
        assert list(backwards.json()) == ["end"]
        assert not SalesPolicy.objects.exists()


# -- After-sales ------------------------------------------------------------------------------


class TestAfterSales:
    def test_create_and_resolve(self, api, rep, client_service, own_customer, product):
        order = confirmed_order(rep, own_customer, product, "1", MARCH)
        created = api(rep).post(
            "/api/after-sales/",
            {"customer": own_customer.pk, "order": order.pk, "product": product.pk, "issue": "疫苗冷链断了"},
            format="json",
        )
        assert created.status_code == 201, created.json()
        assert (created.json()["status"], created.json()["hours_to_resolve"]) == ("open", None)
        url = f"/api/after-sales/{created.json()['id']}/"
        resolved = api(client_service).patch(url, {"status": "resolved", "resolution": "补发"}, format="json")
        assert resolved.json()["status"] == "resolved" and resolved.json()["hours_to_resolve"] is not None
        api(client_service).patch(url, {"status": "closed"}, format="json")
        reopened = api(client_service).patch(url, {"status": "open"}, format="json")
        assert reopened.status_code == 400 and list(reopened.json()) == ["status"]

    def test_an_order_must_be_the_customers_and_visible(self, api, rep, teammate, own_customer, team_customer, product):
        second = CustomerFactory(owner=rep)
        mine = confirmed_order(rep, second, product, "1", MARCH)
        theirs = confirmed_order(teammate, team_customer, product, "1", MARCH)
        client = api(rep)
        wrong = client.post(
            "/api/after-sales/", {"customer": own_customer.pk, "order": mine.pk, "issue": "x"}, format="json"
        )
        assert wrong.status_code == 400 and list(wrong.json()) == ["order"]
        hidden = client.post(
            "/api/after-sales/", {"customer": own_customer.pk, "order": theirs.pk, "issue": "x"}, format="json"
        )
        assert "does not exist" in hidden.json()["order"][0]
        assert not AfterSalesRequest.objects.exists()


# -- Targets ----------------------------------------------------------------------------------


class TestTargets:
    def body(self, rep, **extra):
        return {"rep": rep.pk, "month": "2026-03-01", "order_target": "1000", "collection_target": "400", **extra}

    def test_who_sets_targets(self, api, rep, teammate, outsider, manager, client_service, finance, admin_user):
        assert api(rep).post("/api/targets/", self.body(rep), format="json").status_code == 403
        assert api(client_service).post("/api/targets/", self.body(rep), format="json").status_code == 403
        assert api(finance).post("/api/targets/", self.body(rep), format="json").status_code == 403
        other_team = api(manager).post("/api/targets/", self.body(outsider), format="json")
        assert other_team.status_code == 400 and "does not exist" in other_team.json()["rep"][0]
        created = api(manager).post("/api/targets/", self.body(teammate), format="json")
        assert created.status_code == 201, created.json()
        assert api(admin_user).post("/api/targets/", self.body(outsider), format="json").status_code == 201
        event = AuditEvent.objects.get(object_type="salestarget", object_id=created.json()["id"])
        assert event.actor == manager
        mid_month = api(manager).post("/api/targets/", self.body(rep, month="2026-03-15"), format="json")
        assert list(mid_month.json()) == ["month"]
        twice = api(manager).post("/api/targets/", self.body(teammate), format="json")
        assert twice.status_code == 400

    def test_who_sees_targets(self, api, rep, teammate, outsider, manager, other_manager):
        targets = {
            user.username: SalesTarget.objects.create(
                rep=user, month=MARCH, order_target=D("1"), collection_target=D("1")
            )
            for user in (rep, teammate, outsider)
        }

        def seen(user):
            return {row["rep"]["id"] for row in api(user).get("/api/targets/").json()["results"]}

        assert seen(rep) == {rep.pk}
        assert seen(manager) == {rep.pk, teammate.pk}
        assert api(rep).get(f"/api/targets/{targets['teammate'].pk}/").status_code == 404
        assert api(rep).patch(f"/api/targets/{targets['rep'].pk}/", {"order_target": "9"}).status_code == 403
        assert api(other_manager).patch(f"/api/targets/{targets['rep'].pk}/", {"order_target": "9"}).status_code == 404
        changed = api(manager).patch(f"/api/targets/{targets['rep'].pk}/", {"order_target": "9"}, format="json")
        assert changed.json()["order_target"] == "9.00"
        moved = api(manager).patch(f"/api/targets/{targets['rep'].pk}/", {"rep": teammate.pk}, format="json")
        assert moved.json() == {"rep": [str(ERR_FIXED)]}

    def test_achievement_matches_the_selector(self, api, rep, manager, finance, own_customer, product):
        SalesTarget.objects.create(rep=rep, month=MARCH, order_target=D("400"), collection_target=D("200"))
        confirmed_order(rep, own_customer, product, "3", datetime.date(2026, 3, 5))  # 150
        confirmed_order(rep, own_customer, product, "1", datetime.date(2026, 4, 1))  # next month
        services.payment_record(actor=finance, customer=own_customer, date=datetime.date(2026, 3, 20), amount=D("50"))
        (row,) = api(manager).get("/api/targets/", {"month": "2026-03-01"}).json()["results"]
        (expected,) = selectors.target_achievement(reps=User.objects.filter(pk=rep.pk), month=MARCH)
        assert (D(row["order_amount"]), D(row["collected_amount"])) == (expected["ordered"], expected["collected"])
        assert (D(row["order_amount"]), D(row["collected_amount"])) == (D("150.00"), D("50.00"))
        assert (row["order_achievement"], row["collection_achievement"]) == (37.5, 25.0)


# -- Query counts -----------------------------------------------------------------------------


def _fill(rows: int, rep, finance, customer, product):
    """`rows` records of every endpoint, all visible to `rep`."""
    policy = SalesPolicy.objects.create(name="政策", start=MARCH, end=datetime.date(2026, 3, 31))
    for n in range(rows):
        item_product = ProductFactory()
        PolicyItem.objects.create(policy=policy, product=item_product, special_price=D("1"))
        if n:
            SalesPolicy.objects.create(name=f"政策{n}", start=MARCH, end=MARCH)
        order = services.order_create(
            actor=rep,
            customer=customer,
            order_date=MARCH,
            lines=[services.LineInput(product, D(1)), services.LineInput(item_product, D(2))],
        )
        services.order_transition(actor=rep, order=order, action="confirm")
        services.payment_record(actor=finance, customer=customer, date=MARCH, amount=D("1"))
        services.contract_save(
            actor=rep,
            contract=Contract(customer=customer, valid_from=MARCH, valid_to=MARCH),
            lines=[
                services.ContractLineInput(product, D(1), D(1)),
                services.ContractLineInput(item_product, D(1), D(2)),
            ],
        )
        services.after_sales_save(
            actor=rep, request=AfterSalesRequest(customer=customer, order=order, product=product, issue="问题")
        )
        SalesTarget.objects.create(
            rep=rep, month=datetime.date(2020 + n // 12, n % 12 + 1, 1), order_target=D(1), collection_target=D(1)
        )


# Queries of one list request by a rep, authenticated without a session ("shares" is the
# rep's shared customers, asked once by the visibility rule):
#   products: count; page                                                        = 2
#   policies: count; page; items with product joined                            = 3
#   contracts: shares; count; page (grouped, lines summed) with customer, owner,
#              approver, creator joined; lines with product joined               = 4
#   orders: shares; count; page with customer, contract, creator; lines with
#           product and policy joined                                            = 4
#   payments: shares; count; page with customer, recorder; allocations + order   = 4
#   allocations: shares; count; page with payment and order joined              = 3
#   receivables: shares; count; page with customer and owner joined             = 3
#   after-sales: shares; count; page with customer, order, product, assignee,
#                creator joined                                                  = 3
#   targets: count; page with rep joined and achievement subqueries             = 2
LIST_QUERIES = {
    "products": 2,
    "policies": 3,
    "contracts": 4,
    "orders": 4,
    "payments": 4,
    "allocations": 3,
    "receivables": 3,
    "after-sales": 3,
    "targets": 2,
}


@pytest.mark.parametrize("kind", list(LIST_QUERIES))
@pytest.mark.parametrize("rows", [3, 20])
def test_list_query_count_does_not_grow_with_rows(
    api, rep, finance, own_customer, product, kind, rows, django_assert_num_queries
):
    _fill(rows, rep, finance, own_customer, product)
    client = api(rep)
    with django_assert_num_queries(LIST_QUERIES[kind]):
        response = client.get(f"/api/{kind}/")
    assert response.status_code == 200
    assert response.json()["count"] >= rows


def test_summary_is_two_queries_whatever_the_rows(api, rep, finance, own_customer, product, django_assert_num_queries):
    _fill(5, rep, finance, own_customer, product)
    client = api(rep)
    # shares; totals (one aggregate); collection rate (one aggregate)
    with django_assert_num_queries(3):
        assert client.get("/api/receivables/summary/").status_code == 200
