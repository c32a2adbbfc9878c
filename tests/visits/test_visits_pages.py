"""Pages of plans and visits: allowed, 404 for the invisible, 403 for the read-only, 405
for the wrong method; the check-in with a location, the log with photos, check-out and
the follow-up plan; where the rep was shown only to the rep, their manager and admins;
the visit list's filters and export; list pages cost a fixed number of queries."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from tests.factories import ContactFactory, CustomerFactory
from visits.models import Visit, VisitPhoto, VisitPlan

from .visit_helpers import PlanFactory, VisitFactory, days, jpeg_upload, today

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


# -- Plans -------------------------------------------------------------------------------------


class TestPlanList:
    def test_scoped(self, login, rep, manager, own_customer, team_customer, other_customer):
        mine, teams, others = (PlanFactory(customer=c) for c in (own_customer, team_customer, other_customer))
        page = login(rep).get(reverse("visits:plan_list")).context["page"]
        assert [p.pk for p in page] == [mine.pk]
        page = login(manager).get(reverse("visits:plan_list")).context["page"]
        assert {p.pk for p in page} == {mine.pk, teams.pk}
        assert others.pk not in {p.pk for p in page}

    def test_filters(self, login, manager, rep, teammate, own_customer, team_customer):
        early = PlanFactory(customer=own_customer, planned_date=days(-5), status="missed")
        late = PlanFactory(customer=team_customer, planned_date=days(5), level="leadership")
        client = login(manager)
        url = reverse("visits:plan_list")
        assert [p.pk for p in client.get(url, {"rep": teammate.pk}).context["page"]] == [late.pk]
        assert [p.pk for p in client.get(url, {"status": "missed"}).context["page"]] == [early.pk]
        assert [p.pk for p in client.get(url, {"level": "leadership"}).context["page"]] == [late.pk]
        assert [p.pk for p in client.get(url, {"date_from": today().isoformat()}).context["page"]] == [late.pk]
        assert [p.pk for p in client.get(url, {"q": "潍坊牧原"}).context["page"]] == [late.pk]

    def test_a_rep_cannot_filter_by_someone_else(self, login, rep, teammate):
        response = login(rep).get(reverse("visits:plan_list"), {"rep": teammate.pk})
        assert response.status_code == 200 and "rep" in response.context["filterset"].errors

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow(self, login, manager, own_customer, django_assert_num_queries, count):
        PlanFactory.create_batch(count, customer=own_customer)
        client = login(manager)
        # 1 session, 2 user, 3 the manager's team (visibility), 4 count, 5 the page of plans
        # with customer and rep, 6 the rep choices of the filter form.
        with django_assert_num_queries(6):
            response = client.get(reverse("visits:plan_list"))
        assert len(response.context["page"]) == min(count, 25)

    def test_wrong_method(self, login, rep):
        assert login(rep).post(reverse("visits:plan_list")).status_code == 405


class TestPlanCreate:
    def test_a_rep_plans_from_the_customer_page(self, login, rep, own_customer):
        client = login(rep)
        url = reverse("visits:plan_create") + f"?customer={own_customer.pk}"
        response = client.get(url)
        assert response.status_code == 200 and not response.context["form"].assigns
        response = client.post(
            url,
            {
                "customer": own_customer.pk,
                "rep": rep.pk,
                "planned_date": days(2).isoformat(),
                "planned_time": "09:30",
                "level": "business",
                "purpose": "送新品样品",
            },
        )
        plan = VisitPlan.objects.get()
        assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()
        assert (plan.rep, plan.planned_date, str(plan.planned_time)) == (rep, days(2), "09:30:00")

    def test_a_manager_assigns(self, login, manager, teammate, team_customer):
        client = login(manager)
        assert client.get(reverse("visits:plan_create")).context["form"].assigns
        data = {"customer": team_customer.pk, "rep": teammate.pk, "planned_date": days(1).isoformat()}
        response = client.post(reverse("visits:plan_create"), {**data, "level": "business", "purpose": "催款"})
        assert response.status_code == 302
        assert VisitPlan.objects.get().assigned_by == manager

    def test_a_refusal_shows_at_its_field(self, login, manager, rep, team_customer):
        response = login(manager).post(
            reverse("visits:plan_create"),
            {"customer": team_customer.pk, "rep": rep.pk, "planned_date": days(1).isoformat(), "level": "business",
             "purpose": "催款"},
        )  # fmt: skip
        assert response.status_code == 200 and "rep" in response.context["form"].errors

    def test_invisible_customer_is_404_and_finance_403(self, login, rep, finance, other_customer, own_customer):
        assert login(rep).get(reverse("visits:plan_create"), {"customer": other_customer.pk}).status_code == 404
        assert login(finance).get(reverse("visits:plan_create")).status_code == 403

    def test_wrong_method(self, login, rep):
        assert login(rep).put(reverse("visits:plan_create")).status_code == 405


class TestPlanPages:
    def test_detail(self, login, rep, finance, own_customer, other_customer):
        plan = PlanFactory(customer=own_customer)
        response = login(rep).get(plan.get_absolute_url(), headers=EN)
        assert response.status_code == 200 and "check-in-button" in response.content.decode()
        response = login(finance).get(plan.get_absolute_url())
        assert response.status_code == 200 and "check-in-button" not in response.content.decode()
        assert login(rep).get(PlanFactory(customer=other_customer).get_absolute_url()).status_code == 404
        assert login(rep).post(plan.get_absolute_url()).status_code == 405

    def test_edit(self, login, rep, finance, own_customer, other_customer):
        plan = PlanFactory(customer=own_customer, planned_date=days(1))
        url = reverse("visits:plan_edit", args=[plan.pk])
        data = {"rep": rep.pk, "planned_date": days(4).isoformat(), "level": "technical", "purpose": "技术服务"}
        assert login(rep).post(url, data).status_code == 302
        plan.refresh_from_db()
        assert (plan.planned_date, plan.level, plan.purpose) == (days(4), "technical", "技术服务")
        assert login(finance).get(url).status_code == 403
        other = PlanFactory(customer=other_customer)
        assert login(rep).get(reverse("visits:plan_edit", args=[other.pk])).status_code == 404

    def test_client_service_reschedules_a_reps_plan(self, login, rep, client_service, own_customer):
        plan = PlanFactory(customer=own_customer, planned_date=days(1))
        data = {"rep": rep.pk, "planned_date": days(2).isoformat(), "level": "business", "purpose": "改期"}
        response = login(client_service).post(reverse("visits:plan_edit", args=[plan.pk]), data)
        assert response.status_code == 302
        plan.refresh_from_db()
        assert (plan.rep, plan.planned_date, plan.assigned_by) == (rep, days(2), None)

    def test_cancel(self, login, rep, finance, own_customer):
        plan = PlanFactory(customer=own_customer)
        url = reverse("visits:plan_cancel", args=[plan.pk])
        assert login(rep).get(url).status_code == 405
        assert login(finance).post(url, {"reason": "x"}).status_code == 403
        assert login(rep).post(url, {"reason": "客户外出"}).status_code == 302
        plan.refresh_from_db()
        assert plan.status == "cancelled"

    def test_check_in_from_a_plan_with_a_location(self, login, rep, own_customer):
        Customer.objects.filter(pk=own_customer.pk).update(latitude=Decimal("35.1"), longitude=Decimal("118.3"))
        plan = PlanFactory(customer=own_customer)
        url = reverse("visits:plan_check_in", args=[plan.pk])
        assert login(rep).get(url).status_code == 405
        response = login(rep).post(url, {"latitude": "35.101000", "longitude": "118.300000", "accuracy": "12.6"})
        visit = Visit.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse("visits:visit_edit", args=[visit.pk])
        assert (visit.latitude, visit.longitude, visit.accuracy_m) == (Decimal("35.101"), Decimal("118.3"), 13)
        assert visit.distance_m == pytest.approx(111, abs=1) and visit.plan == plan

    def test_check_in_without_a_location(self, login, rep, finance, own_customer, other_customer):
        plan = PlanFactory(customer=own_customer)
        assert login(finance).post(reverse("visits:plan_check_in", args=[plan.pk])).status_code == 403
        other = PlanFactory(customer=other_customer)
        assert login(rep).post(reverse("visits:plan_check_in", args=[other.pk])).status_code == 404
        assert login(rep).post(reverse("visits:plan_check_in", args=[plan.pk])).status_code == 302
        assert not Visit.objects.get().is_located


# -- Visits ------------------------------------------------------------------------------------


class TestCheckIn:
    def test_ad_hoc(self, login, rep, own_customer):
        client = login(rep)
        assert client.get(reverse("visits:check_in"), {"customer": own_customer.pk}).status_code == 200
        response = client.post(
            reverse("visits:check_in"),
            {"customer": own_customer.pk, "level": "technical", "latitude": "", "longitude": ""},
        )
        visit = Visit.objects.get()
        assert response.status_code == 302 and (visit.level, visit.plan) == ("technical", None)

    def test_scope(self, login, rep, finance, other_customer):
        assert login(rep).get(reverse("visits:check_in"), {"customer": other_customer.pk}).status_code == 404
        response = login(rep).post(reverse("visits:check_in"), {"customer": other_customer.pk, "level": "business"})
        assert response.status_code == 200 and "customer" in response.context["form"].errors
        assert login(finance).get(reverse("visits:check_in")).status_code == 403
        assert login(rep).delete(reverse("visits:check_in")).status_code == 405


class TestLog:
    def test_log_with_photos_check_out_and_follow_up(self, login, rep, own_customer):
        visit = VisitFactory(customer=own_customer)
        contact = ContactFactory(customer=own_customer, name="王老板")
        url = reverse("visits:visit_edit", args=[visit.pk])
        client = login(rep)
        assert "王老板" in client.get(url).content.decode()
        response = client.post(
            url,
            {
                "level": "leadership",
                "contacts": [contact.pk],
                "summary": "谈年度合作",
                "needs": "圆环疫苗",
                "problems": "",
                "next_step": "带合同再访",
                "follow_up_date": days(5).isoformat(),
                "photos": [jpeg_upload(name="a.jpg"), jpeg_upload(2000, 1000, name="b.jpg")],
                "check_out": "1",
            },
        )
        assert response.status_code == 302 and response["Location"] == visit.get_absolute_url()
        visit.refresh_from_db()
        assert visit.checked_out_at is not None and visit.level == "leadership"
        assert sorted((p.width, p.height) for p in visit.photos.all()) == [(40, 30), (1600, 800)]
        plan = VisitPlan.objects.get(follow_up_of=visit)
        html = client.get(visit.get_absolute_url(), headers=EN).content.decode()
        assert plan.get_absolute_url() in html and "带合同再访" in html and "王老板" in html

    def test_a_bad_photo_saves_nothing(self, login, rep, own_customer):
        from django.core.files.uploadedfile import SimpleUploadedFile

        visit = VisitFactory(customer=own_customer)
        response = login(rep).post(
            reverse("visits:visit_edit", args=[visit.pk]),
            {"level": "business", "summary": "改了", "photos": [SimpleUploadedFile("x.jpg", b"no")]},
        )
        assert response.status_code == 200 and "photos" in response.context["form"].errors
        visit.refresh_from_db()
        assert visit.summary != "改了" and not VisitPhoto.objects.exists()

    def test_scope(self, login, rep, finance, own_customer, other_customer):
        visit = VisitFactory(customer=own_customer)
        assert login(finance).get(reverse("visits:visit_edit", args=[visit.pk])).status_code == 403
        assert login(finance).get(visit.get_absolute_url()).status_code == 200
        other = VisitFactory(customer=other_customer)
        assert login(rep).get(reverse("visits:visit_edit", args=[other.pk])).status_code == 404
        assert login(rep).get(other.get_absolute_url()).status_code == 404
        assert login(rep).post(visit.get_absolute_url()).status_code == 405


class TestLocationPrivacy:
    @pytest.fixture
    def visit(self, own_customer):
        return VisitFactory(
            customer=own_customer, latitude=Decimal("35.123456"), longitude=Decimal("118.654321"), distance_m=250
        )

    @pytest.mark.parametrize("who", ["rep", "manager", "admin_user"])
    def test_shown_to_the_rep_their_manager_and_admins(self, login, request, visit, who):
        html = login(request.getfixturevalue(who)).get(visit.get_absolute_url(), headers=EN).content.decode()
        assert "35.123456" in html and "250 m from the customer" in html

    @pytest.mark.parametrize("who", ["client_service", "finance", "teammate_sharing"])
    def test_hidden_from_everyone_else(self, login, request, visit, teammate, own_customer, who):
        if who == "teammate_sharing":
            own_customer.shares.create(user=teammate)
            user = teammate
        else:
            user = request.getfixturevalue(who)
        response = login(user).get(visit.get_absolute_url(), headers=EN)
        html = response.content.decode()
        assert response.status_code == 200 and "35.123456" not in html and "from the customer" not in html
        assert "118.654321" not in login(user).get(reverse("visits:visit_export")).getvalue().decode()


class TestVisitList:
    def test_filters_and_scope(self, login, manager, teammate, own_customer, team_customer, other_customer):
        old = VisitFactory(
            customer=own_customer, visit_date=days(-10), level="technical", checked_out_at=timezone.now()
        )
        new = VisitFactory(customer=team_customer, checked_out_at=None)
        VisitFactory(customer=other_customer)
        client = login(manager)
        url = reverse("visits:visit_list")
        assert {v.pk for v in client.get(url).context["page"]} == {old.pk, new.pk}
        assert [v.pk for v in client.get(url, {"rep": teammate.pk}).context["page"]] == [new.pk]
        assert [v.pk for v in client.get(url, {"date_to": days(-1).isoformat()}).context["page"]] == [old.pk]
        assert [v.pk for v in client.get(url, {"level": "technical"}).context["page"]] == [old.pk]
        assert [v.pk for v in client.get(url, {"status": "open"}).context["page"]] == [new.pk]
        assert [v.pk for v in client.get(url, {"status": "checked_out"}).context["page"]] == [old.pk]
        assert [v.pk for v in client.get(url, {"q": "临沂康达"}).context["page"]] == [old.pk]

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow(self, login, admin_user, own_customer, django_assert_num_queries, count):
        VisitFactory.create_batch(count, customer=own_customer)
        client = login(admin_user)
        # 1 session, 2 user, 3 count, 4 the page of visits with customer and rep, 5 rep choices.
        with django_assert_num_queries(5):
            response = client.get(reverse("visits:visit_list"))
        assert len(response.context["page"]) == min(count, 25)

    @pytest.mark.parametrize("count", [3, 30])
    def test_export(self, login, rep, own_customer, other_customer, django_assert_num_queries, count):
        VisitFactory.create_batch(count, customer=own_customer, summary="=HYPERLINK(1)", follow_up_date=days(3))
        VisitFactory(customer=other_customer, summary="不该出现")
        client = login(rep)
        # 1 session, 2 user, 3 the shared customers (visibility), 4 the rows.
        with django_assert_num_queries(4):
            response = client.get(reverse("visits:visit_export"), {"format": "csv"}, headers=EN)
            body = b"".join(response.streaming_content).decode("utf-8-sig")
        header, *rows = list(csv.reader(io.StringIO(body)))
        assert header[:4] == ["Date", "Customer code", "Customer", "Sales rep"]
        assert len(rows) == count and "不该出现" not in body
        assert rows[0][header.index("Summary")] == "'=HYPERLINK(1)"
        assert not {"Latitude", "Longitude"} & set(header)
        response = client.get(reverse("visits:visit_export"), {"format": "xlsx"})
        assert response.status_code == 200
        assert client.get(reverse("visits:visit_export"), {"format": "pdf"}).status_code == 404


class TestPhotoPages:
    def test_file_and_delete(self, login, rep, finance, outsider, own_customer):
        from visits.services import visits as services

        photo = services.visit_photo_add(actor=rep, visit=VisitFactory(customer=own_customer), upload=jpeg_upload())
        response = login(rep).get(reverse("visits:photo_file", args=[photo.pk]))
        assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
        assert login(outsider).get(reverse("visits:photo_file", args=[photo.pk])).status_code == 404
        assert login(finance).post(reverse("visits:photo_delete", args=[photo.pk])).status_code == 403
        assert login(rep).get(reverse("visits:photo_delete", args=[photo.pk])).status_code == 405
        assert login(rep).post(reverse("visits:photo_delete", args=[photo.pk])).status_code == 302
        assert not VisitPhoto.objects.exists()


# -- Shared customers ---------------------------------------------------------------------------


def test_a_shared_customer_may_be_planned_by_the_rep_it_is_shared_with(login, teammate, own_customer):
    own_customer.shares.create(user=teammate)
    response = login(teammate).post(
        reverse("visits:plan_create"),
        {"customer": own_customer.pk, "rep": teammate.pk, "planned_date": today().isoformat(), "level": "business",
         "purpose": "协访"},
    )  # fmt: skip
    assert response.status_code == 302


def test_the_customer_select_lists_only_editable_customers(login, rep, own_customer, other_customer):
    CustomerFactory(owner=rep, name="另一家兽药店")
    html = login(rep).get(reverse("visits:check_in")).content.decode()
    assert own_customer.name in html and "另一家兽药店" in html and other_customer.name not in html


def test_no_template_syntax_in_object_pages(login, rep, manager, admin_user, own_customer):
    """Pages tests/test_templates.py cannot reach without an object or a role."""
    from visits.models import VisitFrequency

    plan = PlanFactory(customer=own_customer, status="missed")
    visit = VisitFactory(customer=own_customer, latitude=Decimal("35.1"), longitude=Decimal("118.3"))
    PlanFactory(customer=own_customer, follow_up_of=visit, planned_date=days(2))
    standard = VisitFrequency.objects.create(customer_type="", interval_days=7)
    pages = [
        (rep, plan.get_absolute_url()),
        (rep, reverse("visits:plan_edit", args=[PlanFactory(customer=own_customer).pk])),
        (rep, visit.get_absolute_url()),
        (rep, reverse("visits:visit_edit", args=[visit.pk])),
        (manager, reverse("visits:team_week")),
        (admin_user, reverse("visits:frequency_edit", args=[standard.pk])),
        (rep, reverse("customers:detail", args=[own_customer.pk])),
    ]
    for user, url in pages:
        html = login(user).get(url).content.decode()
        for marker in ("{#", "#}", "{%", "%}", "{{", "}}"):
            assert marker not in html, f"{marker} shows on {url}"
