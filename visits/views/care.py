"""Pages of customer care: message templates and the holiday calendar (read by all,
kept by client service and admins), the list of messages sent, and bulk messages
(群发): the form, the preview with its recipient count and a sample, and sending.

Bulk messages are sent by client service and admins (any customer) and managers
(their team's customers), always to the customers the sender sees; a campaign is seen
by its creator and by client service and admins, and is a 404 to everyone else.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.errors import DomainError, add_domain_error
from crm.pagination import list_context

from ..forms.care import CampaignForm, CareMessageFilter, HolidayForm, MessageTemplateForm
from ..models import Campaign, CareMessage, Holiday, MessageTemplate
from ..services import campaigns, care

PAGE_SIZE = 25


def _require_care_role(user) -> None:
    if not care.manages_care(user):
        raise PermissionDenied


def _require_bulk_role(user) -> None:
    if not campaigns.may_send_bulk(user):
        raise PermissionDenied


# -- Templates ------------------------------------------------------------------------------


@login_required
@require_GET
def template_list(request):
    templates = MessageTemplate.objects.visible_to(request.user)
    return render(
        request,
        "care/template_list.html",
        {"templates": templates, "can_edit": care.manages_care(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk: int | None = None):
    _require_care_role(request.user)
    template = (
        MessageTemplate() if pk is None else get_object_or_404(MessageTemplate.objects.visible_to(request.user), pk=pk)
    )
    form = MessageTemplateForm(request.POST if request.method == "POST" else None, instance=template)
    if form.is_bound and form.is_valid():
        try:
            care.message_template_save(actor=request.user, template=form.save(commit=False))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Template %(name)s saved.") % {"name": template.name})
            return redirect("visits:template_list")
    sample = None
    if template.pk and not form.is_bound:
        # How the saved text reads for a made-up contact today.
        sample = care.render(template.body, day=timezone.localdate(), **care.SAMPLE_NAMES)
    return render(request, "care/template_form.html", {"form": form, "template": template, "sample": sample})


# -- Holidays -------------------------------------------------------------------------------


@login_required
@require_GET
def holiday_list(request):
    holidays = Holiday.objects.visible_to(request.user).select_related("template")
    return render(
        request,
        "care/holiday_list.html",
        {"holidays": holidays, "today": timezone.localdate(), "can_edit": care.manages_care(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def holiday_edit(request, pk: int | None = None):
    _require_care_role(request.user)
    holiday = Holiday() if pk is None else get_object_or_404(Holiday.objects.visible_to(request.user), pk=pk)
    form = HolidayForm(request.POST if request.method == "POST" else None, instance=holiday)
    if form.is_bound and form.is_valid():
        try:
            care.holiday_save(actor=request.user, holiday=form.save(commit=False))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Holiday %(name)s saved.") % {"name": holiday.name})
            return redirect("visits:holiday_list")
    return render(request, "care/holiday_form.html", {"form": form, "holiday": holiday})


@login_required
@require_POST
def holiday_delete(request, pk: int):
    _require_care_role(request.user)
    holiday = get_object_or_404(Holiday.objects.visible_to(request.user), pk=pk)
    care.holiday_delete(actor=request.user, holiday=holiday)
    messages.success(request, _("Holiday %(name)s deleted.") % {"name": holiday.name})
    return redirect("visits:holiday_list")


# -- Messages sent -----------------------------------------------------------------------------


@login_required
@require_GET
def care_message_list(request):
    messages_sent = CareMessage.objects.visible_to(request.user).select_related("customer", "contact", "campaign")
    filterset = CareMessageFilter(request.GET, queryset=messages_sent, request=request)
    return render(request, "care/message_list.html", list_context(request, filterset, PAGE_SIZE))


# -- Bulk messages ------------------------------------------------------------------------------


def _campaign_for_user(user, pk: int) -> Campaign:
    return get_object_or_404(Campaign.objects.visible_to(user).select_related("template", "created_by"), pk=pk)


@login_required
@require_GET
def campaign_list(request):
    _require_bulk_role(request.user)
    rows = Campaign.objects.visible_to(request.user).select_related("template", "created_by")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "care/campaign_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request, pk: int | None = None):
    """A new bulk message, or a draft changed; saving leads to its preview."""
    campaign = Campaign() if pk is None else _campaign_for_user(request.user, pk)
    _require_bulk_role(request.user)
    if campaign.pk and campaign.status != Campaign.Status.DRAFT:
        messages.info(request, str(campaigns.ERR_NOT_DRAFT))
        return redirect(campaign)
    if request.method == "POST":
        form = CampaignForm(request.POST, user=request.user)
    else:
        form = CampaignForm(initial=CampaignForm.initial_for(campaign) if campaign.pk else None, user=request.user)
    if form.is_bound and form.is_valid():
        try:
            campaign = campaigns.campaign_save(
                actor=request.user,
                campaign=campaign,
                name=form.cleaned_data["name"],
                template=form.cleaned_data["template"],
                selection=form.selection(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect(campaign)
    return render(request, "care/campaign_form.html", {"form": form, "campaign": campaign})


@login_required
@require_GET
def campaign_detail(request, pk: int):
    """A draft's preview (who receives it and how it reads) or a sent campaign's result."""
    campaign = _campaign_for_user(request.user, pk)
    _require_bulk_role(request.user)
    selection = campaigns.Selection.from_criteria(campaign.criteria)
    context = {
        "campaign": campaign,
        "criteria": campaigns.selection_labels(selection),
        "inline_limit": campaigns.INLINE_LIMIT,
    }
    if campaign.status == Campaign.Status.DRAFT:
        context["preview"] = campaigns.campaign_preview(campaign=campaign)
    return render(request, "care/campaign_detail.html", context)


@login_required
@require_POST
def campaign_send(request, pk: int):
    campaign = _campaign_for_user(request.user, pk)
    _require_bulk_role(request.user)
    try:
        campaign = campaigns.campaign_send(actor=request.user, campaign=campaign)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        if campaign.status == Campaign.Status.SENT:
            messages.success(
                request,
                _("Sent to %(sent)d of %(recipients)d recipients.")
                % {"sent": campaign.sent, "recipients": campaign.recipients},
            )
        else:
            messages.success(
                request,
                _("Sending to %(recipients)d recipients in the background; this page shows the progress.")
                % {"recipients": campaign.recipients},
            )
    return redirect(campaign)
