"""Visit frequency standards and each customer's stored visit status: the most specific
standard wins, the next due date counts from the last visit (or from when the customer
entered the archive), changes of the standards recompute everyone, the customer page
shows it and the customer list filters on it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.errors import DomainError
from crm.models import AuditEvent
from customers.models import Customer
from tests.factories import CustomerFactory
from visits.models import CustomerVisits, VisitFrequency
from visits.services import cadence

from .visit_helpers import VisitFactory, days, today

pytestmark = pytest.mark.django_db

D = datetime.date


def status_of(customer) -> CustomerVisits:
    return CustomerVisits.objects.get(customer=customer)


@pytest.fixture
def standards(db):
    VisitFrequency.objects.create(customer_type="", interval_days=30)
    VisitFrequency.objects.create(customer_type="dealer", interval_days=7)
    VisitFrequency.objects.create(customer_type="farm", interval_days=14)


class TestRefresh:
    def test_the_most_specific_standard_counts_from_the_last_visit(self, standards, own_customer, team_customer):
        clinic = CustomerFactory(owner=own_customer.owner, type="clinic")
        VisitFactory(customer=own_customer, visit_date=D(2026, 3, 1))
        VisitFactory(customer=own_customer, visit_date=D(2026, 3, 5))
        VisitFactory(customer=team_customer, visit_date=D(2026, 3, 2))
        VisitFactory(customer=clinic, visit_date=D(2026, 2, 20))

        assert cadence.refresh(today=D(2026, 3, 10)) == 3
        dealer, farm, other = status_of(own_customer), status_of(team_customer), status_of(clinic)
        assert (dealer.last_visit_date, dealer.interval_days, dealer.next_due_date) == (
            D(2026, 3, 5),
            7,
            D(2026, 3, 12),
        )
        assert (farm.interval_days, farm.next_due_date) == (14, D(2026, 3, 16))
        assert (other.interval_days, other.next_due_date) == (30, D(2026, 3, 22))
        assert dealer.refreshed_on == D(2026, 3, 10)
        assert dealer.days_overdue(D(2026, 3, 15)) == 3 and dealer.days_overdue(D(2026, 3, 12)) == 0

    def test_a_customer_never_visited_is_due_one_interval_after_it_was_created(self, standards, own_customer):
        cadence.refresh(today=today())
        created = timezone.localdate(own_customer.created_at)
        status = status_of(own_customer)
        assert status.last_visit_date is None and status.next_due_date == created + datetime.timedelta(days=7)

    def test_without_a_standard_or_when_closed_nothing_is_due(self, own_customer, team_customer):
        VisitFrequency.objects.create(customer_type="farm", interval_days=14)
        Customer.objects.filter(pk=team_customer.pk).update(status=Customer.Status.CLOSED)
        cadence.refresh(today=today())
        assert status_of(own_customer).next_due_date is None and status_of(own_customer).interval_days is None
        assert status_of(team_customer).interval_days == 14 and status_of(team_customer).next_due_date is None

    def test_the_shortest_wins_among_equally_specific(self, own_customer):
        # Only one standard per type can exist; "any type" against a type is the specific one's.
        VisitFrequency.objects.create(customer_type="", interval_days=3)
        VisitFrequency.objects.create(customer_type="dealer", interval_days=20)
        cadence.refresh(today=today())
        assert status_of(own_customer).interval_days == 20

    def test_one_customer_only_and_idempotent(self, standards, own_customer, team_customer):
        VisitFactory(customer=own_customer, visit_date=days(-3))
        assert cadence.refresh(today=today(), customer_ids=[own_customer.pk]) == 1
        assert not CustomerVisits.objects.filter(customer=team_customer).exists()
        first = list(CustomerVisits.objects.values())
        cadence.refresh(today=today(), customer_ids=[own_customer.pk])
        assert list(CustomerVisits.objects.values()) == first

    def test_a_future_visit_does_not_count(self, standards, own_customer):
        VisitFactory(customer=own_customer, visit_date=D(2026, 3, 5))
        VisitFactory(customer=own_customer, visit_date=D(2026, 3, 20))
        cadence.refresh(today=D(2026, 3, 10))
        assert status_of(own_customer).last_visit_date == D(2026, 3, 5)

    def test_overdue_lists_follow_visibility(
        self, standards, rep, manager, own_customer, team_customer, other_customer
    ):
        for customer in (own_customer, team_customer, other_customer):
            VisitFactory(customer=customer, visit_date=days(-40))
        cadence.refresh(today=today())
        assert set(CustomerVisits.objects.visible_to(rep).overdue(today()).values_list("pk", flat=True)) == {
            own_customer.pk
        }
        assert set(CustomerVisits.objects.visible_to(manager).overdue(today()).values_list("pk", flat=True)) == {
            own_customer.pk,
            team_customer.pk,
        }


class TestStandards:
    def test_saving_recomputes_everyone_and_is_recorded(self, admin_user, own_customer, team_customer):
        VisitFactory(customer=own_customer, visit_date=days(-10))
        standard = cadence.frequency_save(actor=admin_user, frequency=VisitFrequency(customer_type="", interval_days=7))
        assert status_of(own_customer).next_due_date == days(-3)
        assert status_of(team_customer).interval_days == 7
        standard.interval_days = 30
        cadence.frequency_save(actor=admin_user, frequency=standard)
        assert status_of(own_customer).next_due_date == days(20)
        event = AuditEvent.objects.get(object_type="visitfrequency", action="update")
        assert event.changes == {"interval_days": [7, 30]} and event.customer_id is None
        cadence.frequency_delete(actor=admin_user, frequency=standard)
        assert status_of(own_customer).next_due_date is None

    def test_only_admins(self, manager):
        with pytest.raises(DomainError):
            cadence.frequency_save(actor=manager, frequency=VisitFrequency(customer_type="", interval_days=7))

    def test_one_per_type(self, admin_user):
        cadence.frequency_save(actor=admin_user, frequency=VisitFrequency(customer_type="farm", interval_days=7))
        with pytest.raises(DomainError) as exc:
            cadence.frequency_save(actor=admin_user, frequency=VisitFrequency(customer_type="farm", interval_days=9))
        assert exc.value.field == "customer_type"


class TestCustomerPages:
    def test_the_customer_page_shows_the_next_visit_due(self, login, rep, own_customer, standards):
        VisitFactory(customer=own_customer, visit_date=days(-12))
        cadence.refresh(today=today())
        url = reverse("customers:detail", args=[own_customer.pk])
        html = login(rep).get(url, headers={"accept-language": "en"}).content.decode()
        assert days(-5).isoformat() in html and "5 days overdue" in html

    def test_a_customer_without_status_shows_nothing(self, login, rep, own_customer):
        response = login(rep).get(reverse("customers:detail", args=[own_customer.pk]))
        assert response.status_code == 200 and "customer-visit-due" not in response.content.decode()

    def test_the_customer_list_filters_overdue_visits(self, login, rep, standards):
        late, fine, unknown = (CustomerFactory(owner=rep) for _ in range(3))
        VisitFactory(customer=late, visit_date=days(-20))
        VisitFactory(customer=fine, visit_date=days(-1))
        cadence.refresh(today=today(), customer_ids=[late.pk, fine.pk])
        client = login(rep)
        page = client.get(reverse("customers:list"), {"visits_overdue": "true"}).context["page"]
        assert [c.pk for c in page] == [late.pk]
        page = client.get(reverse("customers:list"), {"visits_overdue": "false"}).context["page"]
        assert {c.pk for c in page} == {fine.pk, unknown.pk}
