"""Reads behind the calendars and the phone's "today" page: a rep's week, a team's week,
today's plans, visits in progress, follow-ups coming up and overdue customers.

Callers pass the signed-in user; every query goes through `visible_to(user)`, and each
read costs a fixed number of queries whatever the number of plans or reps.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import QuerySet

from crm.models import User

from .models import CustomerVisits, Visit, VisitPlan

WEEK = 7
TODAY_OVERDUE = 10
FOLLOW_UP_DAYS = 7


@dataclass
class Day:
    date: datetime.date
    plans: list = field(default_factory=list)
    visits: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.plans and not self.visits


def calendar_reps(user: User) -> QuerySet:
    """Whose week `user` may open: their own; a manager their team's; the back office
    and admins anyone's who plans visits."""
    users = User.objects.filter(is_active=True).exclude(role=User.Role.FINANCE)
    if user.sees_all_customers:
        return users
    if user.is_manager and user.team_id:
        return users.filter(team_id=user.team_id)
    return users.filter(pk=user.pk)


def _plans(user: User, start: datetime.date, end: datetime.date) -> QuerySet:
    # A done plan shows as its visit; the others (open, missed, cancelled) as plans.
    return (
        VisitPlan.objects.visible_to(user)
        .filter(planned_date__gte=start, planned_date__lt=end)
        .exclude(status=VisitPlan.Status.DONE)
        .select_related("customer")
        .order_by("planned_date", "planned_time", "id")
    )


def _visits(user: User, start: datetime.date, end: datetime.date) -> QuerySet:
    return (
        Visit.objects.visible_to(user)
        .filter(visit_date__gte=start, visit_date__lt=end)
        .select_related("customer", "plan")
        .order_by("visit_date", "checked_in_at", "id")
    )


def week(*, user: User, rep: User, start: datetime.date) -> list[Day]:
    """`rep`'s plans and visits, Monday `start` to Sunday, as `user` sees them. Two queries."""
    end = start + datetime.timedelta(days=WEEK)
    days = [Day(start + datetime.timedelta(days=i)) for i in range(WEEK)]
    for plan in _plans(user, start, end).filter(rep=rep):
        days[(plan.planned_date - start).days].plans.append(plan)
    for visit in _visits(user, start, end).filter(rep=rep):
        days[(visit.visit_date - start).days].visits.append(visit)
    return days


@dataclass
class RepWeek:
    rep: User
    days: list[Day]

    @property
    def empty(self) -> bool:
        return all(day.empty for day in self.days)

    @property
    def counts(self) -> tuple[int, int]:
        """(visits logged, plans still open) in the week."""
        visits = sum(len(d.visits) for d in self.days)
        open_plans = sum(1 for d in self.days for p in d.plans if p.status == VisitPlan.Status.PLANNED)
        return visits, open_plans


def team_week(*, user: User, members: list[User], start: datetime.date) -> list[RepWeek]:
    """Each member's week, as `user` sees it. Two queries, whatever the team's size."""
    end = start + datetime.timedelta(days=WEEK)
    rows = {
        member.pk: RepWeek(member, [Day(start + datetime.timedelta(days=i)) for i in range(WEEK)]) for member in members
    }
    for plan in _plans(user, start, end).filter(rep__in=list(rows)):
        rows[plan.rep_id].days[(plan.planned_date - start).days].plans.append(plan)
    for visit in _visits(user, start, end).filter(rep__in=list(rows)):
        rows[visit.rep_id].days[(visit.visit_date - start).days].visits.append(visit)
    return list(rows.values())


def overdue_customers(user: User, today: datetime.date) -> QuerySet:
    """Customers whose next visit was due before `today`, most overdue first, among
    those `user` sees (a rep: their own; a manager: the team's)."""
    return (
        CustomerVisits.objects.visible_to(user)
        .overdue(today)
        .select_related("customer", "customer__owner")
        .order_by("next_due_date", "customer_id")
    )


def today(*, user: User, today: datetime.date) -> dict:
    """The phone's page: today's plans, visits in progress, follow-ups of the coming days
    and the most overdue customers the user looks after. Five queries."""
    plans = list(
        VisitPlan.objects.visible_to(user)
        .filter(rep=user, planned_date=today, status=VisitPlan.Status.PLANNED)
        .select_related("customer", "follow_up_of")
        .order_by("planned_time", "id")
    )
    in_progress = list(
        Visit.objects.visible_to(user)
        .filter(rep=user, checked_out_at__isnull=True, visit_date__gte=today - datetime.timedelta(days=1))
        .select_related("customer", "plan")
        .order_by("-checked_in_at")
    )
    follow_ups = list(
        VisitPlan.objects.visible_to(user)
        .filter(
            rep=user,
            status=VisitPlan.Status.PLANNED,
            follow_up_of__isnull=False,
            planned_date__gt=today,
            planned_date__lte=today + datetime.timedelta(days=FOLLOW_UP_DAYS),
        )
        .select_related("customer")
        .order_by("planned_date", "planned_time", "id")
    )
    overdue = overdue_customers(user, today)
    if user.is_rep:
        overdue = overdue.filter(customer__owner=user)
    overdue_rows = list(overdue[: TODAY_OVERDUE + 1])
    return {
        "plans": plans,
        "in_progress": in_progress,
        "follow_ups": follow_ups,
        "overdue": overdue_rows[:TODAY_OVERDUE],
        "more_overdue": len(overdue_rows) > TODAY_OVERDUE,
    }
