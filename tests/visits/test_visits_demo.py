"""The visit demo (loaded by seed_demo): frequency standards, three months of visits and
the next two weeks of plans for the demo reps, consistent with the services' rules, some
plans missed, some customers overdue, and nothing added by a second run."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from crm.demo import DEMO_REASON
from crm.models import AuditEvent, User
from customers.models import Customer
from visits.demo import AHEAD_DAYS, HISTORY_DAYS, STANDARDS
from visits.models import CustomerVisits, Visit, VisitFrequency, VisitPlan
from visits.services.visits import distance_m


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.fixture
def today():
    return timezone.localdate()


def test_seed_reports_the_visits_demo(seeded):
    assert "Visits demo loaded" in seeded
    assert VisitFrequency.objects.count() == len(STANDARDS)


def test_every_demo_rep_visits_in_the_last_three_months(today):
    reps = User.objects.filter(role=User.Role.REP)
    per_rep = dict(Visit.objects.values_list("rep__username").annotate(n=Count("id")).values_list("rep__username", "n"))
    assert set(per_rep) == set(reps.values_list("username", flat=True))
    assert all(n > 100 for n in per_rep.values()), per_rep
    first = today - datetime.timedelta(days=HISTORY_DAYS)
    assert not Visit.objects.filter(visit_date__lt=first).exists()
    assert not Visit.objects.filter(visit_date__gte=today).exists()
    assert not Visit.objects.filter(checked_out_at__lte=F("checked_in_at")).exists()
    assert not Visit.objects.exclude(rep=F("customer__owner")).exists()


def test_plans_are_consistent(today):
    done = VisitPlan.objects.filter(status="done")
    assert done.count() == Visit.objects.exclude(plan=None).count() > 1000
    assert not done.filter(visit__isnull=True).exists()
    assert not Visit.objects.exclude(plan=None).exclude(plan__customer=F("customer")).exists()
    assert not Visit.objects.exclude(plan=None).exclude(plan__planned_date=F("visit_date")).exists()
    # Open plans lie ahead (the nightly job would have marked the others missed).
    assert not VisitPlan.objects.filter(status="planned", planned_date__lt=today).exists()
    assert VisitPlan.objects.filter(status="missed").count() > 20
    assert not VisitPlan.objects.filter(status="missed", planned_date__gte=today).exists()
    assert VisitPlan.objects.filter(status="cancelled").exclude(cancel_reason="").exists()
    # The next two weeks are planned, today too; some plans a manager assigned.
    ahead = VisitPlan.objects.filter(status="planned", planned_date__lte=today + datetime.timedelta(days=AHEAD_DAYS))
    assert ahead.count() > 100 and ahead.filter(planned_date=today).exists()
    assert ahead.filter(assigned_by__role=User.Role.MANAGER).exists()


def test_every_agreed_follow_up_has_its_plan():
    with_follow_up = Visit.objects.exclude(follow_up_date=None)
    assert with_follow_up.count() > 300
    assert not with_follow_up.filter(next_step="").exists()
    follow_ups = VisitPlan.objects.exclude(follow_up_of=None)
    assert follow_ups.count() == with_follow_up.count()
    assert not follow_ups.exclude(planned_date=F("follow_up_of__follow_up_date")).exists()
    assert not follow_ups.exclude(purpose=F("follow_up_of__next_step")).exists()
    assert follow_ups.filter(status="planned").exists() and follow_ups.filter(status="done").exists()


def test_some_customers_are_overdue(today):
    statuses = CustomerVisits.objects.all()
    assert statuses.count() == Customer.objects.count()
    overdue = statuses.overdue(today).count()
    assert 0.05 * statuses.count() < overdue < 0.3 * statuses.count()
    assert not statuses.filter(next_due_date=None).exists()


def test_located_visits_lie_near_their_customer():
    located = Visit.objects.exclude(latitude=None).select_related("customer")
    assert located.count() > 500
    for visit in located[:200]:
        customer = visit.customer
        assert customer.latitude is not None
        assert visit.distance_m == distance_m(visit.latitude, visit.longitude, customer.latitude, customer.longitude)
    assert located.filter(distance_m__lte=400).count() > 0.85 * located.count()
    # A customer without a location has no located visit.
    assert not Visit.objects.exclude(latitude=None).filter(customer__latitude=None).exists()


def test_history_records_plans_and_visits_without_the_location():
    events = AuditEvent.objects.filter(reason=DEMO_REASON, object_type__in=["visit", "visitplan"])
    assert events.filter(object_type="visit").count() == Visit.objects.count()
    assert events.filter(object_type="visitplan").count() == VisitPlan.objects.count()
    for event in events.filter(object_type="visit")[:100]:
        assert not {"latitude", "longitude", "distance_m", "accuracy_m"} & set(event.changes)
    visit = Visit.objects.order_by("pk").first()
    assert events.get(object_type="visit", object_id=visit.pk).at == visit.checked_in_at


def test_a_second_run_adds_nothing():
    counts = (Visit.objects.count(), VisitPlan.objects.count(), VisitFrequency.objects.count())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Visits demo loaded" not in out.getvalue()
    assert (Visit.objects.count(), VisitPlan.objects.count(), VisitFrequency.objects.count()) == counts
