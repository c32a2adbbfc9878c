"""The visits API: plans (create, assign, cancel), visits (check-in with a location, the
log with its follow-up plan, check-out, photos), photo files, frequency standards;
filters; the location left out for those who may not see it; fixed query counts."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customers.models import Customer
from tests.factories import ContactFactory, CustomerFactory
from visits.models import Visit, VisitFrequency, VisitPlan

from .visit_helpers import PlanFactory, VisitFactory, days, jpeg_upload, today

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def api():
    def _client(user):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_authenticate(user)
        return client

    return _client


class TestPlans:
    def test_create_for_yourself_and_list(self, api, rep, own_customer):
        client = api(rep)
        body = {"customer": own_customer.pk, "planned_date": days(1).isoformat(), "purpose": "送样品"}
        response = client.post("/api/visit-plans/", body, format="json")
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["rep"]["id"] == rep.pk and data["status"] == "planned" and data["level"] == "business"
        assert data["visit"] is None and data["assigned_by"] is None
        assert [row["id"] for row in client.get("/api/visit-plans/").json()["results"]] == [data["id"]]

    def test_assigning(self, api, rep, teammate, manager, team_customer):
        body = {
            "customer": team_customer.pk,
            "rep": teammate.pk,
            "planned_date": days(1).isoformat(),
            "purpose": "催款",
        }
        response = api(manager).post("/api/visit-plans/", body, format="json")
        assert response.status_code == 201 and response.json()["assigned_by"]["id"] == manager.pk
        own = {"customer": team_customer.pk, "rep": rep.pk, "planned_date": days(1).isoformat(), "purpose": "x"}
        response = api(manager).post("/api/visit-plans/", own, format="json")
        assert response.status_code == 400 and set(response.json()) == {"rep"}

    def test_refusals(self, api, rep, finance, own_customer, other_customer):
        body = {"customer": other_customer.pk, "planned_date": days(1).isoformat(), "purpose": "x"}
        response = api(rep).post("/api/visit-plans/", body, format="json")
        assert response.status_code == 400 and "does not exist" in response.json()["customer"][0]
        body["customer"] = own_customer.pk
        assert api(finance).post("/api/visit-plans/", body, format="json").status_code == 403
        body["planned_date"] = days(-1).isoformat()
        response = api(rep).post("/api/visit-plans/", body, format="json")
        assert response.status_code == 400 and set(response.json()) == {"planned_date"}

    def test_update_and_cancel(self, api, rep, finance, own_customer, team_customer, other_customer):
        plan = PlanFactory(customer=own_customer, planned_date=days(1))
        client = api(rep)
        response = client.patch(f"/api/visit-plans/{plan.pk}/", {"planned_date": days(2).isoformat()}, format="json")
        assert response.status_code == 200 and response.json()["planned_date"] == days(2).isoformat()
        response = client.patch(f"/api/visit-plans/{plan.pk}/", {"customer": team_customer.pk}, format="json")
        assert response.status_code == 400
        assert api(finance).patch(f"/api/visit-plans/{plan.pk}/", {"purpose": "x"}, format="json").status_code == 403
        other = PlanFactory(customer=other_customer)
        assert client.get(f"/api/visit-plans/{other.pk}/").status_code == 404
        response = client.post(f"/api/visit-plans/{plan.pk}/cancel/", {"reason": "客户外出"}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        response = client.post(f"/api/visit-plans/{plan.pk}/cancel/", {"reason": "again"}, format="json")
        assert response.status_code == 400

    def test_filters(self, api, manager, teammate, own_customer, team_customer):
        a = PlanFactory(customer=own_customer, planned_date=days(-3), status="missed")
        b = PlanFactory(customer=team_customer, planned_date=days(3))
        visit = VisitFactory(customer=own_customer)
        c = PlanFactory(customer=own_customer, planned_date=days(5), follow_up_of=visit)
        client = api(manager)

        def ids(**params):
            return [row["id"] for row in client.get("/api/visit-plans/", params).json()["results"]]

        assert ids(rep=teammate.pk) == [b.pk]
        assert ids(status="missed") == [a.pk]
        assert ids(planned_date_after=today().isoformat()) == [b.pk, c.pk]
        assert ids(follow_up="true") == [c.pk]
        assert ids(customer=team_customer.pk) == [b.pk]

    @pytest.mark.parametrize("count", [3, 30])
    def test_list_query_count(self, api, admin_user, own_customer, django_assert_num_queries, count):
        PlanFactory.create_batch(count, customer=own_customer)
        client = api(admin_user)
        # 1 count, 2 the page of plans with customer, rep, assigner and visit.
        with django_assert_num_queries(2):
            response = client.get("/api/visit-plans/")
        assert len(response.json()["results"]) == count


class TestVisits:
    def test_check_in_from_a_plan_with_a_location(self, api, rep, own_customer):
        Customer.objects.filter(pk=own_customer.pk).update(latitude=Decimal("35.1"), longitude=Decimal("118.3"))
        plan = PlanFactory(customer=own_customer)
        body = {"plan": plan.pk, "latitude": "35.1009", "longitude": "118.3", "accuracy_m": 8}
        response = api(rep).post("/api/visits/", body, format="json")
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["customer"] == own_customer.pk and data["plan"] == plan.pk
        assert (data["latitude"], data["accuracy_m"], data["distance_m"]) == ("35.100900", 8, 100)
        assert data["checked_out_at"] is None and data["duration_minutes"] is None
        plan.refresh_from_db()
        assert plan.status == "done"
        assert api(rep).get(f"/api/visit-plans/{plan.pk}/").json()["visit"] == data["id"]

    def test_check_in_needs_a_customer_or_plan(self, api, rep, own_customer, team_customer):
        response = api(rep).post("/api/visits/", {}, format="json")
        assert response.status_code == 400 and set(response.json()) == {"customer"}
        plan = PlanFactory(customer=own_customer)
        own_customer.shares.model.objects.create(customer=team_customer, user=rep)
        response = api(rep).post("/api/visits/", {"plan": plan.pk, "customer": team_customer.pk}, format="json")
        assert response.status_code == 400 and set(response.json()) == {"plan"}

    def test_the_log_check_out_and_follow_up(self, api, rep, own_customer, other_customer):
        visit = VisitFactory(customer=own_customer, checked_out_at=None)
        contact = ContactFactory(customer=own_customer)
        client = api(rep)
        body = {
            "contacts": [contact.pk],
            "summary": "谈合作",
            "next_step": "送合同",
            "follow_up_date": days(4).isoformat(),
        }
        response = client.patch(f"/api/visits/{visit.pk}/", body, format="json")
        assert response.status_code == 200, response.content
        data = response.json()
        follow_up = VisitPlan.objects.get(follow_up_of=visit)
        assert data["follow_up_plans"] == [follow_up.pk] and data["contacts"] == [
            {"id": contact.pk, "name": contact.name}
        ]
        stranger = ContactFactory(customer=other_customer)
        response = client.patch(f"/api/visits/{visit.pk}/", {"contacts": [stranger.pk]}, format="json")
        assert response.status_code == 400 and set(response.json()) == {"contacts"}
        response = client.post(f"/api/visits/{visit.pk}/check-out/")
        assert response.status_code == 200 and response.json()["checked_out_at"] is not None
        assert client.put(f"/api/visits/{visit.pk}/", body, format="json").status_code == 405
        assert client.delete(f"/api/visits/{visit.pk}/").status_code == 405

    def test_photos(self, api, rep, finance, outsider, own_customer):
        visit = VisitFactory(customer=own_customer)
        client = api(rep)
        response = client.post(
            f"/api/visits/{visit.pk}/photos/", {"image": jpeg_upload(2400, 1200), "caption": "门头"}, format="multipart"
        )
        assert response.status_code == 201, response.content
        photo = response.json()
        assert (photo["width"], photo["height"], photo["caption"]) == (1600, 800, "门头")
        file = client.get(photo["file_url"])
        assert file.status_code == 200 and file["Content-Type"] == "image/jpeg"
        assert api(outsider).get(photo["file_url"]).status_code == 404
        response = api(finance).post(f"/api/visits/{visit.pk}/photos/", {"image": jpeg_upload()}, format="multipart")
        assert response.status_code == 403
        response = client.post(f"/api/visits/{visit.pk}/photos/", {"image": b"x"}, format="multipart")
        assert response.status_code == 400
        assert client.get(f"/api/visits/{visit.pk}/").json()["photos"][0]["id"] == photo["id"]
        assert api(finance).delete(f"/api/visit-photos/{photo['id']}/").status_code == 403
        assert client.delete(f"/api/visit-photos/{photo['id']}/").status_code == 204

    @pytest.mark.parametrize("who", ["rep", "manager", "admin_user"])
    def test_location_shown(self, api, request, own_customer, who):
        VisitFactory(customer=own_customer, latitude=Decimal("35.1"), longitude=Decimal("118.3"), distance_m=40)
        row = api(request.getfixturevalue(who)).get("/api/visits/").json()["results"][0]
        assert (row["latitude"], row["longitude"], row["distance_m"]) == ("35.100000", "118.300000", 40)

    @pytest.mark.parametrize("who", ["client_service", "finance"])
    def test_location_omitted(self, api, request, own_customer, who):
        visit = VisitFactory(customer=own_customer, latitude=Decimal("35.1"), longitude=Decimal("118.3"), distance_m=40)
        client = api(request.getfixturevalue(who))
        for row in (client.get("/api/visits/").json()["results"][0], client.get(f"/api/visits/{visit.pk}/").json()):
            assert not {"latitude", "longitude", "accuracy_m", "distance_m"} & set(row)
            assert row["summary"] == visit.summary

    def test_filters(self, api, manager, teammate, own_customer, team_customer):
        a = VisitFactory(customer=own_customer, visit_date=days(-5), checked_out_at=datetime.datetime.now(datetime.UTC))
        b = VisitFactory(customer=team_customer)
        client = api(manager)

        def ids(**params):
            return [row["id"] for row in client.get("/api/visits/", params).json()["results"]]

        assert ids(rep=teammate.pk) == [b.pk]
        assert ids(visit_date_before=days(-1).isoformat()) == [a.pk]
        assert ids(checked_out="false") == [b.pk]
        assert ids(checked_out="true") == [a.pk]

    @pytest.mark.parametrize("count", [3, 30])
    def test_list_query_count(self, api, manager, own_customer, django_assert_num_queries, count):
        for visit in VisitFactory.create_batch(count, customer=own_customer):
            visit.contacts.add(ContactFactory(customer=own_customer))
            PlanFactory(customer=own_customer, planned_date=days(2), follow_up_of=visit)
        client = api(manager)
        # 1 team member ids (visibility), 2 count, 3 the page with customer and rep,
        # 4 contacts, 5 photos, 6 follow-up plans (one prefetch each).
        with django_assert_num_queries(6):
            response = client.get("/api/visits/")
        assert len(response.json()["results"]) == count


class TestFrequencies:
    def test_everyone_reads_admins_write(self, api, rep, admin_user, own_customer):
        assert api(rep).get("/api/visit-frequencies/").status_code == 200
        body = {"customer_type": "dealer", "interval_days": 7}
        assert api(rep).post("/api/visit-frequencies/", body, format="json").status_code == 403
        response = api(admin_user).post("/api/visit-frequencies/", body, format="json")
        assert response.status_code == 201
        standard = VisitFrequency.objects.get()
        assert own_customer.visit_status.interval_days == 7
        response = api(admin_user).post("/api/visit-frequencies/", body, format="json")
        assert response.status_code == 400 and set(response.json()) == {"customer_type"}
        url = f"/api/visit-frequencies/{standard.pk}/"
        assert api(admin_user).patch(url, {"interval_days": 10}, format="json").json()["interval_days"] == 10
        assert api(admin_user).delete(url).status_code == 204
        assert not Visit.objects.exists()


def test_customers_api_filters_overdue_visits(api, rep):
    VisitFrequency.objects.create(customer_type="", interval_days=7)
    late = CustomerFactory(owner=rep)
    VisitFactory(customer=late, visit_date=days(-30))
    CustomerFactory(owner=rep)
    from visits.services import cadence

    cadence.refresh(today=today())
    rows = api(rep).get("/api/customers/", {"visits_overdue": "true"}).json()["results"]
    assert [row["id"] for row in rows] == [late.pk]
