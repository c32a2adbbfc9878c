"""The contact list, and the exports of the customer and contact lists: who sees what
(a rep never gets another rep's rows), the list's filters applied to the export,
formulas neutralised, numbers and dates kept as such, and query counts that do not grow
with the rows."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact, CustomField
from sales import metrics
from sales import services as sales_services
from tests.factories import ContactFactory, CustomerFactory, ProductFactory, TagFactory
from tests.spreadsheets import HOSTILE, as_text, csv_rows, xlsx_rows, xlsx_sheet, xlsx_text

pytestmark = pytest.mark.django_db

ENGLISH = {"Accept-Language": "en"}
CUSTOMER_EXPORT = reverse("customers:export")
CONTACTS = reverse("customers:contact_list")
CONTACT_EXPORT = reverse("customers:contact_export")


@pytest.fixture
def hostile_customer(rep):
    """The rep's customer whose every text a spreadsheet would run as a formula."""
    name, plus, minus, at, tab, cr = HOSTILE
    CustomField.objects.create(key="remark", label="备注", kind="text")
    CustomField.objects.create(key="sows", label="母猪存栏", kind="number")
    customer = CustomerFactory(
        owner=rep,
        name=name,
        code=at,
        address=plus,
        city=minus,
        annual_sales=Decimal("1500000.00"),
        cooperation_start=datetime.date(2020, 5, 1),
        custom_fields={"remark": tab, "sows": 320},
    )
    customer.tags.add(TagFactory(name=cr), TagFactory(name="重点"))
    return customer


# -- Customer export ----------------------------------------------------------------------------


class TestCustomerExport:
    def test_csv_has_the_visible_customers_with_formulas_neutralised(
        self, login, rep, hostile_customer, own_customer, team_customer, other_customer
    ):
        response = login(rep).get(CUSTOMER_EXPORT, headers=ENGLISH)
        assert response.status_code == 200 and response.streaming
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"] and "customers-" in response["Content-Disposition"]
        header, *rows = csv_rows(response)
        assert header[:3] == ["Code", "Name", "Type"] and header[-2:] == ["备注", "母猪存栏"]
        names = {row[1] for row in rows}
        # A rep exports their own customers only.
        assert names == {as_text(hostile_customer.name), own_customer.name}
        row = dict(zip(header, next(r for r in rows if r[0].startswith("'")), strict=True))
        name, plus, minus, at, tab, cr = HOSTILE
        assert row["Code"] == as_text(at) and row["Name"] == as_text(name)
        assert row["Address"] == as_text(plus) and row["City"] == as_text(minus)
        assert row["备注"] == as_text(tab) and row["Tags"] == as_text(cr + "、重点")
        assert row["Type"] == "Dealer" and row["Owner rep"] == "李明"
        assert row["Cooperation since"] == "2020-05-01" and row["母猪存栏"] == "320"

    def test_the_lists_filters_apply(self, login, client_service, own_customer, team_customer, other_customer):
        response = login(client_service).get(CUSTOMER_EXPORT, {"type": "farm", "format": "csv"})
        header, *rows = csv_rows(response)
        assert [row[1] for row in rows] == [team_customer.name]
        response = login(client_service).get(CUSTOMER_EXPORT, {"q": "石家庄", "ordering": "name"})
        assert [row[1] for row in csv_rows(response)[1:]] == [other_customer.name]

    def test_the_stored_sales_figures_are_exported_as_numbers(
        self, login, rep, manager, own_customer, team_customer, other_customer
    ):
        # 10 x 50.00 ordered 60 days ago on a 30-day term: 500.00 owed and overdue.
        lines = [sales_services.LineInput(product=ProductFactory(list_price=Decimal("50.00")), quantity=Decimal(10))]
        order = sales_services.order_create(
            actor=rep, customer=own_customer, order_date=timezone.localdate() - datetime.timedelta(days=60), lines=lines
        )
        sales_services.order_transition(actor=rep, order=order, action="confirm")
        metrics.refresh(today=timezone.localdate())
        response = login(manager).get(CUSTOMER_EXPORT, {"format": "xlsx", "overdue": "true"}, headers=ENGLISH)
        assert response.status_code == 200
        sheet = xlsx_sheet(response)
        header, *rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) == 1
        row = dict(zip(header, rows[0], strict=True))
        assert row["Name"] == own_customer.name
        assert row["12-month amount"] == 500 and row["Overdue"] == 500 and row["Receivable"] == 500
        assert isinstance(row["12-month amount"], int | float) and row["Orders in 12 months"] == 1
        assert isinstance(row["Last order"], datetime.datetime)
        assert isinstance(row["Last updated"], datetime.datetime)
        money = header.index("12-month amount") + 1
        assert sheet.cell(row=2, column=money).number_format == "#,##0.00"

    def test_xlsx_neutralises_formulas(self, login, rep, hostile_customer):
        header, *rows = xlsx_rows(login(rep).get(CUSTOMER_EXPORT, {"format": "xlsx"}, headers=ENGLISH))
        row = dict(zip(header, rows[0], strict=True))
        assert row["Name"] == xlsx_text(HOSTILE[0]) and row["Tags"] == xlsx_text(HOSTILE[5] + "、重点")
        assert row["备注"] == xlsx_text(HOSTILE[4]) and row["母猪存栏"] == 320
        assert row["Completeness"] == hostile_customer.completeness

    def test_an_unknown_format_is_404_and_post_is_405(self, login, rep):
        assert login(rep).get(CUSTOMER_EXPORT, {"format": "pdf"}).status_code == 404
        assert login(rep).post(CUSTOMER_EXPORT).status_code == 405

    def test_anonymous_users_are_sent_to_login(self, client):
        assert client.get(CUSTOMER_EXPORT).status_code == 302

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_rows(self, login, rep, client_service, django_assert_num_queries, count):
        CustomField.objects.create(key="remark", label="备注", kind="text")
        for customer in CustomerFactory.create_batch(count, owner=rep):
            customer.tags.add(TagFactory(name="重点"))
        client = login(client_service)
        # 1 session, 2 user, 3 custom-field definitions (FilterSet, and the columns),
        # 4 the rows with owner, sales figures and tags, read in chunks through one cursor.
        with django_assert_num_queries(4):
            rows = csv_rows(client.get(CUSTOMER_EXPORT))
        assert len(rows) == count + 1


