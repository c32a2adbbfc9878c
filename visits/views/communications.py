"""Pages of communication records (沟通记录): the list (all the user sees, or one
customer's) with filters and export, logging one against a customer, its page, edit,
delete, and its attachment, streamed only to those who see the customer.

Reads go through `visible_to` (an invisible record is a 404); writes need the customer
to be editable (403 otherwise, and always for messages the system sent).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import exports
from crm.errors import DomainError, add_domain_error
from crm.exports import DATETIME, Column, person
from crm.http import private_file_response
from crm.pagination import list_context
from customers.models import Customer
from customers.views import get_customer_for_user

from ..forms.communications import CommunicationFilter, CommunicationForm
from ..models import Communication
from ..services import communications as services

PAGE_SIZE = 25


def _record_for_user(user, pk: int, *, write: bool = False) -> Communication:
    """The record if `user` sees it (else 404); with write=True, 403 unless they may edit
    its customer and a person logged it."""
    record = get_object_or_404(
        Communication.objects.visible_to(user).select_related("customer", "contact", "user", "message"), pk=pk
    )
    record.can_edit = (
        record.message_id is None and Customer.objects.editable_by(user).filter(pk=record.customer_id).exists()
    )
    if write and not record.can_edit:
        raise PermissionDenied
    return record


def customer_timeline_url(customer_id: int) -> str:
    return f"{reverse('customers:detail', args=[customer_id])}?tab=timeline"


# -- List and export ------------------------------------------------------------------------


def communication_filterset(request) -> CommunicationFilter:
    """The list's FilterSet on what the user sees, bound to the query string: the list
    page and its export both read `.qs` from here."""
    records = Communication.objects.visible_to(request.user).select_related("customer", "contact", "user")
    return CommunicationFilter(request.GET, queryset=records, request=request)


@login_required
@require_GET
def communication_list(request):
    context = list_context(request, communication_filterset(request), PAGE_SIZE, not_filters=("page", "customer"))
    customer = None
    raw = request.GET.get("customer", "")
    if raw.isdigit():
        # The list of one customer: its name on top and a button to log another.
        customer = get_customer_for_user(request.user, int(raw))
    return render(
        request,
        "care/communication_list.html",
        {**context, "customer": customer},
    )


COMMUNICATION_COLUMNS = [
    Column(gettext_lazy("Time"), "occurred_at", DATETIME),
    Column(gettext_lazy("Customer code"), "customer__code"),
    Column(gettext_lazy("Customer"), "customer__name"),
    Column(gettext_lazy("Kind"), "kind", choices=Communication.Kind.choices),
    Column(gettext_lazy("Direction"), "direction", choices=Communication.Direction.choices),
    Column(gettext_lazy("Contact"), "contact__name"),
    Column(gettext_lazy("Subject"), "subject"),
    Column(gettext_lazy("Summary"), "summary"),
    person(gettext_lazy("By"), "user"),
    Column(
        gettext_lazy("Attachment"),
        value=lambda row: row["attachment"].rsplit("/", 1)[-1] if row["attachment"] else None,
        needs=("attachment",),
    ),
]


@login_required
@require_GET
def communication_export(request):
    filterset = communication_filterset(request)
    return exports.export_list(
        request, filterset.qs, COMMUNICATION_COLUMNS, filename="communications", title=_("Communications")
    )


# -- One record -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def communication_create(request, pk: int):
    """Log a call, message, e-mail, chat, fax or meeting with the customer `pk`."""
    customer = get_customer_for_user(request.user, pk, write=True)
    record = Communication(customer=customer)
    bound = request.method == "POST"
    form = CommunicationForm(
        request.POST if bound else None, request.FILES if bound else None, instance=record, customer=customer
    )
    if bound and form.is_valid():
        try:
            services.communication_save(actor=request.user, record=form.save(commit=False))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Communication logged."))
            return redirect(customer_timeline_url(customer.pk))
    return render(request, "care/communication_form.html", {"form": form, "customer": customer, "record": record})


@login_required
@require_GET
def communication_detail(request, pk: int):
    record = _record_for_user(request.user, pk)
    return render(request, "care/communication_detail.html", {"record": record, "customer": record.customer})


@login_required
@require_http_methods(["GET", "POST"])
def communication_edit(request, pk: int):
    record = _record_for_user(request.user, pk, write=True)
    bound = request.method == "POST"
    form = CommunicationForm(
        request.POST if bound else None, request.FILES if bound else None, instance=record, customer=record.customer
    )
    if bound and form.is_valid():
        try:
            services.communication_save(actor=request.user, record=form.save(commit=False))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("visits:communication_detail", pk=record.pk)
    return render(
        request, "care/communication_form.html", {"form": form, "customer": record.customer, "record": record}
    )


@login_required
@require_POST
def communication_delete(request, pk: int):
    record = _record_for_user(request.user, pk, write=True)
    services.communication_delete(actor=request.user, record=record)
    messages.success(request, _("Communication deleted."))
    return redirect(customer_timeline_url(record.customer_id))


@login_required
@require_GET
def communication_attachment(request, pk: int):
    """The recording or scan, only to those who see the customer (media is never public)."""
    return private_file_response(_record_for_user(request.user, pk).attachment)
