"""Forms of the visit pages: planning (and assigning) a visit, cancelling a plan,
checking in (with the hidden location fields static/js/visits.js fills in), the visit
log with its photos, the lists' filters and the frequency standards. They validate
input; the views hand cleaned values to visits.services."""

import datetime

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Team, User
from customers.forms import ISO_DATE
from customers.models import Contact, Customer

from ..models import CustomerVisits, Visit, VisitFrequency, VisitLevel, VisitPlan
from ..services import plans as plan_services
from ..services import visits as visit_services

# A select of customers lists at most this many; anyone who edits more customers than
# that starts from the customer's page (?customer=<id>).
CUSTOMER_CHOICES = 300


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format=ISO_DATE)


def customer_label(customer: Customer) -> str:
    return f"{customer.name} · {customer.code}"


def _int_or_none(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def customer_choice_field(field: forms.ModelChoiceField, user: User, customer: Customer | None, data) -> None:
    """The customers `user` may change, as a select of at most CUSTOMER_CHOICES (the given
    customer alone when there is one); validation accepts any of them."""
    customers = Customer.objects.editable_by(user)
    field.queryset = customers
    field.label_from_instance = customer_label
    if customer is not None:
        field.initial = customer.pk
        field.widget.choices = [(customer.pk, customer_label(customer))]
        return
    options = list(customers.only("pk", "name", "code").order_by("name", "pk")[:CUSTOMER_CHOICES])
    chosen = _int_or_none(data.get("customer")) if data else None
    if chosen and chosen not in {c.pk for c in options}:
        options = [*customers.filter(pk=chosen).only("pk", "name", "code"), *options]
    field.widget.choices = [("", "---------"), *((c.pk, customer_label(c)) for c in options)]


# -- Plans ------------------------------------------------------------------------------------


class PlanForm(forms.Form):
    """A plan: the customer (when new), the rep (only for those who assign), when, the
    level and what for."""

    customer = forms.ModelChoiceField(Customer.objects.none(), label=_("Customer"))
    rep = forms.ModelChoiceField(User.objects.none(), label=_("Sales rep"))
    planned_date = forms.DateField(label=_("Date"), widget=date_input())
    planned_time = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    level = forms.ChoiceField(label=_("Level"), choices=VisitLevel.choices, initial=VisitLevel.BUSINESS)
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    project = forms.CharField(label=_("Project"), max_length=100, required=False)

    def __init__(self, *args, user: User, customer: Customer | None = None, plan: VisitPlan | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if plan is not None:
            del self.fields["customer"]
        else:
            customer_choice_field(self.fields["customer"], user, customer, self.data)
        reps = plan_services.assignable_reps(user)
        if plan is not None:
            # Whoever may change the plan may keep its rep (client service rescheduling).
            reps = reps | User.objects.filter(pk=plan.rep_id)
        reps = reps.order_by("last_name", "first_name", "username")
        self.fields["rep"].queryset = reps
        self.fields["rep"].initial = plan.rep_id if plan is not None else user.pk
        self.assigns = user.is_admin_role or user.is_manager
        if not self.assigns:
            self.fields["rep"].widget = forms.HiddenInput()


class PlanCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=200)


# -- Check-in and the log ---------------------------------------------------------------------


class LocationForm(forms.Form):
    """Where the browser says the rep is, filled in by static/js/visits.js when the rep
    taps "Check in" and allows it; empty when they do not."""

    latitude = forms.DecimalField(
        required=False, min_value=-90, max_value=90, max_digits=12, decimal_places=9, widget=forms.HiddenInput
    )
    longitude = forms.DecimalField(
        required=False, min_value=-180, max_value=180, max_digits=13, decimal_places=9, widget=forms.HiddenInput
    )
    accuracy = forms.DecimalField(required=False, min_value=0, max_value=10**7, widget=forms.HiddenInput)

    def location(self) -> "visit_services.Location | None":
        data = self.cleaned_data
        if data.get("latitude") is None or data.get("longitude") is None:
            return None
        accuracy = data.get("accuracy")
        return visit_services.Location(
            latitude=data["latitude"],
            longitude=data["longitude"],
            accuracy_m=round(accuracy) if accuracy is not None else None,
        )


class CheckInForm(LocationForm):
    """An ad hoc visit: the customer and the level."""

    customer = forms.ModelChoiceField(Customer.objects.none(), label=_("Customer"))
    level = forms.ChoiceField(label=_("Level"), choices=VisitLevel.choices, initial=VisitLevel.BUSINESS)

    field_order = ["customer", "level"]

    def __init__(self, *args, user: User, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        customer_choice_field(self.fields["customer"], user, customer, self.data)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input (Django's recipe); each is checked by the service."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(required=False, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class VisitLogForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), choices=VisitLevel.choices)
    contacts = forms.ModelMultipleChoiceField(
        Contact.objects.none(), label=_("Contacts met"), required=False, widget=forms.CheckboxSelectMultiple
    )
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    needs = forms.CharField(label=_("Customer needs"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    problems = forms.CharField(label=_("Problems found"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.CharField(label=_("Agreed next step"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    follow_up_date = forms.DateField(
        label=_("Follow-up date"),
        required=False,
        widget=date_input(),
        help_text=_("With a next step, this makes the follow-up plan."),
    )
    photos = PhotosField(label=_("Add photos"))

    def __init__(self, *args, visit: Visit, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "level": visit.level,
                "contacts": [c.pk for c in visit.contacts.all()],
                **{f: getattr(visit, f) for f in ("summary", "needs", "problems", "next_step", "follow_up_date")},
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = Contact.objects.filter(customer_id=visit.customer_id)
        remaining = max(0, visit_services.MAX_PHOTOS - len(visit.photos.all()))
        self.fields["photos"].help_text = _("Up to %(count)d more; stored at most %(px)d pixels wide.") % {
            "count": remaining,
            "px": visit_services.PHOTO_MAX_SIDE,
        }
        self.visit = visit

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if any(getattr(p, "size", 0) > settings.UPLOAD_MAX_BYTES for p in photos):
            raise forms.ValidationError(visit_services.ERR_PHOTO_TOO_LARGE % {"mb": settings.UPLOAD_MAX_BYTES // 2**20})
        return photos

    def log(self) -> dict:
        data = self.cleaned_data
        return {f: data[f] for f in visit_services.LOG_FIELDS}


# -- List filters -----------------------------------------------------------------------------


def _rep_choices(user: User):
    """The reps a user can filter by: their team for a manager, everyone for the back office."""
    users = User.objects.filter(is_active=True).exclude(role=User.Role.FINANCE)
    if user.sees_all_customers:
        return users
    if user.is_manager and user.team_id:
        return users.filter(team_id=user.team_id)
    return users.filter(pk=user.pk)


class RepFilterMixin(django_filters.FilterSet):
    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self.filters[self.rep_filter].queryset = _rep_choices(user).order_by("last_name", "first_name")

    def filter_customer_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(customer__in=Customer.objects.search(value).values("pk")) | Q(customer__code__startswith=value.upper())
        )


class PlanFilter(RepFilterMixin):
    """Query parameters: q (the customer's name or code), rep, date_from, date_to, level,
    status, follow_up (yes: only follow-up plans)."""

    rep_filter = "rep"
    q = django_filters.CharFilter(method="filter_customer_search", label=_("Customer"))
    rep = django_filters.ModelChoiceFilter(queryset=User.objects.none(), label=_("Sales rep"))
    date_from = django_filters.DateFilter(
        field_name="planned_date", lookup_expr="gte", label=_("From"), widget=date_input()
    )
    date_to = django_filters.DateFilter(
        field_name="planned_date", lookup_expr="lte", label=_("To"), widget=date_input()
    )
    level = django_filters.ChoiceFilter(choices=VisitLevel.choices, label=_("Level"))
    status = django_filters.ChoiceFilter(choices=VisitPlan.Status.choices, label=_("Status"))

    class Meta:
        model = VisitPlan
        fields: list[str] = []


class VisitStatus:
    OPEN = "open"
    DONE = "checked_out"
    CHOICES = [(OPEN, _("Checked in, not yet out")), (DONE, _("Checked out"))]


class VisitFilter(RepFilterMixin):
    """Query parameters: q (the customer's name or code), rep, date_from, date_to, level,
    status (open / checked_out), planned (yes / no: from a plan or ad hoc)."""

    rep_filter = "rep"
    q = django_filters.CharFilter(method="filter_customer_search", label=_("Customer"))
    rep = django_filters.ModelChoiceFilter(queryset=User.objects.none(), label=_("Sales rep"))
    date_from = django_filters.DateFilter(
        field_name="visit_date", lookup_expr="gte", label=_("From"), widget=date_input()
    )
    date_to = django_filters.DateFilter(field_name="visit_date", lookup_expr="lte", label=_("To"), widget=date_input())
    level = django_filters.ChoiceFilter(choices=VisitLevel.choices, label=_("Level"))
    status = django_filters.ChoiceFilter(choices=VisitStatus.CHOICES, method="filter_status", label=_("Status"))

    class Meta:
        model = Visit
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        return queryset.filter(checked_out_at__isnull=value == VisitStatus.OPEN)


class OverdueFilter(RepFilterMixin):
    """Query parameters: q (the customer's name or code), owner (the customer's rep),
    type (customer type)."""

    rep_filter = "owner"
    q = django_filters.CharFilter(method="filter_customer_search", label=_("Customer"))
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), field_name="customer__owner", label=_("Owner rep")
    )
    type = django_filters.ChoiceFilter(field_name="customer__type", choices=Customer.Type.choices, label=_("Type"))

    class Meta:
        model = CustomerVisits
        fields: list[str] = []


# -- The calendars ------------------------------------------------------------------------------


class TeamChoiceForm(forms.Form):
    team = forms.ModelChoiceField(Team.objects.all(), label=_("Team"), required=False)


def parse_week(value: str | None, today: datetime.date) -> datetime.date:
    """The Monday of the week holding the ISO date `value` (today's week when absent or bad)."""
    try:
        day = datetime.date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    return day - datetime.timedelta(days=day.weekday())


# -- Frequency standards --------------------------------------------------------------------------


class FrequencyForm(forms.ModelForm):
    class Meta:
        model = VisitFrequency
        fields = ["customer_type", "interval_days", "note"]
