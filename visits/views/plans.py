"""Pages of visit plans: the list, planning (and assigning) a visit, a plan's page,
rescheduling, cancelling and checking in from a plan.

Every plan is fetched through `VisitPlan.objects.visible_to` (an invisible plan is a
404); a write needs the customer to be editable by the user (finance: 403). Writing is
left to visits.services.plans.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.errors import DomainError, add_domain_error
from crm.pagination import list_context
from customers.models import Customer
from customers.views import customer_from_query

from ..forms.visits import LocationForm, PlanCancelForm, PlanFilter, PlanForm
from ..models import VisitPlan
from ..services import plans as services
from ..services import visits as visit_services

PAGE_SIZE = 25


def get_plan_for_user(user, pk: int, *, write: bool = False) -> VisitPlan:
    """The plan if `user` sees it (else 404); with write=True, 403 unless they may change
    its customer. The result carries `can_edit`."""
    plan = get_object_or_404(
        VisitPlan.objects.visible_to(user).select_related(
            "customer", "rep", "assigned_by", "follow_up_of", "follow_up_of__customer"
        ),
        pk=pk,
    )
    plan.can_edit = Customer.objects.editable_by(user).filter(pk=plan.customer_id).exists()
    if write and not plan.can_edit:
        raise PermissionDenied
    return plan


def _require_writer(user) -> None:
    if not user.writes_archive:
        raise PermissionDenied


# -- List -------------------------------------------------------------------------------------


def plan_filterset(request) -> PlanFilter:
    plans = (
        VisitPlan.objects.visible_to(request.user)
        .select_related("customer", "rep")
        .order_by("-planned_date", "-planned_time", "-id")
    )
    return PlanFilter(request.GET, queryset=plans, request=request)


@login_required
@require_GET
def plan_list(request):
    return render(
        request,
        "visits/plan_list.html",
        {
            **list_context(request, plan_filterset(request), PAGE_SIZE),
            "can_create": request.user.writes_archive,
            "today": timezone.localdate(),
        },
    )


# -- Plan, reschedule, cancel -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request):
    """A new plan; ?customer=<id> plans for that customer, ?date=YYYY-MM-DD on that day."""
    _require_writer(request.user)
    customer = customer_from_query(request, write=True)
    bound = request.method == "POST"
    initial = {"planned_date": request.GET.get("date") or timezone.localdate()}
    form = PlanForm(request.POST if bound else None, user=request.user, customer=customer, initial=initial)
    if bound and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_create(
                actor=request.user,
                customer=data["customer"],
                rep=data["rep"],
                planned_date=data["planned_date"],
                planned_time=data["planned_time"],
                level=data["level"],
                purpose=data["purpose"],
                project=data["project"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Visit to %(customer)s planned.") % {"customer": plan.customer})
            return redirect(plan)
    return render(request, "visits/plan_form.html", {"form": form, "plan": None, "customer": customer})


@login_required
@require_GET
def plan_detail(request, pk: int):
    plan = get_plan_for_user(request.user, pk)
    visit = getattr(plan, "visit", None) if plan.status == VisitPlan.Status.DONE else None
    return render(
        request,
        "visits/plan_detail.html",
        {
            "plan": plan,
            "visit": visit,
            "is_open": plan.status in (VisitPlan.Status.PLANNED, VisitPlan.Status.MISSED),
            "can_check_in": plan.can_edit and plan.planned_date <= timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk: int):
    plan = get_plan_for_user(request.user, pk, write=True)
    if plan.status != VisitPlan.Status.PLANNED:
        messages.error(request, _("Only an open plan can be changed."))
        return redirect(plan)
    bound = request.method == "POST"
    initial = {f: getattr(plan, f) for f in services.PLAN_FIELDS}
    form = PlanForm(request.POST if bound else None, user=request.user, plan=plan, initial=initial)
    if bound and form.is_valid():
        try:
            plan = services.plan_update(
                actor=request.user, plan=plan, **{f: form.cleaned_data[f] for f in services.PLAN_FIELDS}
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Plan saved."))
            return redirect(plan)
    return render(request, "visits/plan_form.html", {"form": form, "plan": plan, "customer": plan.customer})


@login_required
@require_POST
def plan_cancel(request, pk: int):
    plan = get_plan_for_user(request.user, pk, write=True)
    form = PlanCancelForm(request.POST)
    if form.is_valid():
        try:
            services.plan_cancel(actor=request.user, plan=plan, reason=form.cleaned_data["reason"])
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Plan cancelled."))
    else:
        messages.error(request, _("Give a reason for cancelling."))
    return redirect(plan)


@login_required
@require_POST
def plan_check_in(request, pk: int):
    """Start the plan's visit now (with the location, when the browser gave one)."""
    plan = get_plan_for_user(request.user, pk, write=True)
    form = LocationForm(request.POST)
    location = form.location() if form.is_valid() else None
    try:
        visit = visit_services.visit_check_in(actor=request.user, plan=plan, location=location)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(plan)
    messages.success(request, _("Checked in at %(customer)s.") % {"customer": plan.customer})
    return redirect("visits:visit_edit", pk=visit.pk)
