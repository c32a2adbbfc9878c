"""The owner's personal data (PIPL minimisation): finance sees every customer but not the
owner's personal profile (Customer.PERSONAL_PROFILE_FIELDS) nor the owner's relations,
on no page, API, history or export; the other roles keep seeing them. One rule decides:
User.sees_personal_profile."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm.models import AuditEvent, User
from customers import services
from customers.api.views import ERR_NO_PERSONAL_PROFILE
from customers.models import Customer, FactSource, Relation
from tests.factories import RelationFactory

pytestmark = pytest.mark.django_db

# The owner's personal profile, with values found nowhere else on a page.
PERSONAL = {
    "boss_gender": Customer.Gender.MALE,
    "boss_birth_year": 1971,
    "boss_education": Customer.Education.BACHELOR,
    "boss_work_history": "曾任县畜牧站站长",
    "boss_economic_situation": "县城房产三套",
    "boss_reputation": "传闻好赌",
}
PERSONAL_TEXTS = ["曾任县畜牧站站长", "县城房产三套", "传闻好赌"]
# Whom to call about the customer (a payment): every role that sees the customer keeps these.
OWNER_CONTACT = {"boss_name": "张德福", "boss_phone": "13912345678"}
RELATION_NAME, RELATION_JOB = "王秀兰", "畜牧局副局长"
OTHER_ROLES = ["rep", "manager", "client_service", "admin_user"]


def detail_url(customer, tab=None):
    url = reverse("customers:detail", args=[customer.pk])
    return f"{url}?tab={tab}" if tab else url


def label(field: str) -> str:
    return str(Customer._meta.get_field(field).verbose_name)


@pytest.fixture
def archive(own_customer):
    """The rep's customer with the owner's profile filled in and one relation."""
    Customer.objects.filter(pk=own_customer.pk).update(**PERSONAL, **OWNER_CONTACT)
    own_customer.refresh_from_db()
    RelationFactory(customer=own_customer, name=RELATION_NAME, kind=Relation.Kind.AUTHORITY, occupation=RELATION_JOB)
    return own_customer


@pytest.fixture
def api():
    def _api(user):
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=user.pk))
        return client

    return _api


def test_the_rule():
    assert not User(role=User.Role.FINANCE).sees_personal_profile
    assert User(role=User.Role.FINANCE, is_superuser=True).sees_personal_profile
    for role in (User.Role.REP, User.Role.MANAGER, User.Role.CLIENT_SERVICE, User.Role.ADMIN):
        assert User(role=role).sees_personal_profile
    assert Customer.hidden_fields_for(User(role=User.Role.FINANCE)) == set(PERSONAL)
    assert Customer.hidden_fields_for(User(role=User.Role.REP)) == set()


def test_every_owner_field_is_decided():
    """A new boss_* field must be put on one side: hidden from finance or not."""
    assert set(Customer.BOSS_FIELDS) == set(PERSONAL) | set(OWNER_CONTACT)
    assert set(Customer.PERSONAL_PROFILE_FIELDS) == set(PERSONAL)


def test_relations_are_invisible_to_finance_in_the_model(archive, finance, client_service):
    assert not Relation.objects.visible_to(finance).exists()
    assert not Relation.objects.editable_by(finance).exists()
    assert Relation.objects.visible_to(client_service).get().name == RELATION_NAME


# -- Pages -------------------------------------------------------------------------------------


class TestProfilePage:
    def test_finance_sees_whom_to_call_but_not_the_profile(self, login, finance, archive):
        response = login(finance).get(detail_url(archive))
        assert response.status_code == 200
        html = response.content.decode()
        for text in PERSONAL_TEXTS:
            assert text not in html
        assert {str(name): value for name, value in response.context["boss_rows"]} == {
            label("boss_name"): "张德福",
            label("boss_phone"): "13912345678",
        }
        assert "张德福" in html and "13912345678" in html
        assert "boss_economic_situation" not in {fact["name"] for fact in response.context["facts"]}
        # The business facts stay: finance judges credit on them.
        assert "working_capital" in {fact["name"] for fact in response.context["facts"]}

    @pytest.mark.parametrize("role", OTHER_ROLES)
    def test_other_roles_see_the_profile(self, login, request, archive, role):
        response = login(request.getfixturevalue(role)).get(detail_url(archive))
        html = response.content.decode()
        for text in PERSONAL_TEXTS:
            assert text in html
        rows = {str(name): value for name, value in response.context["boss_rows"]}
        assert rows[label("boss_birth_year")] == 1971
        assert rows[label("boss_gender")] == archive.get_boss_gender_display()
        assert "boss_economic_situation" in {fact["name"] for fact in response.context["facts"]}


class TestRelationsPage:
    def test_finance_has_no_relations_tab_and_gets_403(self, login, finance, archive):
        client = login(finance)
        profile = client.get(detail_url(archive))
        assert "relations" not in [key for key, _label in profile.context["tabs"]]
        assert "?tab=relations" not in profile.content.decode()
        response = client.get(detail_url(archive, "relations"))
        assert response.status_code == 403
        assert RELATION_NAME not in response.content.decode()

    def test_finance_may_not_open_a_relation_form(self, login, finance, archive):
        relation = Relation.objects.get(customer=archive)
        client = login(finance)
        assert client.get(reverse("customers:relation_create", args=[archive.pk])).status_code == 403
        assert client.get(reverse("customers:relation_edit", args=[archive.pk, relation.pk])).status_code == 403
        assert client.post(reverse("customers:relation_delete", args=[archive.pk, relation.pk])).status_code == 403
        assert Relation.objects.filter(pk=relation.pk).exists()

    @pytest.mark.parametrize("role", OTHER_ROLES)
    def test_other_roles_see_the_relations(self, login, request, archive, role):
        client = login(request.getfixturevalue(role))
        assert "?tab=relations" in client.get(detail_url(archive)).content.decode()
        response = client.get(detail_url(archive, "relations"))
        assert response.status_code == 200
        html = response.content.decode()
        assert RELATION_NAME in html and RELATION_JOB in html


# -- History -----------------------------------------------------------------------------------


@pytest.fixture
def history(archive, rep, client_service):
    """A change of the owner's reputation and of the city in one edit, a source and a
    verification of the owner's economic situation, and a relation added."""
    services.customer_update(
        actor=rep,
        customer_id=archive.pk,
        data={"boss_reputation": "口碑很好", "city": "日照"},
        expected_version=None,
    )
    services.customer_update(
        actor=rep,
        customer_id=archive.pk,
        data={"boss_economic_situation": "有存款"},
        expected_version=None,
        sources={"boss_economic_situation": FactSource.PEER},
    )
    archive.refresh_from_db()
    services.fact_verify(actor=client_service, customer=archive, fact="boss_economic_situation")
    services.child_save(actor=rep, obj=Relation(customer=archive, name="李桂芝", kind=Relation.Kind.SPOUSE))
    return archive


