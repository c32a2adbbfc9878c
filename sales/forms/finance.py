"""Forms of the finance pages: the payment form, the payment list's filters and the
receivables page's filters and period. They validate input; the views hand cleaned
values to sales.services (writes) and sales.receivables (figures)."""

import datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Region, Team, User
from customers.forms import ISO_DATE, ArchiveModelForm
from customers.models import Customer
from sales import receivables
from sales.models import Order, Payment

# A payment form lists this many customers matching the search, not all of them.
CUSTOMER_CHOICES = 20
OLDEST_FIRST, CHOSEN_ORDERS = "oldest", "chosen"


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format=ISO_DATE)


def customer_label(customer: Customer) -> str:
    return f"{customer.name} · {customer.code}"


def open_orders_of(customer_id: int):
    """A customer's orders with money outstanding, oldest due first (the order a payment pays them)."""
    return receivables.open_items(Order.objects.filter(customer_id=customer_id), timezone.localdate()).order_by(
        "due_date", "order_date", "id"
    )


class PaymentForm(ArchiveModelForm):
    """Money received from a customer, paid into its oldest orders or the chosen ones.

    The customer list is not rendered whole (finance sees every customer): the select
    holds the chosen customer or the matches of a search, while validation accepts any
    customer the user sees.
    """

    allocation = forms.ChoiceField(
        label=_("Allocate to"),
        choices=[(OLDEST_FIRST, _("Oldest open orders first")), (CHOSEN_ORDERS, _("The orders ticked below"))],
        initial=OLDEST_FIRST,
        widget=forms.RadioSelect,
    )
    orders = forms.ModelMultipleChoiceField(
        Order.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Open orders"),
        help_text=_("Paid in the order listed; what is left stays as the customer's prepayment."),
    )

    class Meta:
        model = Payment
        fields = ["customer", "date", "amount", "method", "reference", "notes"]

    def __init__(self, *args, user: User, customer_options=(), **kwargs):
        super().__init__(*args, user=user, **kwargs)
        field = self.fields["customer"]
        field.queryset = Customer.objects.visible_to(user)
        field.label_from_instance = customer_label
        field.empty_label = None if customer_options else _("Search for the customer first")
        field.widget.choices = [(c.pk, customer_label(c)) for c in customer_options] or [("", field.empty_label)]
        self.customer_id = self._chosen_customer_id()
        if self.customer_id is not None:
            self.fields["orders"].queryset = open_orders_of(self.customer_id)
        self.fields["orders"].label_from_instance = self.order_label

    def _chosen_customer_id(self) -> int | None:
        raw = self.data.get(self.add_prefix("customer")) if self.is_bound else self.initial.get("customer")
        raw = getattr(raw, "pk", raw)
        try:
            return int(raw)
        except (TypeError, ValueError):
            return None

    @staticmethod
    def order_label(order: Order) -> str:
        due = order.due_date.isoformat() if order.due_date else "—"
        return _("%(number)s · ordered %(date)s · due %(due)s · outstanding %(amount)s") % {
            "number": order.number,
            "date": order.order_date.isoformat(),
            "due": due,
            "amount": f"{order.outstanding_amount:,.2f}",
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("allocation") == CHOSEN_ORDERS and not cleaned.get("orders") and "orders" not in self.errors:
            self.add_error("orders", _("Tick the orders this payment pays, or allocate to the oldest first."))
        return cleaned

    def order_ids(self) -> list[int] | None:
        """The chosen orders, oldest first; None to let the service pay the oldest first."""
        if self.cleaned_data["allocation"] != CHOSEN_ORDERS:
            return None
        return [order.pk for order in self.cleaned_data["orders"]]


class PaymentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_customer_search", label=_("Customer"))
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput)
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"), widget=date_input())
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("To"), widget=date_input())
    method = django_filters.ChoiceFilter(choices=Payment.Method.choices, label=_("Method"))
    unallocated = django_filters.BooleanFilter(
        method="filter_unallocated", label=_("Unallocated only"), widget=forms.CheckboxInput
    )

    class Meta:
        model = Payment
        fields: list[str] = []

    def filter_owners(self, queryset, name, value):
        """Orders of the customers owned by the region's, team's or one rep: a semi-join
        on those customers, which uses the unpaid-orders index by customer, where a join
        through owner, team and region makes PostgreSQL read every open order."""
        if name == "region":
            owner_ids = list(User.objects.filter(team__region=value).values_list("pk", flat=True))
        elif name == "team":
            owner_ids = list(User.objects.filter(team=value).values_list("pk", flat=True))
        else:
            owner_ids = [value.pk]
        return queryset.filter(customer__in=Customer.objects.filter(owner_id__in=owner_ids).values("pk"))

    def filter_customer_search(self, queryset, name, value):
        return queryset.filter(customer__in=Customer.objects.search(value))

    def filter_unallocated(self, queryset, name, value):
        return queryset.filter(unallocated__gt=0) if value else queryset


