"""The pages a rep and a manager plan their days with: "today" (built for a phone), a
rep's week, a team's week and the customers overdue for a visit. Reads come from
visits.calendar, scoped to the signed-in user."""

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm.models import Team, User
from crm.pagination import list_context

from .. import calendar
from ..forms.visits import OverdueFilter, TeamChoiceForm, parse_week

PAGE_SIZE = 25


def _week_links(start: datetime.date) -> dict:
    return {
        "start": start,
        "end": start + datetime.timedelta(days=calendar.WEEK - 1),
        "previous": (start - datetime.timedelta(days=calendar.WEEK)).isoformat(),
        "next": (start + datetime.timedelta(days=calendar.WEEK)).isoformat(),
    }


@login_required
@require_GET
def today(request):
    day = timezone.localdate()
    context = calendar.today(user=request.user, today=day)
    context.update({"today": day, "can_log": request.user.writes_archive})
    return render(request, "visits/today.html", context)


@login_required
@require_GET
def week(request):
    """A rep's week: ?rep=<id> (someone whose calendar the user may open; their own by
    default) and ?week=<any day of it>."""
    day = timezone.localdate()
    reps = calendar.calendar_reps(request.user).order_by("last_name", "first_name", "username")
    raw = request.GET.get("rep", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        rep = reps.filter(pk=int(raw)).first()
        if rep is None:
            raise Http404
    else:
        rep = request.user
    start = parse_week(request.GET.get("week"), day)
    choices = list(reps) if not request.user.is_rep else []
    return render(
        request,
        "visits/week.html",
        {
            "rep": rep,
            "rep_choices": choices,
            "days": calendar.week(user=request.user, rep=rep, start=start),
            "today": day,
            "can_plan": request.user.writes_archive,
            **_week_links(start),
        },
    )


def may_see_team_week(user: User) -> bool:
    return user.is_admin_role or (user.is_manager and bool(user.team_id))


@login_required
@require_GET
def team_week(request):
    """A team's week, one row per member: the manager's own team; an admin picks one."""
    if not may_see_team_week(request.user):
        raise PermissionDenied
    day = timezone.localdate()
    team_form = None
    if request.user.is_admin_role:
        team_form = TeamChoiceForm(request.GET)
        chosen = team_form.cleaned_data.get("team") if team_form.is_valid() else None
        team = chosen or Team.objects.order_by("name").first()
    else:
        team = request.user.team
    members = []
    if team is not None:
        members = list(
            User.objects.filter(team=team, is_active=True)
            .exclude(role=User.Role.FINANCE)
            .order_by("-role", "last_name", "first_name", "username")
        )
    start = parse_week(request.GET.get("week"), day)
    return render(
        request,
        "visits/team_week.html",
        {
            "team": team,
            "team_form": team_form,
            "rows": calendar.team_week(user=request.user, members=members, start=start),
            "weekdays": [start + datetime.timedelta(days=i) for i in range(calendar.WEEK)],
            "today": day,
            **_week_links(start),
        },
    )


@login_required
@require_GET
def overdue(request):
    """Customers overdue for a visit by their frequency standard: a rep's own, a
    manager's team's (filter by rep), everyone's for the back office."""
    day = timezone.localdate()
    rows = calendar.overdue_customers(request.user, day)
    filterset = OverdueFilter(request.GET, queryset=rows, request=request)
    # A rep's list holds only their own customers: no rep to choose.
    hidden = {"q", "owner"} if request.user.is_rep else {"q"}
    return render(
        request,
        "visits/overdue.html",
        {
            **list_context(request, filterset, PAGE_SIZE, hidden=hidden),
            "today": day,
            "can_log": request.user.writes_archive,
        },
    )
