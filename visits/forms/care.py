"""Forms of customer care: message templates, holidays, the bulk-message form, and the
filters of the list of messages sent. They validate input; visits.services.care and
visits.services.campaigns do the writing (and check the placeholders)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Region, User
from customers.forms import ArchiveModelForm
from customers.models import Customer, Tag

from ..models import CareMessage, Holiday, MessageTemplate
from ..models.care import Channel
from ..services.campaigns import Selection
from .communications import date_input

PLACEHOLDER_HELP = _(
    "Placeholders: {customer} the customer's name, {contact} the contact's name, {date} the day "
    "(e.g. 2月17日), {holiday} the holiday's name (holiday templates only)."
)


class MessageTemplateForm(ArchiveModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["name", "occasion", "channel", "subject", "body", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = PLACEHOLDER_HELP
        self.fields["body"].widget.attrs["rows"] = 5
        self.fields["subject"].help_text = _("For e-mail; placeholders work here too.")


class HolidayForm(ArchiveModelForm):
    class Meta:
        model = Holiday
        fields = ["name", "date", "template"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        template = self.fields["template"]
        # Active holiday templates, and the one the holiday has now even if since retired.
        template.queryset = MessageTemplate.objects.filter(occasion=MessageTemplate.Occasion.HOLIDAY).filter(
            Q(active=True) | Q(pk=self.instance.template_id)
        )
        template.required = False
        template.empty_label = _("(no greeting)")
        template.help_text = _(
            "Sent on the day to the main contact of every customer who has not opted out; "
            "lunar holidays move, so enter each year's date."
        )


class CampaignForm(forms.Form):
    """A bulk message: its name, the template, and the selection of customers, offered
    from what the user sees (a manager picks among their team's reps)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    template = forms.ModelChoiceField(MessageTemplate.objects.none(), label=_("Template"))
    region = forms.ModelChoiceField(Region.objects.none(), label=_("Region"), required=False, empty_label=_("Any"))
    customer_type = forms.ChoiceField(label=_("Customer type"), required=False)
    tag = forms.ModelChoiceField(Tag.objects.all(), label=_("Tag"), required=False, empty_label=_("Any"))
    owner = forms.ModelChoiceField(User.objects.none(), label=_("Owner rep"), required=False, empty_label=_("Any"))
    primary_only = forms.BooleanField(
        label=_("Main contacts only"),
        required=False,
        initial=True,
        help_text=_("Untick to message every contact of each customer."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = MessageTemplate.objects.filter(
            occasion=MessageTemplate.Occasion.BULK, active=True
        )
        self.fields["customer_type"].choices = [("", _("Any")), *Customer.Type.choices]
        regions, reps = Region.objects.all(), User.objects.filter(role=User.Role.REP, is_active=True)
        if not user.sees_all_customers:
            regions = regions.filter(teams__pk=user.team_id)
            reps = reps.filter(team_id=user.team_id)
        self.fields["region"].queryset = regions
        self.fields["owner"].queryset = reps.order_by("last_name", "first_name", "username")

    @classmethod
    def initial_for(cls, campaign) -> dict:
        selection = Selection.from_criteria(campaign.criteria)
        return {
            "name": campaign.name,
            "template": campaign.template_id,
            "region": selection.region_id,
            "customer_type": selection.customer_type,
            "tag": selection.tag_id,
            "owner": selection.owner_id,
            "primary_only": selection.primary_only,
        }

    def selection(self) -> Selection:
        data = self.cleaned_data
        return Selection(
            region_id=data["region"].pk if data["region"] else None,
            customer_type=data["customer_type"],
            tag_id=data["tag"].pk if data["tag"] else None,
            owner_id=data["owner"].pk if data["owner"] else None,
            primary_only=data["primary_only"],
        )


OCCASION_KINDS = [
    ("birthday", _("Birthday")),
    ("holiday", _("Holiday")),
    ("campaign", _("Bulk message")),
]


class CareMessageFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_customer_search", label=_("Customer"))
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput, label=_("Customer id"))
    campaign = django_filters.NumberFilter(
        field_name="campaign_id", widget=forms.HiddenInput, label=_("Bulk message id")
    )
    occasion = django_filters.ChoiceFilter(choices=OCCASION_KINDS, method="filter_occasion", label=_("Occasion"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    status = django_filters.ChoiceFilter(choices=CareMessage.Status.choices, label=_("Status"))
    date_from = django_filters.DateFilter(
        field_name="sent_at__date", lookup_expr="gte", label=_("From"), widget=date_input()
    )
    date_to = django_filters.DateFilter(
        field_name="sent_at__date", lookup_expr="lte", label=_("To"), widget=date_input()
    )

    class Meta:
        model = CareMessage
        fields: list[str] = []

    def filter_customer_search(self, queryset, name, value):
        return queryset.filter(customer__in=Customer.objects.search(value))

    def filter_occasion(self, queryset, name, value):
        return queryset.filter(occasion__startswith=f"{value}:")
