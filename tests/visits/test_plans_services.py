"""Visit plans: who may plan for whom, rescheduling, cancelling, and the nightly job that
marks plans missed the day after their date (idempotent per date)."""

import datetime

import pytest

from crm import nightly
from crm.errors import DomainError
from crm.models import AuditEvent
from visits.models import CustomerVisits, VisitPlan
from visits.services import plans

from .visit_helpers import PlanFactory, days, today

pytestmark = pytest.mark.django_db


def plan_for(actor, customer, **extra):
    values = {"planned_date": days(1), "purpose": "介绍新品"}
    values.update(extra)
    return plans.plan_create(actor=actor, customer=customer, **values)


class TestCreate:
    def test_a_rep_plans_for_themselves(self, rep, own_customer):
        plan = plan_for(rep, own_customer, level="technical", project="猪苗免疫")
        assert (plan.rep, plan.status, plan.assigned_by) == (rep, VisitPlan.Status.PLANNED, None)
        event = AuditEvent.objects.get(object_type="visitplan", object_id=plan.pk)
        assert event.customer_id == own_customer.pk and event.changes["purpose"] == [None, "介绍新品"]

    def test_a_rep_may_not_assign_to_a_teammate(self, rep, teammate, own_customer):
        with pytest.raises(DomainError) as exc:
            plan_for(rep, own_customer, rep=teammate)
        assert exc.value.message == plans.ERR_ASSIGN and exc.value.field == "rep"

    def test_a_manager_assigns_to_the_rep_of_the_customer(self, manager, teammate, team_customer):
        plan = plan_for(manager, team_customer, rep=teammate)
        assert plan.rep == teammate and plan.assigned_by == manager

    def test_the_rep_must_look_after_the_customer(self, manager, rep, team_customer):
        with pytest.raises(DomainError) as exc:
            plan_for(manager, team_customer, rep=rep)
        assert exc.value.field == "rep"
        assert str(exc.value.message) == str(plans.ERR_REP_CANNOT_VISIT % {"rep": rep})

    def test_a_manager_may_not_assign_outside_the_team(self, manager, outsider, own_customer):
        with pytest.raises(DomainError) as exc:
            plan_for(manager, own_customer, rep=outsider)
        assert exc.value.message == plans.ERR_ASSIGN

    def test_an_admin_assigns_anyone_who_looks_after_it(self, admin_user, outsider, other_customer):
        assert plan_for(admin_user, other_customer, rep=outsider).assigned_by == admin_user

    def test_invisible_customer(self, rep, other_customer):
        with pytest.raises(DomainError) as exc:
            plan_for(rep, other_customer)
        assert exc.value.message == plans.ERR_CUSTOMER and exc.value.field == "customer"

    def test_finance_does_not_plan(self, finance, own_customer):
        with pytest.raises(DomainError) as exc:
            plan_for(finance, own_customer)
        assert exc.value.message == plans.ERR_WRITER_ROLE

    def test_not_in_the_past(self, rep, own_customer):
        with pytest.raises(DomainError) as exc:
            plan_for(rep, own_customer, planned_date=days(-1))
        assert exc.value.field == "planned_date"
        assert plan_for(rep, own_customer, planned_date=today()).planned_date == today()

    def test_purpose_needed(self, rep, own_customer):
        with pytest.raises(DomainError) as exc:
            plan_for(rep, own_customer, purpose="  ")
        assert exc.value.field == "purpose"


class TestUpdateAndCancel:
    def test_reschedule_and_reassign(self, manager, rep, teammate, own_customer):
        # Shared with the teammate, so both look after it.
        own_customer.shares.create(user=teammate)
        plan = plan_for(rep, own_customer)
        plan = plans.plan_update(actor=manager, plan=plan, planned_date=days(3), rep=teammate)
        plan.refresh_from_db()
        assert (plan.planned_date, plan.rep, plan.assigned_by) == (days(3), teammate, manager)
        event = AuditEvent.objects.filter(object_type="visitplan", object_id=plan.pk, action="update").get()
        assert set(event.changes) >= {"planned_date", "rep", "assigned_by"}

    def test_a_closed_plan_cannot_change(self, rep, own_customer):
        plan = PlanFactory(customer=own_customer, status=VisitPlan.Status.DONE)
        with pytest.raises(DomainError):
            plans.plan_update(actor=rep, plan=plan, purpose="改")

    def test_an_unchanged_date_of_today_is_no_error(self, rep, own_customer):
        plan = plan_for(rep, own_customer, planned_date=today())
        assert plans.plan_update(actor=rep, plan=plan, purpose="带样品").purpose == "带样品"

    def test_cancel_needs_a_reason(self, rep, own_customer):
        plan = plan_for(rep, own_customer)
        with pytest.raises(DomainError) as exc:
            plans.plan_cancel(actor=rep, plan=plan, reason=" ")
        assert exc.value.field == "reason"
        plan = plans.plan_cancel(actor=rep, plan=plan, reason="客户外出")
        assert (plan.status, plan.cancel_reason) == (VisitPlan.Status.CANCELLED, "客户外出")
        event = AuditEvent.objects.filter(object_type="visitplan", action="update").get()
        assert event.reason == "客户外出" and event.changes["status"] == ["planned", "cancelled"]

    def test_a_done_plan_cannot_be_cancelled(self, rep, own_customer):
        plan = PlanFactory(customer=own_customer, status=VisitPlan.Status.DONE)
        with pytest.raises(DomainError):
            plans.plan_cancel(actor=rep, plan=plan, reason="x")


class TestMissed:
    def test_open_plans_before_today_are_marked_once(self, own_customer, team_customer):
        run_on = datetime.date(2026, 3, 10)
        yesterday = PlanFactory(customer=own_customer, planned_date=datetime.date(2026, 3, 9))
        older = PlanFactory(customer=team_customer, planned_date=datetime.date(2026, 3, 2))
        today_plan = PlanFactory(customer=own_customer, planned_date=run_on)
        done = PlanFactory(customer=own_customer, planned_date=datetime.date(2026, 3, 9), status="done")
        cancelled = PlanFactory(customer=own_customer, planned_date=datetime.date(2026, 3, 9), status="cancelled")

        assert plans.plans_mark_missed(today=run_on) == 2
        statuses = dict(VisitPlan.objects.values_list("pk", "status"))
        assert statuses[yesterday.pk] == statuses[older.pk] == "missed"
        assert (statuses[today_plan.pk], statuses[done.pk], statuses[cancelled.pk]) == ("planned", "done", "cancelled")
        events = AuditEvent.objects.filter(object_type="visitplan", reason=plans.MISSED_REASON)
        assert {e.object_id for e in events} == {yesterday.pk, older.pk}
        assert len({e.batch for e in events}) == 1 and all(e.actor is None for e in events)

        assert plans.plans_mark_missed(today=run_on) == 0
        assert AuditEvent.objects.filter(reason=plans.MISSED_REASON).count() == 2

    def test_the_nightly_run_marks_missed_and_refreshes_the_visit_status(self, own_customer):
        PlanFactory(customer=own_customer, planned_date=datetime.date(2026, 3, 9))
        first = nightly.run(today=datetime.date(2026, 3, 10))
        assert first["visit_plans_missed"] == 1 and first["visit_cadence"] >= 1
        status = CustomerVisits.objects.get(customer=own_customer)
        assert status.refreshed_on == datetime.date(2026, 3, 10)
        second = nightly.run(today=datetime.date(2026, 3, 10))
        assert second["visit_plans_missed"] == 0 and second["visit_cadence"] == first["visit_cadence"]
