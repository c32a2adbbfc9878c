"""Forms of the order pages: the order list's filters, the order header, the order
lines (a formset: product and quantity, never a price), the price preview's input, the
targets page's month and the target form. They validate input; the views hand cleaned
values to sales.services (writes) and sales.selectors (figures)."""

import datetime
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Team, User
from customers.forms import ISO_DATE
from customers.models import Customer
from sales.models import Contract, Order, Product, SalesTarget
from sales.services import LineInput

# A select of customers lists at most this many; anyone who edits more customers than
# that starts the order from the customer's page (?customer=<id>).
CUSTOMER_CHOICES = 300
# Rows of an order form without JavaScript; "Add line" appends more with htmx.
EXTRA_LINES = 5
MAX_LINES = 100
MONTH_FORMAT = "%Y-%m"


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format=ISO_DATE)


def customer_label(customer: Customer) -> str:
    return f"{customer.name} · {customer.code}"


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


# -- The order list --------------------------------------------------------------------------


class OrderFilter(django_filters.FilterSet):
    """Query parameters: q (order number or customer name), status, date_from, date_to,
    customer (id), owner (the customer's rep)."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=Order.Status.choices, label=_("Status"))
    date_from = django_filters.DateFilter(
        field_name="order_date", lookup_expr="gte", label=_("Ordered from"), widget=date_input()
    )
    date_to = django_filters.DateFilter(
        field_name="order_date", lookup_expr="lte", label=_("Ordered to"), widget=date_input()
    )
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"), widget=forms.HiddenInput)
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), field_name="customer__owner", label=_("Owner rep")
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        owners = User.objects.filter(role=User.Role.REP)
        if user is not None and user.is_authenticated and not user.sees_all_customers:
            owners = owners.filter(team_id=user.team_id) if user.is_manager else owners.filter(pk=user.pk)
        self.filters["owner"].queryset = owners

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Order numbers are upper-case (DD202603000001); names go through the customer search index.
        return queryset.filter(
            Q(number__startswith=value.upper()) | Q(customer__in=Customer.objects.search(value).values("pk"))
        )


# -- The order form ----------------------------------------------------------------------------


class OrderForm(forms.Form):
    """The order's header. The customer select lists the given customer only, or the
    customers the user edits (at most CUSTOMER_CHOICES); validation accepts any of them."""

    customer = forms.ModelChoiceField(Customer.objects.none(), label=_("Customer"))
    order_date = forms.DateField(label=_("Order date"), widget=date_input())
    contract = forms.ModelChoiceField(
        Contract.objects.none(),
        required=False,
        label=_("Contract"),
        help_text=_("Optional: an active contract of the customer; its payment term applies."),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user: User, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        customers = Customer.objects.editable_by(user)
        field = self.fields["customer"]
        field.queryset = customers
        field.label_from_instance = customer_label
        self.customer_id = customer.pk if customer is not None else _int_or_none(self.data.get("customer"))
        if customer is not None:
            self.initial.setdefault("customer", customer.pk)
            field.widget.choices = [(customer.pk, customer_label(customer))]
        else:
            options = list(customers.only("pk", "name", "code").order_by("name", "pk")[:CUSTOMER_CHOICES])
            if self.customer_id and self.customer_id not in {c.pk for c in options}:
                # Posted back with a customer beyond the list: keep it selected.
                options = [*customers.filter(pk=self.customer_id).only("pk", "name", "code"), *options]
            field.widget.choices = [("", "---------"), *((c.pk, customer_label(c)) for c in options)]
        contracts = Contract.objects.visible_to(user).filter(status=Contract.Status.ACTIVE)
        self.fields["contract"].queryset = (
            contracts.filter(customer_id=self.customer_id) if self.customer_id else contracts.none()
        )


class OrderEditForm(forms.Form):
    """A draft order's notes; its customer, date and contract stay as created."""

    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OrderLineForm(forms.Form):
    """One line: product and quantity. The price comes from the list or a policy."""

    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"), localize=False
    )

    def __init__(self, *args, product_choices: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "---------"), *product_choices]
        self.fields["quantity"].widget.attrs.update({"inputmode": "decimal", "step": "any"})


class BaseOrderLineFormSet(forms.BaseFormSet):
    def lines(self) -> list[LineInput]:
        """The valid, filled rows as service input, products read in one query."""
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.is_valid() and form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        products = Product.objects.in_bulk([row["product"] for row in rows])
        return [LineInput(product=products[row["product"]], quantity=row["quantity"]) for row in rows]


def product_choices() -> list[tuple[int, str]]:
    """The active catalogue as select options, read once for every row of the form."""
    return [(p.pk, f"{p} ({p.unit})") for p in Product.objects.filter(active=True)]


def line_formset(data=None, *, initial=None, extra: int = EXTRA_LINES, choices=None):
    formset_class = forms.formset_factory(
        OrderLineForm,
        formset=BaseOrderLineFormSet,
        extra=extra,
        max_num=MAX_LINES,
        absolute_max=MAX_LINES,
        can_delete=True,
    )
    return formset_class(
        data,
        initial=initial,
        prefix="lines",
        form_kwargs={"product_choices": product_choices() if choices is None else choices},
    )


def line_form(index: int):
    """Row `index` of the lines formset, empty (the "Add line" button's answer)."""
    return OrderLineForm(
        prefix=f"lines-{index}", product_choices=product_choices(), empty_permitted=True, use_required_attribute=False
    )


class PricePreviewForm(forms.Form):
    customer = forms.ModelChoiceField(Customer.objects.none())
    order_date = forms.DateField()

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.editable_by(user)


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- Targets -----------------------------------------------------------------------------


class TargetFilterForm(forms.Form):
    """The targets page: the month (YYYY-MM, from <input type=month>) and, for those who
    see every rep, a team."""

    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=[MONTH_FORMAT],
        widget=forms.DateInput(attrs={"type": "month"}, format=MONTH_FORMAT),
    )
    team = forms.ModelChoiceField(Team.objects.all(), required=False, label=_("Team"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.sees_all_customers:
            del self.fields["team"]


class TargetForm(forms.ModelForm):
    class Meta:
        model = SalesTarget
        fields = ["order_target", "collection_target"]
