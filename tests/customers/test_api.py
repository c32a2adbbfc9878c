"""The archive API: authentication, visibility on every endpoint, field-keyed errors,
who may set the owner, optimistic locking, filters shared with the list page,
handover, verification, history, and the query count of every list endpoint."""

import datetime
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from crm import throttle
from crm.models import AuditEvent, User
from customers.api.serializers import ERR_OWNER_REFUSED
from customers.filters import CustomerFilter
from customers.models import Contact, Customer, CustomField, Livestock, QualificationDocument
from tests.conftest import PASSWORD
from tests.factories import ContactFactory, CustomerFactory, DocumentFactory, RelationFactory, valid_credit_code

pytestmark = pytest.mark.django_db

# Error messages are compared in English.
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def api():
    """api(user) is an API client authenticated as `user` (None: anonymous)."""

    def _api(user=None):
        client = APIClient(**EN)
        if user is not None:
            # A fresh object per client, as a request would have (shares are cached per object).
            client.force_authenticate(User.objects.get(pk=user.pk))
        return client

    return _api


def customer_payload(**extra):
    return {
        "name": "菏泽丰收兽药店",
        "type": "dealer",
        "industry": "vet_drugs",
        "province": "37",
        "city": "菏泽",
        **extra,
    }


def livestock_for(customer, **extra):
    values = {"species": "sow", "quantity": 300, "unit": "head", "as_of": datetime.date(2024, 5, 1)}
    return Livestock.objects.create(customer=customer, **{**values, **extra})


# -- Authentication --------------------------------------------------------------------------


