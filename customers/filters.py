"""The customer list's and the contact list's search, filters and sorting, shared by
the list pages, the API and exports, so a filter means the same thing everywhere.

Query parameters: q, province, city, type, industry, owner, status, tag, completeness
(low / medium / high), completeness_min, completeness_max, qualification (expired /
expiring), cf_<key> for each active custom field (cf_<key>_min / _max for numbers and
dates), last_order_from / last_order_to, amount_12m_min / amount_12m_max, overdue
(true / false), visits_overdue (true / false: past the next visit due date), and
ordering (name, code, updated_at, completeness, created_at, amount_12m,
last_order_date, first_order_date; "-" for descending).

Contacts (ContactFilter): q (the contact's name or mobile, or the customer's name or
code), role, opted_out (true / false).
"""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm.filters import YesNoFilter
from crm.models import User

from .models import Contact, Customer, CustomField, Tag
from .validators import PROVINCES

COMPLETENESS_BANDS = {"low": (0, 39), "medium": (40, 69), "high": (70, 100)}


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's, with the "(descending)" labels translated per request: its own
    are fixed in whichever language was active when the module was imported."""

    def build_choices(self, fields, labels):
        ascending = [(param, labels.get(field, param)) for field, param in fields.items()]
        descending = [(f"-{param}", format_lazy(_("{label} (descending)"), label=label)) for param, label in ascending]
        return [choice for pair in zip(ascending, descending, strict=True) for choice in pair]


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    province = django_filters.ChoiceFilter(choices=PROVINCES, label=_("Province"))
    city = django_filters.CharFilter(label=_("City"))
    type = django_filters.ChoiceFilter(choices=Customer.Type.choices, label=_("Type"))
    industry = django_filters.ChoiceFilter(choices=Customer.Industry.choices, label=_("Industry"))
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.none(), label=_("Owner rep"))
    status = django_filters.ChoiceFilter(choices=Customer.Status.choices, label=_("Status"))
    tag = django_filters.ModelChoiceFilter(queryset=Tag.objects.all(), field_name="tags", label=_("Tag"))
    completeness = django_filters.ChoiceFilter(
        choices=[("low", _("Low (<40)")), ("medium", _("Medium (40–69)")), ("high", _("High (≥70)"))],
        method="filter_completeness",
        label=_("Completeness"),
    )
    completeness_min = django_filters.NumberFilter(
        field_name="completeness", lookup_expr="gte", label=_("Completeness from")
    )
    completeness_max = django_filters.NumberFilter(
        field_name="completeness", lookup_expr="lte", label=_("Completeness to")
    )
    qualification = django_filters.ChoiceFilter(
        choices=[("expired", _("Expired documents")), ("expiring", _("Documents expiring soon"))],
        method="filter_qualification",
        label=_("Qualifications"),
    )
    last_order_from = django_filters.DateFilter(
        field_name="sales__last_order_date", lookup_expr="gte", label=_("Last order from")
    )
    last_order_to = django_filters.DateFilter(
        field_name="sales__last_order_date", lookup_expr="lte", label=_("Last order to")
    )
    amount_12m_min = django_filters.NumberFilter(
        field_name="sales__amount_12m", lookup_expr="gte", label=_("12-month amount from")
    )
    amount_12m_max = django_filters.NumberFilter(
        field_name="sales__amount_12m", lookup_expr="lte", label=_("12-month amount to")
    )
    overdue = YesNoFilter(method="filter_overdue", label=_("Has overdue receivables"))
    visits_overdue = YesNoFilter(method="filter_visits_overdue", label=_("Overdue for a visit"))
    ordering = OrderingFilter(
        fields=(
            "name",
            "code",
            "updated_at",
            "completeness",
            "created_at",
            ("sales__amount_12m", "amount_12m"),
            ("sales__last_order_date", "last_order_date"),
            ("sales__first_order_date", "first_order_date"),
        ),
        field_labels={
            "name": _("Name"),
            "code": _("Code"),
            "updated_at": _("Last updated"),
            "completeness": _("Completeness"),
            "created_at": _("Created"),
            "sales__amount_12m": _("12-month amount"),
            "sales__last_order_date": _("Last order"),
            "sales__first_order_date": _("First order"),
        },
        label=_("Sort by"),
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        owners = User.objects.filter(role=User.Role.REP)
        if user is not None and user.is_authenticated and not user.sees_all_customers:
            owners = owners.filter(team_id=user.team_id) if user.is_manager else owners.filter(pk=user.pk)
        self.filters["owner"].queryset = owners
        self.custom_definitions = list(CustomField.objects.filter(active=True))
        for definition in self.custom_definitions:
            self.filters.update(custom_field_filters(definition))

    def filter_search(self, queryset, name, value):
        return queryset.search(value)

    def filter_completeness(self, queryset, name, value):
        low, high = COMPLETENESS_BANDS[value]
        return queryset.filter(completeness__gte=low, completeness__lte=high)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(sales__overdue__gt=0) if value else queryset.exclude(sales__overdue__gt=0)

    def filter_visits_overdue(self, queryset, name, value):
        # The stored visit status (visits.services.cadence); no row yet means not due.
        if value is None:
            return queryset
        overdue = Q(visit_status__next_due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_qualification(self, queryset, name, value):
        if value == "expired":
            return queryset.with_expired_documents()
        return queryset.with_expiring_documents()


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    role = django_filters.ChoiceFilter(choices=Contact.Role.choices, label=_("Role"))
    opted_out = YesNoFilter(label=_("No marketing messages"))

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # The customer search index narrows the customers; its text also holds every
        # contact's name, so the name or code is checked again: a match on one contact
        # must not bring in the others of its customer.
        customers = Customer.objects.search(value).filter(Q(name__icontains=value) | Q(code__icontains=value))
        return queryset.filter(
            Q(name__icontains=value) | Q(mobile__contains=value) | Q(customer__in=customers.values("pk"))
        )


def custom_field_filters(definition: CustomField) -> dict:
    """Filters for one custom field, named cf_<key> (and _min/_max for ranges)."""
    key = definition.key
    path = f"custom_fields__{key}"
    name = f"cf_{key}"
    label = definition.label
    Kind = CustomField.Kind
    if definition.kind == Kind.TEXT:
        return {name: django_filters.CharFilter(field_name=path, lookup_expr="icontains", label=label)}
    if definition.kind in (Kind.CHOICE,):
        return {
            name: django_filters.ChoiceFilter(
                field_name=path, choices=[(c, c) for c in definition.choices], label=label
            )
        }
    if definition.kind == Kind.MULTI:
        return {
            name: django_filters.ChoiceFilter(
                choices=[(c, c) for c in definition.choices],
                method=lambda qs, _n, value, key=key: qs.filter(**{f"custom_fields__{key}__contains": [value]}),
                label=label,
            )
        }
    if definition.kind == Kind.NUMBER:
        return {
            name: django_filters.NumberFilter(field_name=path, label=label),
            f"{name}_min": django_filters.NumberFilter(field_name=path, lookup_expr="gte", label=label),
            f"{name}_max": django_filters.NumberFilter(field_name=path, lookup_expr="lte", label=label),
        }
    # Dates are stored as ISO strings, which compare in date order.
    date_widget = forms.DateInput(attrs={"type": "date"})
    return {
        f"{name}_min": django_filters.CharFilter(
            method=lambda qs, _n, v, key=key: qs.filter(**{f"custom_fields__{key}__gte": v}),
            label=label,
            widget=date_widget,
        ),
        f"{name}_max": django_filters.CharFilter(
            method=lambda qs, _n, v, key=key: qs.filter(**{f"custom_fields__{key}__lte": v}),
            label=label,
            widget=date_widget,
        ),
    }
