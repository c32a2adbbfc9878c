"""Pages of visit logs: the list and its export, checking in ad hoc, a visit's page, the
log form (with photos and check-out) and the photos themselves.

Every visit is fetched through `Visit.objects.visible_to` (an invisible visit is a 404);
a write needs the customer to be editable by the user (finance: 403). Where the rep
was is shown only where `visit.location_visible_to(user)`. Photos are streamed through
a view that applies the same rule (media is never public).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import exports
from crm.errors import DomainError, add_domain_error
from crm.exports import DATE, DATETIME, INTEGER, Column, person
from crm.http import private_file_response
from crm.pagination import list_context
from customers.models import Contact, Customer
from customers.views import customer_from_query

from ..forms.visits import CheckInForm, VisitFilter, VisitLogForm
from ..models import Visit, VisitLevel, VisitPhoto
from ..services import visits as services

PAGE_SIZE = 25


def get_visit_for_user(user, pk: int, *, write: bool = False) -> Visit:
    """The visit if `user` sees it (else 404); with write=True, 403 unless they may change
    its customer. The result carries `can_edit` and `show_location`."""
    visit = get_object_or_404(
        Visit.objects.visible_to(user)
        .select_related("customer", "rep", "plan")
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.order_by("name")), "photos"),
        pk=pk,
    )
    visit.can_edit = Customer.objects.editable_by(user).filter(pk=visit.customer_id).exists()
    if write and not visit.can_edit:
        raise PermissionDenied
    visit.show_location = visit.location_visible_to(user)
    return visit


# -- List and export ----------------------------------------------------------------------------


def visit_filterset(request) -> VisitFilter:
    """The visit list's FilterSet on what the user sees, bound to the query string: the
    list page and its export both read `.qs` from here."""
    visits = Visit.objects.visible_to(request.user).select_related("customer", "rep")
    return VisitFilter(request.GET, queryset=visits, request=request)


@login_required
@require_GET
def visit_list(request):
    context = list_context(request, visit_filterset(request), PAGE_SIZE)
    return render(request, "visits/visit_list.html", {**context, "can_create": request.user.writes_archive})


def _minutes(row) -> int | None:
    start, end = row["checked_in_at"], row["checked_out_at"]
    return round((end - start).total_seconds() / 60) if start and end else None


# Where the rep was is not exported: a spreadsheet travels beyond who may see it.
VISIT_COLUMNS = [
    Column(gettext_lazy("Date"), "visit_date", DATE),
    Column(gettext_lazy("Customer code"), "customer__code"),
    Column(gettext_lazy("Customer"), "customer__name"),
    person(gettext_lazy("Sales rep"), "rep"),
    Column(gettext_lazy("Level"), "level", choices=VisitLevel.choices),
    Column(gettext_lazy("From a plan"), "plan_id", value=lambda row: row["plan_id"] is not None, kind=exports.YES_NO),
    Column(gettext_lazy("Checked in"), "checked_in_at", DATETIME),
    Column(gettext_lazy("Checked out"), "checked_out_at", DATETIME),
    Column(gettext_lazy("Minutes"), value=_minutes, needs=("checked_in_at", "checked_out_at"), kind=INTEGER),
    Column(gettext_lazy("Summary"), "summary"),
    Column(gettext_lazy("Customer needs"), "needs"),
    Column(gettext_lazy("Problems found"), "problems"),
    Column(gettext_lazy("Agreed next step"), "next_step"),
    Column(gettext_lazy("Follow-up date"), "follow_up_date", DATE),
]


@login_required
@require_GET
def visit_export(request):
    filterset = visit_filterset(request)
    return exports.export_list(request, filterset.qs, VISIT_COLUMNS, filename="visits", title=_("Visits"))


# -- Check in ad hoc --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def check_in(request):
    """A visit without a plan: choose the customer (or come with ?customer=<id>), tap
    "Check in"; the log form follows."""
    if not request.user.writes_archive:
        raise PermissionDenied
    customer = customer_from_query(request, write=True)
    bound = request.method == "POST"
    form = CheckInForm(request.POST if bound else None, user=request.user, customer=customer)
    if bound and form.is_valid():
        try:
            visit = services.visit_check_in(
                actor=request.user,
                customer=form.cleaned_data["customer"],
                level=form.cleaned_data["level"],
                location=form.location(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Checked in at %(customer)s.") % {"customer": visit.customer})
            return redirect("visits:visit_edit", pk=visit.pk)
    return render(request, "visits/check_in.html", {"form": form, "customer": customer})


# -- A visit and its log --------------------------------------------------------------------------


@login_required
@require_GET
def visit_detail(request, pk: int):
    visit = get_visit_for_user(request.user, pk)
    follow_ups = list(visit.follow_ups.select_related("rep").order_by("planned_date", "id"))
    duration = visit.duration
    return render(
        request,
        "visits/visit_detail.html",
        {
            "visit": visit,
            "follow_ups": follow_ups,
            "duration_minutes": round(duration.total_seconds() / 60) if duration is not None else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_edit(request, pk: int):
    """The log: whom the rep met, what was found and agreed, photos; "Save and check
    out" ends the visit."""
    visit = get_visit_for_user(request.user, pk, write=True)
    bound = request.method == "POST"
    form = VisitLogForm(request.POST if bound else None, request.FILES if bound else None, visit=visit)
    if bound and form.is_valid():
        try:
            # The log and its photos are saved together or not at all.
            with transaction.atomic():
                visit = services.visit_update(
                    actor=request.user,
                    visit=visit,
                    contacts=list(form.cleaned_data["contacts"]),
                    check_out="check_out" in request.POST,
                    **form.log(),
                )
                for upload in form.cleaned_data["photos"]:
                    services.visit_photo_add(actor=request.user, visit=visit, upload=upload)
        except DomainError as error:
            add_domain_error(form, error if error.field != "image" else DomainError(error.message, field="photos"))
        else:
            if visit.checked_out_at and "check_out" in request.POST:
                messages.success(request, _("Visit saved; checked out."))
            else:
                messages.success(request, _("Visit saved."))
            return redirect(visit)
    return render(request, "visits/visit_form.html", {"form": form, "visit": visit})


# -- Photos -------------------------------------------------------------------------------------------


def _photo_for_user(user, pk: int) -> VisitPhoto:
    return get_object_or_404(VisitPhoto.objects.visible_to(user).select_related("visit"), pk=pk)


@login_required
@require_GET
def photo_file(request, pk: int):
    return private_file_response(_photo_for_user(request.user, pk).image)


@login_required
@require_POST
def photo_delete(request, pk: int):
    photo = _photo_for_user(request.user, pk)
    if not VisitPhoto.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied
    try:
        services.visit_photo_delete(actor=request.user, photo=photo)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Photo deleted."))
    return redirect("visits:visit_edit", pk=photo.visit_id)