class TestAuthentication:
    @pytest.fixture
    def address(self):
        # A private address per test: the throttle's counters live in a shared Redis.
        address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
        yield address
        cache.delete_many(throttle._keys("rep", address))

    def test_token_auth(self, rep, own_customer, other_customer, address):
        response = APIClient().post("/api/auth/token/", {"username": "rep", "password": PASSWORD}, REMOTE_ADDR=address)
        assert response.status_code == 200
        client = APIClient(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        listed = client.get("/api/customers/")
        assert listed.status_code == 200
        assert [row["id"] for row in listed.json()["results"]] == [own_customer.pk]

    def test_token_refused_for_a_wrong_password_and_throttled(self, rep, address):
        client = APIClient()
        for _ in range(throttle.MAX_FAILURES):
            response = client.post("/api/auth/token/", {"username": "rep", "password": "wrong"}, REMOTE_ADDR=address)
            assert response.status_code == 400
        # Now even the right password is refused for a while.
        response = client.post("/api/auth/token/", {"username": "rep", "password": PASSWORD}, REMOTE_ADDR=address)
        assert response.status_code == 429

    def test_bad_token_and_anonymous_are_refused(self, own_customer):
        # 401 or 403 depending on which authentication class is listed first; never data.
        for client in (APIClient(HTTP_AUTHORIZATION="Token nonsense"), APIClient()):
            response = client.get("/api/customers/")
            assert response.status_code in (401, 403)
            assert set(response.json()) == {"detail"}

    def test_session_auth(self, client, rep, own_customer):
        client.force_login(rep)
        response = client.get("/api/customers/", **EN)
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [own_customer.pk]

    def test_session_writes_need_the_csrf_token(self, rep):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(rep)
        response = client.post("/api/customers/", customer_payload(), format="json")
        assert response.status_code == 403
        assert not Customer.objects.exists()


# -- Visibility -------------------------------------------------------------------------------

CHILD_ENDPOINTS = {
    "contacts": lambda customer: ContactFactory(customer=customer),
    "relations": lambda customer: RelationFactory(customer=customer),
    "documents": lambda customer: DocumentFactory(customer=customer),
    "livestock": livestock_for,
}


class TestVisibility:
    def test_customers(self, api, rep, manager, own_customer, team_customer, other_customer):
        listed = api(rep).get("/api/customers/").json()["results"]
        assert {row["id"] for row in listed} == {own_customer.pk}
        assert api(rep).get(f"/api/customers/{other_customer.pk}/").status_code == 404
        assert api(rep).get(f"/api/customers/{own_customer.pk}/").status_code == 200
        listed = api(manager).get("/api/customers/").json()["results"]
        assert {row["id"] for row in listed} == {own_customer.pk, team_customer.pk}

    @pytest.mark.parametrize("endpoint", list(CHILD_ENDPOINTS))
    def test_children(self, api, rep, own_customer, other_customer, endpoint):
        mine = CHILD_ENDPOINTS[endpoint](own_customer)
        theirs = CHILD_ENDPOINTS[endpoint](other_customer)
        client = api(rep)
        listed = client.get(f"/api/{endpoint}/").json()["results"]
        assert [row["id"] for row in listed] == [mine.pk]
        assert client.get(f"/api/{endpoint}/{theirs.pk}/").status_code == 404
        assert client.patch(f"/api/{endpoint}/{theirs.pk}/", {}, format="json").status_code == 404
        assert client.delete(f"/api/{endpoint}/{theirs.pk}/").status_code == 404
        # Filtering by an invisible customer is an empty list, as for an id that does not exist.
        assert client.get(f"/api/{endpoint}/", {"customer": other_customer.pk}).json()["results"] == []
        assert client.get(f"/api/{endpoint}/", {"customer": own_customer.pk}).json()["count"] == 1

    def test_finance_reads_everything_and_writes_nothing(self, api, finance, own_customer, other_customer):
        client = api(finance)
        assert client.get("/api/customers/").json()["count"] == 2
        version = own_customer.version
        response = client.patch(
            f"/api/customers/{own_customer.pk}/", {"city": "日照", "version": version}, format="json"
        )
        assert response.status_code == 403
        assert (
            client.post("/api/customers/", customer_payload(owner=own_customer.owner_id), format="json").status_code
            == 403
        )
        assert (
            client.post("/api/contacts/", {"customer": own_customer.pk, "name": "张三"}, format="json").status_code
            == 403
        )
        assert Customer.objects.get(pk=own_customer.pk).city == own_customer.city

    def test_child_of_an_invisible_customer_does_not_exist(self, api, rep, other_customer):
        response = api(rep).post("/api/contacts/", {"customer": other_customer.pk, "name": "张三"}, format="json")
        assert response.status_code == 400
        assert "does not exist" in response.json()["customer"][0]
        assert not Contact.objects.exists()

    def test_child_cannot_move_to_another_customer(self, api, client_service, own_customer, other_customer):
        contact = ContactFactory(customer=own_customer)
        response = api(client_service).patch(
            f"/api/contacts/{contact.pk}/", {"customer": other_customer.pk}, format="json"
        )
        assert response.status_code == 400 and "customer" in response.json()

    def test_only_admins_delete_customers(self, api, client_service, admin_user, own_customer):
        assert api(client_service).delete(f"/api/customers/{own_customer.pk}/").status_code == 403
        assert api(admin_user).delete(f"/api/customers/{own_customer.pk}/").status_code == 204
        assert not Customer.objects.filter(pk=own_customer.pk).exists()
        assert AuditEvent.objects.filter(action="delete", object_id=own_customer.pk, actor=admin_user).exists()

    def test_wrong_method_is_405(self, api, rep):
        assert api(rep).put("/api/customers/", {}, format="json").status_code == 405
        assert api(rep).get("/api/handover/").status_code in (403, 405)


# -- Validation -------------------------------------------------------------------------------


class TestValidation:
    @pytest.mark.parametrize(
        "field, value",
        [
            ("credit_code", "91370100000000001X"),  # wrong check character
            ("credit_code", "9137010000000001"),  # too short
            ("phone", "2345678901"),
            ("phone", "1.38E+10"),
            ("province", "99"),
            ("annual_sales", "-1"),
            ("working_capital", "-0.01"),
            ("staff", -3),
            ("cooperation_start", "2024-13-40"),
            ("boss_phone", "12345"),
        ],
    )
    def test_field_keyed_errors(self, api, rep, field, value):
        response = api(rep).post("/api/customers/", customer_payload(**{field: value}), format="json")
        assert response.status_code == 400
        assert set(response.json()) == {field}
        assert not Customer.objects.exists()

    def test_values_are_normalised(self, api, rep):
        code = valid_credit_code(42)
        response = api(rep).post(
            "/api/customers/",
            customer_payload(
                credit_code=f" {code.lower()[:9]} {code.lower()[9:]} ", phone="+86 138-0013-8000", province="山东"
            ),
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["credit_code"], body["phone"], body["province"]) == (code, "13800138000", "37")
        assert body["province_name"] == "山东省"

    def test_duplicate_credit_code_names_the_holder(self, api, rep, other_customer):
        Customer.objects.filter(pk=other_customer.pk).update(credit_code=valid_credit_code(7))
        response = api(rep).post("/api/customers/", customer_payload(credit_code=valid_credit_code(7)), format="json")
        assert response.status_code == 400
        assert other_customer.code in response.json()["credit_code"][0]

    def test_child_errors(self, api, rep, own_customer):
        client = api(rep)
        response = client.post(
            "/api/contacts/", {"customer": own_customer.pk, "name": "张三", "mobile": "123"}, format="json"
        )
        assert response.status_code == 400 and set(response.json()) == {"mobile"}
        response = client.post(
            "/api/livestock/",
            {"customer": own_customer.pk, "species": "sow", "quantity": "-5", "unit": "head", "as_of": "2024-05-01"},
            format="json",
        )
        assert response.status_code == 400 and set(response.json()) == {"quantity"}
        response = client.post(
            "/api/documents/",
            {
                "customer": own_customer.pk,
                "doc_type": "drug_permit",
                "issue_date": "2024-05-01",
                "expiry_date": "2023-05-01",
            },
            format="json",
        )
        assert response.status_code == 400 and set(response.json()) == {"expiry_date"}

    def test_custom_fields(self, api, rep):
        CustomField.objects.create(key="sow_count", label="母猪存栏", kind=CustomField.Kind.NUMBER)
        CustomField.objects.create(key="channel", label="渠道", kind=CustomField.Kind.CHOICE, choices=["直营", "代理"])
        CustomField.objects.create(key="region_code", label="片区", kind=CustomField.Kind.TEXT, required=True)
        client = api(rep)
        response = client.post(
            "/api/customers/",
            customer_payload(custom_fields={"sow_count": "many", "channel": "批发", "nope": 1}),
            format="json",
        )
        assert response.status_code == 400
        errors = response.json()["custom_fields"]
        assert set(errors) == {"sow_count", "channel", "nope", "region_code"}

        response = client.post(
            "/api/customers/",
            customer_payload(custom_fields={"sow_count": "1200", "channel": "直营", "region_code": "鲁西"}),
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["custom_fields"] == {"sow_count": 1200, "channel": "直营", "region_code": "鲁西"}
        # A PATCH changes the values it names, removes those sent as null, keeps the rest.
        response = client.patch(
            f"/api/customers/{body['id']}/",
            {"version": body["version"], "custom_fields": {"sow_count": 1500, "channel": None}},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert response.json()["custom_fields"] == {"sow_count": 1500, "region_code": "鲁西"}

    def test_domain_error_is_field_keyed(self, api, client_service, own_customer):
        # fact_verify refuses an empty fact with a DomainError naming the fact.
        response = api(client_service).post(
            f"/api/customers/{own_customer.pk}/verify/", {"fact": "working_capital"}, format="json"
        )
        assert response.status_code == 400
        assert set(response.json()) == {"working_capital"}


# -- Owner ------------------------------------------------------------------------------------


class TestOwner:
    def test_rep_may_not_send_owner(self, api, rep, own_customer):
        client = api(rep)
        response = client.post("/api/customers/", customer_payload(owner=rep.pk), format="json")
        assert response.status_code == 400
        assert response.json() == {"owner": [str(ERR_OWNER_REFUSED)]}
        response = client.patch(
            f"/api/customers/{own_customer.pk}/", {"owner": rep.pk, "version": own_customer.version}, format="json"
        )
        assert response.status_code == 400 and set(response.json()) == {"owner"}

    def test_rep_owns_what_they_create(self, api, rep):
        response = api(rep).post("/api/customers/", customer_payload(), format="json")
        assert response.status_code == 201
        assert response.json()["owner"] == {"id": rep.pk, "name": "李明"}
        assert Customer.objects.get().created_by == rep

    def test_manager_assigns_only_reps_of_the_team(self, api, manager, teammate, outsider):
        client = api(manager)
        assert client.post("/api/customers/", customer_payload(), format="json").json() == {
            "owner": ["This field is required."]
        }
        response = client.post("/api/customers/", customer_payload(owner=outsider.pk), format="json")
        assert response.status_code == 400 and set(response.json()) == {"owner"}
        response = client.post("/api/customers/", customer_payload(owner=teammate.pk), format="json")
        assert response.status_code == 201
        assert response.json()["owner"]["id"] == teammate.pk

    def test_client_service_assigns_any_rep_but_not_other_roles(self, api, client_service, outsider, manager):
        client = api(client_service)
        assert client.post("/api/customers/", customer_payload(owner=outsider.pk), format="json").status_code == 201
        response = client.post("/api/customers/", customer_payload(owner=manager.pk), format="json")
        assert response.status_code == 400 and set(response.json()) == {"owner"}


# -- Optimistic locking -----------------------------------------------------------------------


class TestEditConflict:
    def test_stale_version_is_409_naming_the_fields(self, api, rep, manager, own_customer):
        loaded = api(rep).get(f"/api/customers/{own_customer.pk}/").json()
        response = api(manager).patch(
            f"/api/customers/{own_customer.pk}/",
            {"city": "日照", "address": "人民路1号", "version": loaded["version"]},
            format="json",
        )
        assert response.status_code == 200
        assert response.json()["version"] == loaded["version"] + 1

        response = api(rep).patch(
            f"/api/customers/{own_customer.pk}/", {"city": "临沂", "version": loaded["version"]}, format="json"
        )
        assert response.status_code == 409
        body = response.json()
        labels = {str(Customer._meta.get_field(name).verbose_name) for name in ("city", "address")}
        assert set(body["fields"]) == labels
        assert body["detail"]
        assert Customer.objects.get(pk=own_customer.pk).city == "日照"

    def test_update_requires_the_version(self, api, rep, own_customer):
        response = api(rep).patch(f"/api/customers/{own_customer.pk}/", {"city": "日照"}, format="json")
        assert response.status_code == 400 and set(response.json()) == {"version"}

    def test_put_replaces_the_archive(self, api, rep, own_customer):
        response = api(rep).put(
            f"/api/customers/{own_customer.pk}/",
            customer_payload(version=own_customer.version, tags=[], annual_sales="800000.00"),
            format="json",
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["name"], body["annual_sales"], body["owner"]["id"]) == ("菏泽丰收兽药店", "800000.00", rep.pk)


# -- Filters ----------------------------------------------------------------------------------


class TestFilters:
    @pytest.fixture
    def archive(self, rep):
        CustomerFactory(owner=rep, name="临沂康达兽药经营部", province="37", city="临沂")
        CustomerFactory(owner=rep, name="青岛海康兽药", province="37", city="青岛", annual_sales=900000)
        CustomerFactory(owner=rep, name="邯郸牧业", province="13", city="邯郸", boss_name="赵")
        CustomerFactory(owner=rep, name="保定兽药连锁", province="13", city="保定", type="chain")
        CustomerFactory(
            owner=rep,
            name="郑州大北农兽药",
            province="41",
            city="郑州",
            credit_code=valid_credit_code(3),
            phone="13800138000",
            address="郑州市",
            main_products="疫苗",
            coverage_area="郑州",
            boss_name="王",
            farming_level="high",
            technical_level="high",
            local_influence="high",
            cooperation_attitude="high",
            strengths="渠道",
            plan_goal="年销百万",
            annual_sales=1000000,
            working_capital=300000,
            downstream_customers=40,
            hot_brand_count=3,
            warehouse_area=500,
            vehicles=2,
            staff=8,
        )
        CustomerFactory(name="别人的兽药店", province="37")  # another rep's: never listed

    @pytest.mark.parametrize(
        "params",
        [
            {"q": "兽药"},
            {"q": "牧业"},
            {"province": "37"},
            {"province": "13", "type": "chain"},
            {"completeness": "low"},
            {"completeness": "medium"},
            {"completeness_min": "20"},
            {"q": "兽药", "ordering": "name"},
        ],
    )
    def test_same_ids_as_the_list_page(self, api, rep, archive, params):
        response = api(rep).get("/api/customers/", params)
        assert response.status_code == 200
        api_ids = [row["id"] for row in response.json()["results"]]
        request = SimpleNamespace(user=User.objects.get(pk=rep.pk))
        page = CustomerFilter(params, queryset=Customer.objects.visible_to(request.user), request=request)
        assert page.is_valid()
        page_ids = list(page.qs.values_list("pk", flat=True))
        assert api_ids == page_ids
        assert api_ids  # every case matches something, so the comparison means something

    def test_invalid_filter_value_is_400(self, api, rep):
        response = api(rep).get("/api/customers/", {"province": "99"})
        assert response.status_code == 400 and "province" in response.json()


# -- Handover, duplicates, verification -------------------------------------------------------


class TestHandover:
    def test_manager_hands_chosen_customers_over(self, api, manager, rep, teammate, own_customer):
        response = api(manager).post(
            "/api/handover/",
            {"to_user": teammate.pk, "reason": "李明离职", "customer_ids": [own_customer.pk]},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["customer_count"] == 1
        assert Customer.objects.get(pk=own_customer.pk).owner == teammate
        event = AuditEvent.objects.get(action="handover", customer=own_customer)
        assert (event.actor, event.reason) == (manager, "李明离职")

    def test_all_customers_of_a_rep(self, api, admin_user, rep, outsider, own_customer):
        second = CustomerFactory(owner=rep)
        response = api(admin_user).post(
            "/api/handover/", {"to_user": outsider.pk, "reason": "调岗", "from_user": rep.pk}, format="json"
        )
        assert response.status_code == 201
        assert set(Customer.objects.filter(owner=outsider).values_list("pk", flat=True)) == {own_customer.pk, second.pk}

    def test_refusals(self, api, rep, manager, teammate, outsider, other_customer, own_customer):
        payload = {"to_user": teammate.pk, "reason": "调整", "customer_ids": [own_customer.pk]}
        assert api(rep).post("/api/handover/", payload, format="json").status_code == 403
        # Another team's customer: not the manager's to hand over.
        response = api(manager).post("/api/handover/", {**payload, "customer_ids": [other_customer.pk]}, format="json")
        assert response.status_code == 400 and set(response.json()) == {"customer_ids"}
        # A rep of another team is not a target.
        response = api(manager).post("/api/handover/", {**payload, "to_user": outsider.pk}, format="json")
        assert response.status_code == 400 and set(response.json()) == {"to_user"}
        response = api(manager).post("/api/handover/", {**payload, "reason": " "}, format="json")
        assert response.status_code == 400 and set(response.json()) == {"reason"}
        assert Customer.objects.get(pk=own_customer.pk).owner_id == own_customer.owner_id


class TestDuplicates:
    def test_invisible_ones_only_by_code_and_owner(self, api, rep, own_customer, other_customer):
        client = api(rep)
        rows = client.get("/api/customers/duplicates/", {"name": other_customer.name, "city": other_customer.city})
        assert rows.json() == [
            {
                "visible": False,
                "id": None,
                "code": other_customer.code,
                "name": None,
                "city": None,
                "owner_name": "赵强",
            }
        ]
        rows = client.get("/api/customers/duplicates/", {"name": own_customer.name, "city": own_customer.city}).json()
        assert [(r["visible"], r["id"], r["name"]) for r in rows] == [(True, own_customer.pk, own_customer.name)]

    def test_matches_normalised_phone_and_credit_code(self, api, rep, own_customer):
        Customer.objects.filter(pk=own_customer.pk).update(phone="13800138000", credit_code=valid_credit_code(9))
        client = api(rep)
        assert (
            client.get("/api/customers/duplicates/", {"phone": "+86 138 0013 8000"}).json()[0]["id"] == own_customer.pk
        )
        code = valid_credit_code(9).lower()
        assert client.get("/api/customers/duplicates/", {"credit_code": code}).json()[0]["id"] == own_customer.pk
        assert client.get("/api/customers/duplicates/").json() == []


class TestVerification:
    def test_client_service_verifies_a_fact(self, api, client_service, own_customer):
        Customer.objects.filter(pk=own_customer.pk).update(annual_sales=500000)
        response = api(client_service).post(
            f"/api/customers/{own_customer.pk}/verify/", {"fact": "annual_sales"}, format="json"
        )
        assert response.status_code == 200
        fact = response.json()["facts"]["annual_sales"]
        assert fact["verified"] is True and fact["verified_by"]["id"] == client_service.pk
        assert fact["source"] == "customer"

    def test_reps_do_not_verify_their_own_reports(self, api, rep, own_customer, other_customer):
        client = api(rep)
        assert (
            client.post(f"/api/customers/{own_customer.pk}/verify/", {"fact": "staff"}, format="json").status_code
            == 403
        )
        assert (
            client.post(f"/api/customers/{other_customer.pk}/verify/", {"fact": "staff"}, format="json").status_code
            == 404
        )

    def test_documents_and_livestock(self, api, rep, client_service, own_customer):
        document = DocumentFactory(customer=own_customer)
        reading = livestock_for(own_customer)
        assert api(rep).post(f"/api/documents/{document.pk}/verify/").status_code == 403
        response = api(client_service).post(f"/api/documents/{document.pk}/verify/")
        assert response.status_code == 200 and response.json()["verified_by"]["id"] == client_service.pk
        response = api(client_service).post(f"/api/livestock/{reading.pk}/verify/")
        assert response.status_code == 200 and response.json()["verified_at"]

    def test_sources_are_stored_and_shown(self, api, rep, own_customer):
        response = api(rep).patch(
            f"/api/customers/{own_customer.pk}/",
            {"version": own_customer.version, "staff": 12, "sources": {"staff": "rep_estimate"}},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert response.json()["facts"]["staff"] == {
            "source": "rep_estimate",
            "verified": False,
            "verified_by": None,
            "verified_at": None,
        }
        response = api(rep).patch(
            f"/api/customers/{own_customer.pk}/",
            {"version": response.json()["version"], "sources": {"city": "peer"}},
            format="json",
        )
        assert response.status_code == 400 and set(response.json()["sources"]) == {"city"}


# -- Documents' files -------------------------------------------------------------------------


class TestDocumentFiles:
    def test_upload_and_download_only_for_those_who_see_it(self, api, rep, outsider, own_customer, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        upload = SimpleUploadedFile("licence.pdf", b"%PDF-1.4 test", content_type="application/pdf")
        response = api(rep).post(
            "/api/documents/",
            {"customer": own_customer.pk, "doc_type": "business_licence", "number": "A1", "file": upload},
            format="multipart",
        )
        assert response.status_code == 201, response.json()
        url = response.json()["file_url"]
        document_id = response.json()["id"]
        assert url.endswith(reverse("api:document-file", args=[document_id]))
        download = api(rep).get(url)
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == b"%PDF-1.4 test"
        assert api(outsider).get(url).status_code == 404

    def test_wrong_file_type_is_refused(self, api, rep, own_customer, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        upload = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
        response = api(rep).post(
            "/api/documents/",
            {"customer": own_customer.pk, "doc_type": "business_licence", "file": upload},
            format="multipart",
        )
        assert response.status_code == 400 and set(response.json()) == {"file"}
        assert not QualificationDocument.objects.exists()


# -- Custom field definitions -------------------------------------------------------------------


class TestCustomFieldDefinitions:
    def test_everyone_reads_admins_write(self, api, rep, admin_user):
        definition = {"key": "sow_count", "label": "母猪存栏", "kind": "number"}
        assert api(rep).post("/api/custom-fields/", definition, format="json").status_code == 403
        response = api(admin_user).post("/api/custom-fields/", definition, format="json")
        assert response.status_code == 201
        pk = response.json()["id"]
        assert [row["key"] for row in api(rep).get("/api/custom-fields/").json()["results"]] == ["sow_count"]
        assert api(rep).patch(f"/api/custom-fields/{pk}/", {"label": "x"}, format="json").status_code == 403
        response = api(admin_user).patch(f"/api/custom-fields/{pk}/", {"key": "renamed"}, format="json")
        assert response.status_code == 400 and set(response.json()) == {"key"}
        response = api(admin_user).patch(f"/api/custom-fields/{pk}/", {"active": False}, format="json")
        assert response.status_code == 200 and response.json()["active"] is False
        events = AuditEvent.objects.filter(object_type="customfield", object_id=pk, actor=admin_user)
        assert [e.action for e in events.order_by("id")] == ["create", "update"]
        assert api(admin_user).delete(f"/api/custom-fields/{pk}/").status_code == 405

    def test_choice_fields_need_choices(self, api, admin_user):
        response = api(admin_user).post(
            "/api/custom-fields/", {"key": "channel", "label": "渠道", "kind": "choice"}, format="json"
        )
        assert response.status_code == 400 and set(response.json()) == {"choices"}


# -- History ----------------------------------------------------------------------------------


class TestHistory:
    def test_api_writes_are_recorded(self, api, rep):
        client = api(rep)
        body = client.post("/api/customers/", customer_payload(), format="json").json()
        customer_id = body["id"]
        client.patch(f"/api/customers/{customer_id}/", {"city": "日照", "version": body["version"]}, format="json")
        contact = client.post("/api/contacts/", {"customer": customer_id, "name": "张三"}, format="json").json()
        client.patch(f"/api/contacts/{contact['id']}/", {"title": "采购"}, format="json")
        client.delete(f"/api/contacts/{contact['id']}/")
        events = AuditEvent.objects.filter(customer_id=customer_id).order_by("id")
        assert [(e.action, e.object_type) for e in events] == [
            ("create", "customer"),
            ("update", "customer"),
            ("create", "contact"),
            ("update", "contact"),
            ("delete", "contact"),
        ]
        assert all(e.actor_id == rep.pk for e in events)
        assert events[1].changes["city"] == ["菏泽", "日照"]
        assert events[3].changes["title"][1] == "采购"


# -- Query counts -----------------------------------------------------------------------------


def _fill(kind: str, owner, rows: int):
    """`rows` records of one endpoint, all visible to `owner` (a rep)."""
    customers = [CustomerFactory(owner=owner) for _ in range(rows if kind in ("customers",) else 1)]
    customer = customers[0]
    for _ in range(rows if kind != "customers" else 0):
        if kind == "contacts":
            ContactFactory(customer=customer)
        elif kind == "relations":
            RelationFactory(customer=customer)
        elif kind == "documents":
            DocumentFactory(customer=customer)
        elif kind == "livestock":
            livestock_for(customer)
        elif kind == "custom-fields":
            CustomField.objects.create(key=f"f{uuid.uuid4().hex[:8]}", label="字段", kind="text")
    if kind == "customers":
        # Tags and verified facts are prefetched, not fetched per row.
        for customer in customers:
            customer.tags.create(name=f"标签{customer.pk}")
            customer.fact_checks.create(fact="staff", source="peer", verified_by=owner)


# Queries of one list request, authenticated without a session:
#   customers: the rep's shares; custom field definitions (CustomerFilter); count; page
#              with owner joined; tags; fact checks with verified_by joined          = 6
#   children:  the rep's shares; count; page with customer (and verified_by) joined  = 3
#   custom fields: count; page                                                       = 2
LIST_QUERIES = {"customers": 6, "contacts": 3, "relations": 3, "documents": 3, "livestock": 3, "custom-fields": 2}


@pytest.mark.parametrize("kind", list(LIST_QUERIES))
@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(api, rep, kind, rows, django_assert_num_queries):
    _fill(kind, rep, rows)
    client = api(rep)
    with django_assert_num_queries(LIST_QUERIES[kind]):
        response = client.get(f"/api/{kind}/")
    assert response.status_code == 200
    assert response.json()["count"] == rows
