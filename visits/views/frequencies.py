"""Pages of the visit frequency standards (拜访频率标准): everyone reads them, admins
change them. Saving or deleting one recomputes every customer's next due date."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.errors import DomainError, add_domain_error
from customers.models import Customer

from ..forms.visits import FrequencyForm
from ..models import VisitFrequency
from ..services import cadence


def _require_admin(user) -> None:
    if not user.is_admin_role:
        raise PermissionDenied


@login_required
@require_GET
def frequency_list(request):
    standards = list(VisitFrequency.objects.visible_to(request.user))
    # How many customers each standard applies to: a type's own standard wins over "any type".
    by_type = dict(Customer.objects.values_list("type").annotate(n=Count("id")).values_list("type", "n"))
    specific = {s.customer_type for s in standards if s.customer_type}
    for standard in standards:
        standard.customer_count = (
            by_type.get(standard.customer_type, 0)
            if standard.customer_type
            else sum(n for kind, n in by_type.items() if kind not in specific)
        )
    missing = (
        [label for value, label in Customer.Type.choices if value not in specific]
        if not any(not s.customer_type for s in standards)
        else []
    )
    return render(
        request,
        "visits/frequency_list.html",
        {"standards": standards, "unstandardised": missing, "can_edit": request.user.is_admin_role},
    )


@login_required
@require_http_methods(["GET", "POST"])
def frequency_edit(request, pk: int | None = None):
    _require_admin(request.user)
    standard = (
        VisitFrequency() if pk is None else get_object_or_404(VisitFrequency.objects.visible_to(request.user), pk=pk)
    )
    form = FrequencyForm(request.POST if request.method == "POST" else None, instance=standard)
    if form.is_bound and form.is_valid():
        try:
            cadence.frequency_save(actor=request.user, frequency=form.save(commit=False))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Standard saved; due dates recomputed."))
            return redirect("visits:frequency_list")
    return render(request, "visits/frequency_form.html", {"form": form, "standard": standard})


@login_required
@require_POST
def frequency_delete(request, pk: int):
    _require_admin(request.user)
    standard = get_object_or_404(VisitFrequency.objects.visible_to(request.user), pk=pk)
    cadence.frequency_delete(actor=request.user, frequency=standard)
    messages.success(request, _("Standard deleted; due dates recomputed."))
    return redirect("visits:frequency_list")
