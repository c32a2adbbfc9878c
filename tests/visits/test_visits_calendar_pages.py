"""The phone's "today" page, a rep's week, a team's week, the overdue list and the
frequency standard pages: what each role sees, refusals, and fixed query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import User
from tests.factories import CustomerFactory, UserFactory
from visits.models import VisitFrequency
from visits.services import cadence

from .visit_helpers import PlanFactory, VisitFactory, days, today

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}


def monday() -> datetime.date:
    return today() - datetime.timedelta(days=today().weekday())


class TestToday:
    def test_what_a_rep_sees(self, login, rep, teammate, own_customer, team_customer):
        VisitFrequency.objects.create(customer_type="", interval_days=7)
        plan = PlanFactory(customer=own_customer, purpose="送货回访")
        PlanFactory(customer=team_customer)  # the teammate's
        in_progress = VisitFactory(customer=own_customer, checked_out_at=None)
        earlier = VisitFactory(customer=own_customer, visit_date=days(-20), checked_out_at=timezone.now())
        follow_up = PlanFactory(customer=own_customer, planned_date=days(3), follow_up_of=earlier, purpose="签合同")
        late = CustomerFactory(owner=rep, name="久未拜访的养殖场")
        VisitFactory(customer=late, visit_date=days(-30), checked_out_at=timezone.now())
        cadence.refresh(today=today())

        response = login(rep).get(reverse("visits:today"), headers=EN)
        assert response.status_code == 200
        assert [p.pk for p in response.context["plans"]] == [plan.pk]
        assert [v.pk for v in response.context["in_progress"]] == [in_progress.pk]
        assert [p.pk for p in response.context["follow_ups"]] == [follow_up.pk]
        assert [s.customer_id for s in response.context["overdue"]] == [late.pk]
        html = response.content.decode()
        assert reverse("visits:plan_check_in", args=[plan.pk]) in html and "data-geolocate" in html
        assert "/static/js/visits.js" in html and "23 days overdue" in html

    @pytest.mark.parametrize("count", [2, 12])
    def test_query_count_does_not_grow(self, login, rep, django_assert_num_queries, count):
        VisitFrequency.objects.create(customer_type="", interval_days=7)
        for _ in range(count):
            customer = CustomerFactory(owner=rep)
            PlanFactory(customer=customer)
            VisitFactory(customer=customer, visit_date=days(-20))
        cadence.refresh(today=today())
        client = login(rep)
        # 1 session, 2 user, 3 shared customers (visibility, read once), 4 today's plans,
        # 5 visits in progress, 6 follow-ups coming up, 7 overdue customers.
        with django_assert_num_queries(7):
            response = client.get(reverse("visits:today"))
        assert len(response.context["plans"]) == count

    def test_wrong_method(self, login, rep):
        assert login(rep).post(reverse("visits:today")).status_code == 405


class TestWeek:
    def test_a_reps_week(self, login, rep, own_customer):
        plan = PlanFactory(customer=own_customer, planned_date=monday() + datetime.timedelta(days=6))
        visit = VisitFactory(customer=own_customer, visit_date=monday())
        PlanFactory(customer=own_customer, planned_date=monday(), status="done")  # shown as its visit
        PlanFactory(customer=own_customer, planned_date=monday() + datetime.timedelta(days=7))  # next week
        response = login(rep).get(reverse("visits:week"))
        days_ = response.context["days"]
        assert [d.date for d in days_][0] == monday() and len(days_) == 7
        assert [v.pk for v in days_[0].visits] == [visit.pk] and days_[0].plans == []
        assert [p.pk for p in days_[6].plans] == [plan.pk]
        # Any day of another week shows that week.
        later = (monday() + datetime.timedelta(days=9)).isoformat()
        response = login(rep).get(reverse("visits:week"), {"week": later})
        assert response.context["start"] == monday() + datetime.timedelta(days=7)
        assert len(response.context["days"][0].plans) == 1

    def test_whose_week(self, login, rep, teammate, manager, outsider, admin_user):
        url = reverse("visits:week")
        assert login(rep).get(url, {"rep": teammate.pk}).status_code == 404
        assert login(rep).get(url, {"rep": "x"}).status_code == 404
        assert login(manager).get(url, {"rep": teammate.pk}).context["rep"] == teammate
        assert login(manager).get(url, {"rep": outsider.pk}).status_code == 404
        assert login(admin_user).get(url, {"rep": outsider.pk}).status_code == 200
        assert login(rep).post(url).status_code == 405

    @pytest.mark.parametrize("count", [2, 14])
    def test_query_count_does_not_grow(self, login, rep, own_customer, django_assert_num_queries, count):
        for i in range(count):
            PlanFactory(customer=own_customer, planned_date=monday() + datetime.timedelta(days=i % 7))
            VisitFactory(customer=own_customer, visit_date=monday() + datetime.timedelta(days=i % 7))
        client = login(rep)
        # 1 session, 2 user, 3 shared customers (visibility), 4 plans, 5 visits.
        with django_assert_num_queries(5):
            client.get(reverse("visits:week"))


class TestTeamWeek:
    def test_a_manager_sees_the_team(self, login, manager, rep, teammate, own_customer, team_customer, outsider):
        PlanFactory(customer=team_customer, planned_date=monday() + datetime.timedelta(days=2), purpose="x")
        VisitFactory(customer=own_customer, visit_date=monday())
        response = login(manager).get(reverse("visits:team_week"), headers=EN)
        rows = {row.rep: row for row in response.context["rows"]}
        assert set(rows) == {manager, rep, teammate}
        assert rows[teammate].counts == (0, 1) and rows[rep].counts == (1, 0)
        html = response.content.decode()
        assert team_customer.name in html and outsider.get_full_name() not in html

    def test_an_admin_picks_the_team(self, login, admin_user, outsider, team_b):
        response = login(admin_user).get(reverse("visits:team_week"), {"team": team_b.pk})
        assert response.context["team"] == team_b
        assert [row.rep for row in response.context["rows"]] == [outsider]

    @pytest.mark.parametrize("who", ["rep", "client_service", "finance"])
    def test_others_may_not(self, login, request, who):
        assert login(request.getfixturevalue(who)).get(reverse("visits:team_week")).status_code == 403

    def test_wrong_method(self, login, manager):
        assert login(manager).post(reverse("visits:team_week")).status_code == 405

    @pytest.mark.parametrize("size", [2, 8])
    def test_query_count_does_not_grow_with_the_team(self, login, manager, team_a, django_assert_num_queries, size):
        for _ in range(size):
            member = UserFactory(team=team_a, role=User.Role.REP)
            customer = CustomerFactory(owner=member)
            PlanFactory(customer=customer, planned_date=monday())
            VisitFactory(customer=customer, visit_date=monday())
        client = login(manager)
        # 1 session, 2 user, 3 the team, 4 its members, 5 team member ids (visibility),
        # 6 plans, 7 visits.
        with django_assert_num_queries(7):
            response = client.get(reverse("visits:team_week"))
        assert len(response.context["rows"]) == size + 1


class TestOverdue:
    def test_lists(self, login, rep, manager, teammate, own_customer, team_customer, other_customer):
        VisitFrequency.objects.create(customer_type="", interval_days=7)
        for customer in (own_customer, team_customer, other_customer):
            VisitFactory(customer=customer, visit_date=days(-10))
        cadence.refresh(today=today())
        url = reverse("visits:overdue")
        assert [s.pk for s in login(rep).get(url).context["page"]] == [own_customer.pk]
        assert {s.pk for s in login(manager).get(url).context["page"]} == {own_customer.pk, team_customer.pk}
        page = login(manager).get(url, {"owner": teammate.pk}).context["page"]
        assert [s.pk for s in page] == [team_customer.pk]
        assert "owner" not in [f.name for f in login(rep).get(url).context["filter_fields"]]

    @pytest.mark.parametrize("count", [3, 30])
    def test_query_count_does_not_grow(self, login, manager, rep, django_assert_num_queries, count):
        VisitFrequency.objects.create(customer_type="", interval_days=7)
        for _ in range(count):
            VisitFactory(customer=CustomerFactory(owner=rep), visit_date=days(-10))
        cadence.refresh(today=today())
        client = login(manager)
        # 1 session, 2 user, 3 team member ids (visibility), 4 count, 5 the page with
        # customer and owner, 6 owner choices.
        with django_assert_num_queries(6):
            response = client.get(reverse("visits:overdue"))
        assert len(response.context["page"]) == min(count, 25)


class TestFrequencyPages:
    def test_everyone_reads_admins_change(self, login, rep, admin_user, own_customer):
        VisitFrequency.objects.create(customer_type="dealer", interval_days=7)
        response = login(rep).get(reverse("visits:frequency_list"), headers=EN)
        assert response.status_code == 200 and "7 days" in response.content.decode()
        assert response.context["standards"][0].customer_count == 1
        assert login(rep).get(reverse("visits:frequency_create")).status_code == 403
        client = login(admin_user)
        response = client.post(reverse("visits:frequency_create"), {"customer_type": "", "interval_days": 30})
        assert response.status_code == 302
        standard = VisitFrequency.objects.get(customer_type="")
        url = reverse("visits:frequency_edit", args=[standard.pk])
        response = client.post(url, {"customer_type": "", "interval_days": 0})
        assert response.status_code == 200 and "interval_days" in response.context["form"].errors
        response = client.post(reverse("visits:frequency_create"), {"customer_type": "dealer", "interval_days": 9})
        assert response.status_code == 200 and "customer_type" in response.context["form"].errors
        assert login(rep).post(reverse("visits:frequency_delete", args=[standard.pk])).status_code == 403
        client = login(admin_user)
        assert client.get(reverse("visits:frequency_delete", args=[standard.pk])).status_code == 405
        assert client.post(reverse("visits:frequency_delete", args=[standard.pk])).status_code == 302
        assert client.get(reverse("visits:frequency_edit", args=[standard.pk])).status_code == 404