PERSONAL_LABELS = [label(field) for field in ("boss_reputation", "boss_economic_situation")]


def _history_labels(response) -> list[str]:
    return [str(name) for row in response.context["history_rows"] for name, _old, _new in row["changes"]]


class TestHistory:
    def test_finance_sees_the_change_but_not_the_personal_values(self, login, finance, history):
        response = login(finance).get(detail_url(history, "history"))
        assert response.status_code == 200
        html = response.content.decode()
        labels = _history_labels(response)
        assert label("city") in labels
        assert "日照" in html
        for text in ("口碑很好", "有存款", "传闻好赌", "县城房产三套", "李桂芝"):
            assert text not in html
        for name in labels:
            assert not any(personal in name for personal in PERSONAL_LABELS), name
        assert "relation" not in {row["event"].object_type for row in response.context["history_rows"]}

    def test_finance_gets_no_entry_naming_no_field(self, login, finance, history):
        """The second edit and the verification touched the personal profile alone."""
        rows = login(finance).get(detail_url(history, "history")).context["history_rows"]
        assert [row for row in rows if row["event"].changes and not row["changes"]] == []
        updates = [row for row in rows if row["event"].action == AuditEvent.Action.UPDATE]
        assert len(updates) == 1 and label("city") in [str(name) for name, _old, _new in updates[0]["changes"]]
        entries = login(finance).get(detail_url(history, "timeline")).context["timeline_entries"]
        assert [e for e in entries if e["kind"] == "history" and e["obj"].changes and not e["changes"]] == []

    @pytest.mark.parametrize("role", OTHER_ROLES)
    def test_other_roles_see_every_change(self, login, request, history, role):
        response = login(request.getfixturevalue(role)).get(detail_url(history, "history"))
        html = response.content.decode()
        for text in ("口碑很好", "传闻好赌", "有存款", "李桂芝"):
            assert text in html
        labels = _history_labels(response)
        assert label("boss_reputation") in labels
        # The value, its source and its verification.
        assert sum(label("boss_economic_situation") in name for name in labels) == 3
        assert "relation" in {row["event"].object_type for row in response.context["history_rows"]}
        updates = [row for row in response.context["history_rows"] if row["event"].action == "update"]
        assert len(updates) == 3

    def test_finance_timeline_names_no_personal_field(self, login, finance, history):
        response = login(finance).get(detail_url(history, "timeline"))
        assert response.status_code == 200
        entries = [e for e in response.context["timeline_entries"] if e["kind"] == "history"]
        assert entries
        assert "relation" not in {e["obj"].object_type for e in entries}
        labels = [str(name) for e in entries for name in e["changes"]]
        assert label("city") in labels
        for name in labels:
            assert not any(personal in name for personal in PERSONAL_LABELS), name
        assert "李桂芝" not in response.content.decode()

    def test_rep_timeline_names_them(self, login, rep, history):
        response = login(rep).get(detail_url(history, "timeline"))
        entries = [e for e in response.context["timeline_entries"] if e["kind"] == "history"]
        assert "relation" in {e["obj"].object_type for e in entries}
        assert label("boss_reputation") in [str(name) for e in entries for name in e["changes"]]