# -- Contact list -------------------------------------------------------------------------------


@pytest.fixture
def contacts(own_customer, team_customer, other_customer):
    return {
        "own": ContactFactory(customer=own_customer, name="张经理", mobile="13900000001", is_primary=True),
        "own_vet": ContactFactory(customer=own_customer, name="王兽医", role=Contact.Role.TECHNICIAN, opted_out=True),
        "team": ContactFactory(customer=team_customer, name="刘采购"),
        "other": ContactFactory(customer=other_customer, name="赵老板", role=Contact.Role.BOSS),
    }


def listed(response) -> list[str]:
    return [contact.name for contact in response.context["page"]]


class TestContactList:
    def test_a_rep_sees_the_contacts_of_their_customers(self, login, rep, contacts):
        response = login(rep).get(CONTACTS)
        assert response.status_code == 200
        assert sorted(listed(response)) == sorted(["张经理", "王兽医"])
        assert "刘采购" not in response.content.decode() and "赵老板" not in response.content.decode()

    def test_a_manager_sees_the_teams_and_client_service_all(self, login, manager, client_service, contacts):
        assert sorted(listed(login(manager).get(CONTACTS))) == sorted(["张经理", "王兽医", "刘采购"])
        assert len(listed(login(client_service).get(CONTACTS))) == 4

    def test_the_main_contact_comes_first_within_a_customer(self, login, rep, contacts):
        assert listed(login(rep).get(CONTACTS)) == ["张经理", "王兽医"]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"q": "王兽"}, ["王兽医"]),
            ({"q": "13900000001"}, ["张经理"]),
            # The customer's name finds all its contacts; a contact's name finds only that contact.
            ({"q": "潍坊牧原"}, ["刘采购"]),
            ({"q": "赵老板"}, ["赵老板"]),
            ({"role": "boss"}, ["赵老板"]),
            ({"opted_out": "true"}, ["王兽医"]),
            ({"opted_out": "false", "role": "technician"}, []),
        ],
    )
    def test_filters(self, login, client_service, contacts, params, expected):
        assert sorted(listed(login(client_service).get(CONTACTS, params))) == sorted(expected)

    def test_search_by_customer_code(self, login, client_service, contacts, other_customer):
        assert listed(login(client_service).get(CONTACTS, {"q": other_customer.code})) == ["赵老板"]

    def test_the_opted_out_filter_reads_any_yes_no(self, login, rep):
        html = login(rep).get(CONTACTS, headers=ENGLISH).content.decode()
        assert '<option value="" selected>Any</option>' in html and "Unknown" not in html

    def test_it_is_in_the_navigation(self, login, rep):
        assert f'href="{CONTACTS}"' in login(rep).get(reverse("customers:list")).content.decode()

    def test_the_export_menu_carries_the_filters(self, login, rep):
        html = login(rep).get(CONTACTS, {"role": "boss", "page": "1"}).content.decode()
        assert f'href="{CONTACT_EXPORT}?role=boss&amp;format=xlsx"' in html
        assert f'href="{CONTACT_EXPORT}?role=boss&amp;format=csv"' in html

    def test_wrong_method_is_405(self, login, rep):
        assert login(rep).post(CONTACTS).status_code == 405

    def test_anonymous_users_are_sent_to_login(self, client):
        assert client.get(CONTACTS).status_code == 302

    def test_pages(self, login, rep, own_customer):
        ContactFactory.create_batch(30, customer=own_customer)
        client = login(rep)
        assert len(client.get(CONTACTS).context["page"]) == 25
        assert len(client.get(CONTACTS, {"page": 2}).context["page"]) == 5

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_rows(self, login, rep, django_assert_num_queries, count):
        for customer in CustomerFactory.create_batch(count, owner=rep):
            ContactFactory(customer=customer)
        client = login(rep)
        # 1 session, 2 user, 3 the customers shared with the rep (visibility),
        # 4 count (paginator), 5 the page of contacts with their customers.
        with django_assert_num_queries(5):
            response = client.get(CONTACTS)
        assert len(response.context["page"]) == min(count, 25)