class ReceivableFilter(django_filters.FilterSet):
    """Filters of the receivables page and its export, on orders already scoped to the user
    (and, but for the age, on the stored per-customer figures: `without_age`).

    Region, team and rep are those of the customer's owner. The choices offered are
    those the user can see: a manager's team and region, a rep's own.
    """

    q = django_filters.CharFilter(method="filter_customer_search", label=_("Customer"))
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput)
    region = django_filters.ModelChoiceFilter(queryset=Region.objects.none(), method="filter_owners", label=_("Region"))
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.none(), method="filter_owners", label=_("Team"))
    rep = django_filters.ModelChoiceFilter(queryset=User.objects.none(), method="filter_owners", label=_("Rep"))
    bucket = django_filters.ChoiceFilter(choices=receivables.BUCKETS, method="filter_bucket", label=_("Age"))

    class Meta:
        model = Order
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, today: datetime.date):
        super().__init__(data, queryset, request=request)
        self.today = today
        user = request.user
        regions, teams, reps = Region.objects.all(), Team.objects.all(), User.objects.filter(role=User.Role.REP)
        if not user.sees_all_customers:
            teams = teams.filter(pk=user.team_id)
            regions = regions.filter(teams__pk=user.team_id)
            reps = reps.filter(team_id=user.team_id) if user.is_manager else reps.filter(pk=user.pk)
        self.filters["region"].queryset = regions
        self.filters["team"].queryset = teams
        self.filters["rep"].queryset = reps.order_by("last_name", "first_name")
        self._owner_ids = {}

    def age(self) -> str | None:
        """The age bucket chosen, if any and valid."""
        self.errors  # noqa: B018 -- validates the form once
        return self.form.cleaned_data.get("bucket") or None

    def without_age(self, queryset):
        """`queryset` (orders, or anything else with a customer: the stored figures)
        narrowed by every valid filter but the age, which is about what is still owed."""
        self.errors  # noqa: B018 -- validates the form once
        for name, value in self.form.cleaned_data.items():
            if name != "bucket":
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_owners(self, queryset, name, value):
        """Orders of the customers owned by the region's, team's or one rep: a semi-join
        on those customers, which uses the unpaid-orders index by customer, where a join
        through owner, team and region makes PostgreSQL read every open order. The
        owners are read once, however many querysets the filter narrows."""
        if name not in self._owner_ids:
            if name == "region":
                owner_ids = list(User.objects.filter(team__region=value).values_list("pk", flat=True))
            elif name == "team":
                owner_ids = list(User.objects.filter(team=value).values_list("pk", flat=True))
            else:
                owner_ids = [value.pk]
            self._owner_ids[name] = owner_ids
        return queryset.filter(customer__in=Customer.objects.filter(owner_id__in=self._owner_ids[name]).values("pk"))

    def filter_customer_search(self, queryset, name, value):
        return queryset.filter(customer__in=Customer.objects.search(value))

    def filter_bucket(self, queryset, name, value):
        return receivables.in_bucket(queryset, value, self.today)


class PeriodForm(forms.Form):
    """The period of the second collection rate (the first is always the current month)."""

    period_from = forms.DateField(label=_("Collection rate from"), required=False, widget=date_input())
    period_to = forms.DateField(label=_("to"), required=False, widget=date_input())

    def period(self, today: datetime.date) -> tuple[datetime.date, datetime.date]:
        """The chosen period, by default the year to date."""
        start, end = today.replace(month=1, day=1), today
        if self.is_valid():
            start = self.cleaned_data["period_from"] or start
            end = self.cleaned_data["period_to"] or end
        return (start, end) if start <= end else (end, start)