# -- API ---------------------------------------------------------------------------------------


class TestApi:
    def test_finance_gets_the_archive_without_the_profile(self, api, finance, archive):
        client = api(finance)
        for data in (
            client.get(f"/api/customers/{archive.pk}/").json(),
            client.get("/api/customers/").json()["results"][0],
        ):
            assert not set(PERSONAL) & set(data)
            assert {k: data[k] for k in OWNER_CONTACT} == OWNER_CONTACT
            assert "boss_economic_situation" not in data["facts"]
            assert "working_capital" in data["facts"]
            for text in PERSONAL_TEXTS:
                assert text not in str(data)

    @pytest.mark.parametrize("role", OTHER_ROLES)
    def test_other_roles_get_the_profile(self, api, request, archive, role):
        data = api(request.getfixturevalue(role)).get(f"/api/customers/{archive.pk}/").json()
        assert {k: data[k] for k in PERSONAL} == {k: getattr(archive, k) for k in PERSONAL}
        assert "boss_economic_situation" in data["facts"]

    def test_finance_gets_403_on_relations(self, api, finance, archive):
        relation = Relation.objects.get(customer=archive)
        client = api(finance)
        for response in (
            client.get("/api/relations/"),
            client.get("/api/relations/", {"customer": archive.pk}),
            client.get(f"/api/relations/{relation.pk}/"),
        ):
            assert response.status_code == 403
            assert response.json() == {"detail": str(ERR_NO_PERSONAL_PROFILE)}
        response = client.post("/api/relations/", {"customer": archive.pk, "name": "新亲属", "kind": "friend"})
        assert response.status_code == 403
        assert Relation.objects.filter(customer=archive).count() == 1

    @pytest.mark.parametrize("role", OTHER_ROLES)
    def test_other_roles_read_relations(self, api, request, archive, role):
        client = api(request.getfixturevalue(role))
        rows = client.get("/api/relations/", {"customer": archive.pk}).json()["results"]
        assert [(row["name"], row["occupation"]) for row in rows] == [(RELATION_NAME, RELATION_JOB)]


# -- Exports -----------------------------------------------------------------------------------


def test_customer_export_holds_no_personal_profile(login, finance, admin_user, archive):
    """The customer list's export has no owner or relation columns, for any role."""
    for user in (finance, admin_user):
        response = login(user).get(reverse("customers:export"), {"format": "csv"})
        assert response.status_code == 200
        content = b"".join(response.streaming_content).decode("utf-8-sig")
        assert archive.code in content
        for text in [*PERSONAL_TEXTS, RELATION_NAME, *OWNER_CONTACT.values()]:
            assert text not in content