# -- Contact export -----------------------------------------------------------------------------


class TestContactExport:
    def test_csv_only_visible_contacts_with_filters(self, login, rep, contacts):
        header, *rows = csv_rows(login(rep).get(CONTACT_EXPORT, headers=ENGLISH))
        assert header[:4] == ["Customer code", "Customer", "Name", "Role"]
        assert [row[2] for row in rows] == ["张经理", "王兽医"]
        header, *rows = csv_rows(login(rep).get(CONTACT_EXPORT, {"opted_out": "true"}, headers=ENGLISH))
        assert [row[2] for row in rows] == ["王兽医"]
        row = dict(zip(header, rows[0], strict=True))
        assert row["Role"] == "Vet / technician" and row["No marketing messages"] == "Yes"
        assert row["Main contact"] == "No" and row["Owner rep"] == "李明"

    def test_a_rep_never_exports_another_reps_contact(self, login, rep, contacts, other_customer):
        for params in ({}, {"q": "赵老板"}, {"q": other_customer.code}, {"role": "boss"}):
            header, *rows = csv_rows(login(rep).get(CONTACT_EXPORT, params))
            assert "赵老板" not in {row[2] for row in rows} and "刘采购" not in {row[2] for row in rows}

    def test_formulas_are_neutralised_in_both_formats(self, login, rep):
        name, plus, minus, at, tab, cr = HOSTILE
        customer = CustomerFactory(owner=rep, name=name, code=at)
        ContactFactory(customer=customer, name=plus, title=minus, wechat=tab, phone=cr, mobile="13900000009")
        header, *rows = csv_rows(login(rep).get(CONTACT_EXPORT, headers=ENGLISH))
        row = dict(zip(header, rows[0], strict=True))
        assert [row[k] for k in ("Customer", "Customer code", "Name", "Job title", "WeChat", "Other phone")] == [
            as_text(v) for v in (name, at, plus, minus, tab, cr)
        ]
        # Digits Excel would read as a number are written so that it shows them as text.
        assert row["Mobile"] == '="13900000009"'
        header, *rows = xlsx_rows(login(rep).get(CONTACT_EXPORT, {"format": "xlsx"}, headers=ENGLISH))
        row = dict(zip(header, rows[0], strict=True))
        assert [row[k] for k in ("Customer", "Customer code", "Name", "Job title", "WeChat", "Other phone")] == [
            xlsx_text(v) for v in (name, at, plus, minus, tab, cr)
        ]
        # A mobile number stays text: Excel would otherwise show it as 1.39E+10.
        assert row["Mobile"] == "13900000009"

    def test_an_unknown_format_is_404_and_post_is_405(self, login, rep):
        assert login(rep).get(CONTACT_EXPORT, {"format": "ods"}).status_code == 404
        assert login(rep).post(CONTACT_EXPORT).status_code == 405

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow_with_rows(self, login, manager, rep, django_assert_num_queries, count):
        for customer in CustomerFactory.create_batch(count, owner=rep):
            ContactFactory(customer=customer)
        client = login(manager)
        # 1 session, 2 user, 3 the manager's team members (visibility), 4 the rows with
        # their customer and its owner, read in chunks through one cursor.
        with django_assert_num_queries(4):
            rows = csv_rows(client.get(CONTACT_EXPORT, {"format": "csv"}))
        assert len(rows) == count + 1


# -- The customer list's filter panel ------------------------------------------------------------


def test_the_overdue_filter_reads_any_yes_no(login, rep):
    html = login(rep).get(reverse("customers:list"), headers=ENGLISH).content.decode()
    assert "Unknown" not in html
    select = html[html.index('name="overdue"') :]
    select = select[: select.index("</select>")]
    assert ">Any</option>" in select and ">Yes</option>" in select and ">No</option>" in select


def test_the_customer_list_offers_its_export_with_the_filters(login, rep):
    html = login(rep).get(reverse("customers:list"), {"type": "farm"}).content.decode()
    assert f'href="{CUSTOMER_EXPORT}?type=farm&amp;format=csv"' in html
