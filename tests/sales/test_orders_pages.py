"""The order and target pages and the customer's sales tab: who may see and change what
(allowed, 404 for the invisible, 403 for the read-only, 405 for the wrong method), the
order form and its price preview, status changes, targets and their achievement, and
bounded query counts."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEvent, User
from sales import selectors, services
from sales.models import Contract, CustomerSales, Order, PolicyItem, SalesPolicy, SalesTarget
from tests.factories import CustomerFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
MARCH = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so assertions read the English source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def lines_data(*rows, extra=0):
    """POST data of the lines formset: rows of (product, quantity)."""
    data = {
        "lines-TOTAL_FORMS": str(len(rows) + extra),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
    }
    for index, (product, quantity) in enumerate(rows):
        data[f"lines-{index}-product"] = str(product.pk)
        data[f"lines-{index}-quantity"] = str(quantity)
    return data


@pytest.fixture
def policy(product):
    """A March special price of 42.00 (list price 50.00) for every customer type."""
    policy = SalesPolicy.objects.create(name="三月特价", start=MARCH, end=datetime.date(2026, 3, 31))
    PolicyItem.objects.create(policy=policy, product=product, special_price=D("42.00"))
    return policy


def detail(order):
    return reverse("sales:order_detail", args=[order.pk])


def transition(client, order, action):
    return client.post(reverse("sales:order_transition", args=[order.pk]), {"action": action})


# -- List ------------------------------------------------------------------------------------


class TestOrderList:
    def get(self, client, **params):
        return client.get(reverse("sales:order_list"), params)

    def test_rep_sees_only_own_orders(self, login, rep, own_customer, team_customer, make_order):
        mine, theirs = make_order(own_customer), make_order(team_customer)
        response = self.get(login(rep))
        assert response.status_code == 200
        numbers = {o.number for o in response.context["page"]}
        assert mine.number in numbers and theirs.number not in numbers

    def test_manager_sees_the_team_and_finance_everything(
        self, login, manager, finance, own_customer, team_customer, other_customer, make_order
    ):
        orders = [make_order(c) for c in (own_customer, team_customer, other_customer)]
        seen = {o.pk for o in self.get(login(manager)).context["page"]}
        assert seen == {orders[0].pk, orders[1].pk}
        seen = {o.pk for o in self.get(login(finance)).context["page"]}
        assert seen == {o.pk for o in orders}

    def test_wrong_method(self, login, rep):
        assert login(rep).post(reverse("sales:order_list")).status_code == 405

    def test_search_and_filters(self, login, manager, own_customer, team_customer, make_order):
        march = make_order(own_customer, on=MARCH)
        april_draft = make_order(team_customer, on=datetime.date(2026, 4, 5), confirm=False)
        client = login(manager)

        def found(**params):
            return {o.pk for o in self.get(client, **params).context["page"]}

        assert found(q=march.number) == {march.pk}
        assert found(q=march.number[:6].lower()) == {march.pk, april_draft.pk}  # "dd2026": a number prefix
        assert found(q="牧原") == {april_draft.pk}
        assert found(status="draft") == {april_draft.pk}
        assert found(date_from="2026-04-01") == {april_draft.pk}
        assert found(date_to="2026-03-31") == {march.pk}
        assert found(customer=own_customer.pk) == {march.pk}
        assert found(owner=team_customer.owner_id) == {april_draft.pk}

    def test_columns_show_outstanding_and_overdue(self, login, rep, own_customer, make_order):
        order = make_order(own_customer, on=timezone.localdate() - datetime.timedelta(days=45))
        html = self.get(login(rep)).content.decode()
        assert order.number in html and "500.00" in html
        assert re.search(r"1[45] days overdue", html)

    def test_customer_filter_names_the_customer(self, login, rep, own_customer, make_order):
        make_order(own_customer)
        response = self.get(login(rep), customer=own_customer.pk)
        assert response.context["customer"] == own_customer
        # Another rep's customer id names nobody.
        other = CustomerFactory()
        assert self.get(login(rep), customer=other.pk).context["customer"] is None

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_rows(
        self, login, rep, own_customer, make_order, django_assert_num_queries, count
    ):
        for _ in range(count):
            make_order(own_customer, confirm=False)
        client = login(rep)
        # 1 session, 2 user, 3 ids shared with the rep (visibility), 4 count (paginator),
        # 5 the page of orders with their customers, 6 owner choices of the filter form.
        with django_assert_num_queries(6):
            response = self.get(client)
        assert len(response.context["page"]) == min(count, 25)


# -- Create --------------------------------------------------------------------------------


class TestOrderCreate:
    def post(self, client, customer, *rows, **extra):
        data = {"customer": customer.pk, "order_date": "2026-03-10", "notes": "", **lines_data(*rows), **extra}
        return client.post(reverse("sales:order_create"), data)

    def test_form_for_a_customer(self, login, rep, own_customer, product):
        response = login(rep).get(reverse("sales:order_create"), {"customer": own_customer.pk})
        assert response.status_code == 200
        html = response.content.decode()
        assert own_customer.name in html and str(product) in html
        # Five empty rows work without JavaScript.
        assert response.context["formset"].total_form_count() == 5

    def test_customer_choices_are_the_users(self, login, rep, own_customer, team_customer):
        response = login(rep).get(reverse("sales:order_create"))
        choices = dict(response.context["form"].fields["customer"].widget.choices)
        assert own_customer.pk in choices and team_customer.pk not in choices

    def test_invisible_customer_is_not_found(self, login, rep, other_customer):
        client = login(rep)
        assert client.get(reverse("sales:order_create"), {"customer": other_customer.pk}).status_code == 404
        assert client.get(reverse("sales:order_create"), {"customer": "x"}).status_code == 404

    def test_posting_another_reps_customer_is_refused(self, login, rep, other_customer, product):
        response = self.post(login(rep), other_customer, (product, 1))
        assert response.status_code == 200
        assert response.context["form"].errors["customer"]
        assert not Order.objects.exists()

    def test_finance_may_not_create(self, login, finance, own_customer, product):
        client = login(finance)
        assert client.get(reverse("sales:order_create")).status_code == 403
        assert client.get(reverse("sales:order_create"), {"customer": own_customer.pk}).status_code == 403
        assert self.post(client, own_customer, (product, 1)).status_code == 403
        assert not Order.objects.exists()

    def test_creates_a_draft_with_the_policy_price_and_a_database_total(
        self, login, rep, own_customer, product, policy
    ):
        other = ProductFactory(list_price=D("10.00"))
        response = self.post(login(rep), own_customer, (product, 3), (other, "2.5"), total="1", unit_price="0.01")
        order = Order.objects.get()
        assert response.status_code == 302 and response["Location"] == detail(order)
        assert (order.status, order.customer, order.created_by) == (Order.Status.DRAFT, own_customer, rep)
        assert order.total == D("151.00")  # 3 × 42.00 (policy) + 2.5 × 10.00 (list)
        priced = {line.product_id: (line.unit_price, line.policy_id) for line in order.lines.all()}
        assert priced == {product.pk: (D("42.00"), policy.pk), other.pk: (D("10.00"), None)}

    def test_empty_rows_are_skipped_and_no_line_is_an_error(self, login, rep, own_customer, product):
        client = login(rep)
        response = self.post(client, own_customer)
        assert response.status_code == 200
        assert "at least one line" in str(response.context["formset"].non_form_errors())
        data = {"customer": own_customer.pk, "order_date": "2026-03-10", **lines_data((product, 2), extra=4)}
        assert client.post(reverse("sales:order_create"), data).status_code == 302
        assert Order.objects.get().lines.count() == 1

    def test_bad_quantity_is_shown_at_its_field(self, login, rep, own_customer, product):
        response = self.post(login(rep), own_customer, (product, "0"))
        assert response.status_code == 200
        assert response.context["formset"].forms[0].errors["quantity"]
        assert "is-invalid" in response.content.decode()

    def test_contract_must_be_an_active_contract_of_the_customer(self, login, rep, own_customer, product):
        mine = Contract.objects.create(
            number="HT-1",
            customer=own_customer,
            valid_from=datetime.date(2026, 1, 1),
            valid_to=datetime.date(2026, 12, 31),
            status=Contract.Status.ACTIVE,
            payment_term_days=60,
        )
        elsewhere = Contract.objects.create(
            number="HT-2",
            customer=CustomerFactory(owner=rep),
            valid_from=datetime.date(2026, 1, 1),
            valid_to=datetime.date(2026, 12, 31),
            status=Contract.Status.ACTIVE,
        )
        client = login(rep)
        response = self.post(client, own_customer, (product, 1), contract=elsewhere.pk)
        assert response.status_code == 200 and response.context["form"].errors["contract"]
        assert self.post(client, own_customer, (product, 1), contract=mine.pk).status_code == 302
        order = Order.objects.get()
        assert (order.contract, order.payment_term_days) == (mine, 60)

    def test_contract_choices_follow_the_customer(self, login, rep, own_customer):
        Contract.objects.create(
            number="HT-9",
            customer=own_customer,
            valid_from=datetime.date(2026, 1, 1),
            valid_to=datetime.date(2026, 12, 31),
            status=Contract.Status.ACTIVE,
        )
        response = login(rep).get(reverse("sales:order_create"), {"customer": own_customer.pk})
        assert [c.number for c in response.context["form"].fields["contract"].queryset] == ["HT-9"]

    def test_wrong_method(self, login, rep):
        assert login(rep).put(reverse("sales:order_create")).status_code == 405


class TestPricePreview:
    def get(self, client, customer, *rows, on="2026-03-10"):
        return client.get(
            reverse("sales:order_price_preview"), {"customer": customer.pk, "order_date": on, **lines_data(*rows)}
        )

    def test_shows_the_policy_price_and_the_total(self, login, rep, own_customer, product, policy):
        response = self.get(login(rep), own_customer, (product, 3))
        assert response.status_code == 200
        html = response.content.decode()
        assert policy.name in html and "42.00" in html and "126.00" in html
        assert response.context["total"] == D("126.00")

    def test_list_price_outside_the_policy_period(self, login, rep, own_customer, product, policy):
        response = self.get(login(rep), own_customer, (product, 3), on="2026-04-10")
        assert response.context["total"] == D("150.00")
        assert policy.name not in response.content.decode()

    def test_unfinished_rows_are_left_out(self, login, rep, own_customer, product):
        data = {"customer": own_customer.pk, "order_date": "2026-03-10", **lines_data((product, 2), extra=1)}
        data["lines-1-product"] = str(product.pk)  # no quantity yet
        response = login(rep).get(reverse("sales:order_price_preview"), data)
        assert response.context["total"] == D("100.00")

    def test_another_reps_customer_gives_no_prices(self, login, rep, other_customer, product):
        response = self.get(login(rep), other_customer, (product, 3))
        assert response.status_code == 200
        assert not response.context["ready"] and not response.context["rows"]

    def test_finance_may_not_preview(self, login, finance, own_customer, product):
        assert self.get(login(finance), own_customer, (product, 3)).status_code == 403


class TestLineForm:
    def test_adds_a_row_and_raises_the_count(self, login, rep, product):
        response = login(rep).get(reverse("sales:order_line_form"), {"lines-TOTAL_FORMS": "5"})
        html = response.content.decode()
        assert 'name="lines-5-product"' in html and 'name="lines-5-quantity"' in html
        assert re.search(r'name="lines-TOTAL_FORMS" value="6"[^>]*hx-swap-oob="true"', html)

    def test_bad_index(self, login, rep):
        client = login(rep)
        assert client.get(reverse("sales:order_line_form"), {"lines-TOTAL_FORMS": "x"}).status_code == 400
        assert client.get(reverse("sales:order_line_form"), {"lines-TOTAL_FORMS": "100"}).status_code == 400


# -- Detail, edit, status --------------------------------------------------------------------


class TestOrderDetail:
    def test_shows_lines_policy_payments_and_history(self, login, rep, own_customer, product, policy, finance_user):
        order = services.order_create(
            actor=rep, customer=own_customer, order_date=MARCH, lines=[services.LineInput(product, D("2"))]
        )
        order = services.order_transition(actor=rep, order=order, action="confirm")
        services.payment_record(actor=finance_user, customer=own_customer, date=MARCH, amount=D("30.00"))
        response = login(rep).get(detail(order))
        assert response.status_code == 200
        html = response.content.decode()
        assert policy.name in html and "84.00" in html and "50.00" in html  # unit, total, list price
        assert "54.00" in html  # outstanding
        assert len(response.context["allocations"]) == 1
        history = response.context["history"]
        assert {item["event"].action for item in history} == {AuditEvent.Action.CREATE, AuditEvent.Action.UPDATE}
        assert response.context["actions"] == [("ship", "Mark shipped"), ("cancel", "Cancel order")]

    def test_another_reps_order_is_not_found(self, login, rep, team_customer, other_customer, make_order):
        client = login(rep)
        assert client.get(detail(make_order(team_customer))).status_code == 404
        assert client.get(detail(make_order(other_customer))).status_code == 404

    def test_finance_reads_without_actions(self, login, finance, own_customer, make_order):
        response = login(finance).get(detail(make_order(own_customer, confirm=False)))
        assert response.status_code == 200
        assert response.context["actions"] == []
        assert reverse("sales:order_transition", args=[response.context["order"].pk]) not in response.content.decode()

    def test_days_overdue(self, login, rep, own_customer, make_order):
        order = make_order(own_customer, on=timezone.localdate() - datetime.timedelta(days=40))
        response = login(rep).get(detail(order))
        assert response.context["days_overdue"] == 10
        assert "10 days overdue" in response.content.decode()

    def test_wrong_method(self, login, rep, own_customer, make_order):
        assert login(rep).post(detail(make_order(own_customer))).status_code == 405


class TestOrderEdit:
    def url(self, order):
        return reverse("sales:order_edit", args=[order.pk])

    def test_draft_lines_change_and_the_total_follows(self, login, rep, own_customer, product, make_order):
        order = make_order(own_customer, quantity="2", confirm=False)
        client = login(rep)
        response = client.get(self.url(order))
        assert response.status_code == 200
        assert response.context["formset"].forms[0].initial == {"product": product.pk, "quantity": D("2.00")}
        other = ProductFactory(list_price=D("8.00"))
        data = {"notes": "加急", **lines_data((product, 1), (other, 5))}
        data["lines-INITIAL_FORMS"] = "0"
        assert client.post(self.url(order), data).status_code == 302
        order.refresh_from_db()
        assert (order.total, order.notes, order.lines.count()) == (D("90.00"), "加急", 2)

    def test_a_line_can_be_removed(self, login, rep, own_customer, product, make_order):
        order = make_order(own_customer, quantity="2", confirm=False)
        other = ProductFactory(list_price=D("8.00"))
        data = {"notes": "", **lines_data((product, 2), (other, 1))}
        data["lines-0-DELETE"] = "on"
        assert login(rep).post(self.url(order), data).status_code == 302
        order.refresh_from_db()
        assert order.total == D("8.00")

    def test_confirmed_order_is_not_edited(self, login, rep, own_customer, product, make_order):
        order = make_order(own_customer)
        response = login(rep).post(self.url(order), {"notes": "", **lines_data((product, 9))})
        assert response.status_code == 302 and response["Location"] == detail(order)
        order.refresh_from_db()
        assert order.total == D("500.00")

    def test_visibility_and_roles(self, login, rep, finance, own_customer, team_customer, make_order):
        assert login(rep).get(self.url(make_order(team_customer, confirm=False))).status_code == 404
        assert login(finance).get(self.url(make_order(own_customer, confirm=False))).status_code == 403


class TestTransitions:
    def test_confirm_ship_complete(self, login, rep, own_customer, make_order):
        order = make_order(own_customer, confirm=False)
        client = login(rep)
        response = transition(client, order, "confirm")
        assert response.status_code == 302 and response["Location"] == detail(order)
        order.refresh_from_db()
        assert order.status == Order.Status.CONFIRMED
        assert order.due_date == order.order_date + datetime.timedelta(days=order.payment_term_days)
        transition(client, order, "ship")
        transition(client, order, "complete")
        order.refresh_from_db()
        assert order.status == Order.Status.COMPLETED

    def test_a_wrong_step_is_a_message_not_a_change(self, login, rep, own_customer, make_order):
        order = make_order(own_customer, confirm=False)
        response = transition(login(rep), order, "complete")
        assert response.status_code == 302
        order.refresh_from_db()
        assert order.status == Order.Status.DRAFT
        messages = [str(m) for m in response.wsgi_request._messages]
        assert any("cannot be completed" in m for m in messages)

    def test_cancel(self, login, rep, own_customer, make_order):
        order = make_order(own_customer)
        transition(login(rep), order, "cancel")
        order.refresh_from_db()
        assert order.status == Order.Status.CANCELLED

    def test_rep_cannot_change_another_reps_order(self, login, rep, team_customer, other_customer, make_order):
        client = login(rep)
        for customer in (team_customer, other_customer):
            order = make_order(customer, confirm=False)
            assert transition(client, order, "confirm").status_code == 404
            order.refresh_from_db()
            assert order.status == Order.Status.DRAFT

    def test_manager_confirms_the_teams_orders_not_others(
        self, login, manager, team_customer, other_customer, make_order
    ):
        client = login(manager)
        team_order, other_order = make_order(team_customer, confirm=False), make_order(other_customer, confirm=False)
        transition(client, team_order, "confirm")
        team_order.refresh_from_db()
        assert team_order.status == Order.Status.CONFIRMED
        assert transition(client, other_order, "confirm").status_code == 404

    def test_finance_may_not_change_status(self, login, finance, own_customer, make_order):
        order = make_order(own_customer, confirm=False)
        assert transition(login(finance), order, "confirm").status_code == 403
        order.refresh_from_db()
        assert order.status == Order.Status.DRAFT

    def test_unknown_action_and_wrong_method(self, login, rep, own_customer, make_order):
        order = make_order(own_customer, confirm=False)
        client = login(rep)
        assert transition(client, order, "delete").status_code == 400
        assert client.get(reverse("sales:order_transition", args=[order.pk])).status_code == 405


# -- The customer's sales tab ------------------------------------------------------------------


class TestSalesTab:
    def url(self, customer):
        return reverse("customers:detail", args=[customer.pk]) + "?tab=sales"

    def test_orders_receivables_and_figures(self, login, rep, own_customer, make_order, finance_user):
        today = timezone.localdate()
        overdue = make_order(own_customer, on=today - datetime.timedelta(days=45))  # due 15 days ago
        current = make_order(own_customer, quantity="2", on=today)
        services.payment_record(actor=finance_user, customer=own_customer, date=today, amount=D("800.00"))
        response = login(rep).get(self.url(own_customer))
        assert response.status_code == 200
        context = response.context
        assert [o.pk for o in context["orders"]] == [current.pk, overdue.pk]
        assert len(context["payments"]) == 1
        # 800 paid the older order (500) first, then 300 of the current one (100): 200 prepaid.
        assert context["receivable"]["outstanding"] == D("0.00")
        figures = CustomerSales.objects.get(customer=own_customer)
        assert context["figures"] == figures and figures.prepayment == D("200.00")
        html = response.content.decode()
        assert f"{reverse('sales:order_list')}?customer={own_customer.pk}" in html
        assert f"{reverse('sales:order_create')}?customer={own_customer.pk}" in html
        assert "600.00" in html  # 12-month amount

    def test_aging_buckets(self, login, rep, own_customer, make_order):
        today = timezone.localdate()
        make_order(own_customer, on=today - datetime.timedelta(days=70))  # 40 days past due
        make_order(own_customer, quantity="1", on=today)
        receivable = login(rep).get(self.url(own_customer)).context["receivable"]
        assert (receivable["31_60"], receivable["not_due"], receivable["overdue"]) == (D("500"), D("50"), D("500"))

    def test_no_figures_yet_show_a_dash(self, login, rep, own_customer):
        response = login(rep).get(self.url(own_customer))
        assert response.context["figures"] is None
        assert '<div class="fs-5 amount-12m">—</div>' in response.content.decode()

    def test_finance_reads_without_a_new_order_button(self, login, finance, own_customer):
        html = login(finance).get(self.url(own_customer)).content.decode()
        assert reverse("sales:order_create") not in html

    def test_invisible_customer(self, login, rep, other_customer):
        assert login(rep).get(self.url(other_customer)).status_code == 404

    @pytest.mark.parametrize("count", [2, 15])
    def test_query_count_does_not_grow_with_orders(
        self, login, rep, own_customer, make_order, finance_user, django_assert_num_queries, count
    ):
        for _ in range(count):
            make_order(own_customer)
            services.payment_record(actor=finance_user, customer=own_customer, date=MARCH, amount=D("10.00"))
        client = login(rep)
        # 1 session, 2 user, 3 ids shared with the rep, 4 the customer, 5 may the rep edit it,
        # 6 latest orders, 7 contracts, 8 payments, 9 receivables by age, 10 stored figures.
        with django_assert_num_queries(10):
            response = client.get(self.url(own_customer))
        assert len(response.context["orders"]) == min(count, 10)


# -- Targets ------------------------------------------------------------------------------------


class TestTargetAchievement:
    def test_confirmed_orders_and_payments_of_the_month(
        self, rep, teammate, own_customer, team_customer, make_order, finance_user
    ):
        make_order(own_customer, on=datetime.date(2026, 3, 5))  # 500
        make_order(own_customer, quantity="2", on=datetime.date(2026, 3, 31))  # 100
        make_order(own_customer, on=datetime.date(2026, 3, 6), confirm=False)  # draft: not counted
        cancelled = make_order(own_customer, on=datetime.date(2026, 3, 7))
        services.order_transition(actor=rep, order=cancelled, action="cancel")
        make_order(own_customer, on=datetime.date(2026, 4, 1))  # next month
        make_order(team_customer, quantity="4", on=datetime.date(2026, 3, 9))  # teammate: 200
        services.payment_record(
            actor=finance_user, customer=own_customer, date=datetime.date(2026, 3, 20), amount=D("300")
        )
        services.payment_record(
            actor=finance_user, customer=own_customer, date=datetime.date(2026, 2, 20), amount=D("1")
        )
        SalesTarget.objects.create(rep=rep, month=MARCH, order_target=D("1000"), collection_target=D("200"))

        reps = User.objects.filter(pk__in=[rep.pk, teammate.pk])
        rows = {row["rep"].pk: row for row in selectors.target_achievement(reps=reps, month=datetime.date(2026, 3, 15))}
        assert rows[rep.pk]["ordered"] == D("600.00") and rows[rep.pk]["order_percent"] == D("60.0")
        assert rows[rep.pk]["collected"] == D("300.00") and rows[rep.pk]["collection_percent"] == D("150.0")
        assert rows[teammate.pk]["ordered"] == D("200.00")
        assert rows[teammate.pk]["order_target"] is None and rows[teammate.pk]["order_percent"] is None

    def test_one_query_whatever_the_number_of_reps(self, team_a, django_assert_num_queries):
        reps = UserFactory.create_batch(12, role=User.Role.REP, team=team_a)
        for user in reps:
            CustomerFactory(owner=user)
        with django_assert_num_queries(1):
            rows = selectors.target_achievement(reps=User.objects.filter(role=User.Role.REP), month=MARCH)
        assert len(rows) == 12


class TestTargetPages:
    def list_url(self, month="2026-03"):
        return reverse("sales:target_list") + f"?month={month}"

    def edit_url(self, user, month=MARCH):
        return reverse("sales:target_edit", args=[user.pk, month.year, month.month])

    def reps_on(self, response):
        return {row["rep"].pk for row in response.context["rows"]}

    def test_who_sees_which_reps(self, login, rep, teammate, outsider, manager, finance, client_service):
        assert self.reps_on(login(rep).get(self.list_url())) == {rep.pk}
        assert self.reps_on(login(manager).get(self.list_url())) == {rep.pk, teammate.pk}
        assert self.reps_on(login(finance).get(self.list_url())) == {rep.pk, teammate.pk, outsider.pk}
        assert self.reps_on(login(client_service).get(self.list_url())) == {rep.pk, teammate.pk, outsider.pk}

    def test_month_and_achievement_on_the_page(self, login, manager, rep, own_customer, make_order):
        make_order(own_customer, on=datetime.date(2026, 3, 5))
        SalesTarget.objects.create(rep=rep, month=MARCH, order_target=D("2000"), collection_target=D("0"))
        response = login(manager).get(self.list_url())
        assert response.context["month"] == MARCH
        html = response.content.decode()
        assert "25.0%" in html and "2,000.00" in html
        assert self.edit_url(rep) in html

    def test_bad_month_falls_back_to_this_month(self, login, rep):
        response = login(rep).get(self.list_url("2026-13"))
        assert response.status_code == 200
        assert response.context["month"] == timezone.localdate().replace(day=1)

    def test_manager_sets_a_teams_target_once_per_month(self, login, manager, rep):
        client = login(manager)
        assert client.get(self.edit_url(rep)).status_code == 200
        data = {"order_target": "5000", "collection_target": "3000"}
        response = client.post(self.edit_url(rep), data)
        assert response.status_code == 302 and response["Location"] == self.list_url()
        client.post(self.edit_url(rep), {"order_target": "6000", "collection_target": "3000"})
        target = SalesTarget.objects.get(rep=rep)
        assert (target.month, target.order_target, target.collection_target) == (MARCH, D("6000"), D("3000"))
        assert AuditEvent.objects.filter(object_type="salestarget", object_id=target.pk).count() == 2

    def test_invalid_amount_is_shown_at_its_field(self, login, manager, rep):
        response = login(manager).post(self.edit_url(rep), {"order_target": "-1", "collection_target": "0"})
        assert response.status_code == 200 and response.context["form"].errors["order_target"]
        assert not SalesTarget.objects.exists()

    def test_who_may_set_targets(self, login, rep, outsider, manager, finance, client_service, admin_user):
        assert login(rep).get(self.edit_url(rep)).status_code == 403
        assert login(rep).get(self.edit_url(outsider)).status_code == 404
        assert login(finance).get(self.edit_url(rep)).status_code == 403
        assert login(client_service).get(self.edit_url(rep)).status_code == 403
        assert login(manager).get(self.edit_url(outsider)).status_code == 404
        assert login(manager).get(self.edit_url(manager)).status_code == 404  # not a rep
        assert login(admin_user).get(self.edit_url(outsider)).status_code == 200
        assert login(admin_user).get(reverse("sales:target_edit", args=[rep.pk, 2026, 13])).status_code == 404

    def test_wrong_method(self, login, rep):
        assert login(rep).post(reverse("sales:target_list")).status_code == 405

    @pytest.mark.parametrize("count", [2, 20])
    def test_query_count_does_not_grow_with_reps(self, login, team_a, admin_user, django_assert_num_queries, count):
        for user in UserFactory.create_batch(count, role=User.Role.REP, team=team_a):
            CustomerFactory(owner=user)
        client = login(admin_user)
        # 1 session, 2 user, 3 reps the admin sets targets for, 4 reps with their
        # achievement (one query), 5 team choices of the filter form.
        with django_assert_num_queries(5):
            response = client.get(self.list_url())
        assert len(response.context["rows"]) == count
