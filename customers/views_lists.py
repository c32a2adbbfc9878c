"""The contact list, and the exports of the customer and contact lists (crm.exports).

Each export reads the rows of its list page: the same FilterSet, built by the same
function from the same query string, on what the user sees (contacts follow their
customer's visibility).
"""

from django.contrib.auth.decorators import login_required
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.shortcuts import render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from crm import exports
from crm.exports import DATE, DATETIME, DECIMAL, INTEGER, MONEY, YES_NO, Column, person
from crm.pagination import list_context

from . import custom_fields
from .filters import ContactFilter
from .models import Contact, Customer, CustomField, Tag
from .validators import PROVINCES
from .views import PAGE_SIZE, customer_filterset

# -- Customers ------------------------------------------------------------------------------

CUSTOMER_COLUMNS = [
    Column(gettext_lazy("Code"), "code"),
    Column(gettext_lazy("Name"), "name"),
    Column(gettext_lazy("Type"), "type", choices=Customer.Type.choices),
    Column(gettext_lazy("Industry"), "industry", choices=Customer.Industry.choices),
    Column(gettext_lazy("Province"), "province", choices=PROVINCES),
    Column(gettext_lazy("City"), "city"),
    Column(gettext_lazy("Address"), "address"),
    Column(gettext_lazy("Mobile"), "phone"),
    Column(gettext_lazy("Unified social credit code"), "credit_code"),
    person(gettext_lazy("Owner rep"), "owner"),
    Column(gettext_lazy("Status"), "status", choices=Customer.Status.choices),
    Column(gettext_lazy("Cooperation since"), "cooperation_start", DATE),
    Column(gettext_lazy("Payment term (days)"), "payment_term_days", INTEGER),
    Column(gettext_lazy("Tags"), "tag_names", value=lambda row: "、".join(row["tag_names"] or ())),
    Column(gettext_lazy("Completeness"), "completeness", INTEGER),
    # The stored sales figures the list filters and sorts on (sales.models.CustomerSales).
    Column(gettext_lazy("First order"), "sales__first_order_date", DATE),
    Column(gettext_lazy("Last order"), "sales__last_order_date", DATE),
    Column(gettext_lazy("Orders in 12 months"), "sales__orders_12m", INTEGER),
    Column(gettext_lazy("12-month amount"), "sales__amount_12m", MONEY),
    Column(gettext_lazy("Receivable"), "sales__receivable", MONEY),
    Column(gettext_lazy("Overdue"), "sales__overdue", MONEY),
    Column(gettext_lazy("Prepayment"), "sales__prepayment", MONEY),
    Column(gettext_lazy("Sales figures as of"), "sales__refreshed_on", DATE),
    Column(gettext_lazy("Last updated"), "updated_at", DATETIME),
]


def custom_field_column(definition: CustomField) -> Column:
    """An admin-defined field's column: numbers and dates as such, the rest as text."""
    key = definition.key

    def stored(row):
        return (row["custom_fields"] or {}).get(key)

    if definition.kind == CustomField.Kind.NUMBER:
        return Column(definition.label, value=stored, needs=("custom_fields",), kind=DECIMAL)
    if definition.kind == CustomField.Kind.DATE:
        return Column(
            definition.label, value=lambda row: parse_date(stored(row) or ""), needs=("custom_fields",), kind=DATE
        )
    return Column(
        definition.label,
        value=lambda row: custom_fields.display_value(definition, stored(row)),
        needs=("custom_fields",),
    )


@login_required
@require_GET
def customer_export(request):
    filterset = customer_filterset(request)
    tags = Tag.objects.filter(customers=OuterRef("pk")).order_by("name").values("name")
    customers = filterset.qs.annotate(tag_names=ArraySubquery(tags))
    # The filter set has read the active custom fields already (one query for both).
    columns = CUSTOMER_COLUMNS + [custom_field_column(d) for d in filterset.custom_definitions]
    return exports.export_list(request, customers, columns, filename="customers", title=_("Customers"))


# -- Contacts -------------------------------------------------------------------------------

CONTACT_COLUMNS = [
    Column(gettext_lazy("Customer code"), "customer__code"),
    Column(gettext_lazy("Customer"), "customer__name"),
    Column(gettext_lazy("Name"), "name"),
    Column(gettext_lazy("Role"), "role", choices=Contact.Role.choices),
    Column(gettext_lazy("Job title"), "title"),
    Column(gettext_lazy("Mobile"), "mobile"),
    Column(gettext_lazy("Other phone"), "phone"),
    Column(gettext_lazy("WeChat"), "wechat"),
    Column(gettext_lazy("E-mail"), "email"),
    Column(gettext_lazy("Main contact"), "is_primary", YES_NO),
    Column(gettext_lazy("No marketing messages"), "opted_out", YES_NO),
    person(gettext_lazy("Owner rep"), "customer__owner"),
]


def contact_filterset(request) -> ContactFilter:
    """The contact list's FilterSet on the contacts of the customers the user sees,
    bound to the query string: the list page and its export both read `.qs` from here."""
    contacts = (
        Contact.objects.visible_to(request.user)
        .select_related("customer")
        .order_by("customer__name", "customer_id", "-is_primary", "name", "id")
    )
    return ContactFilter(request.GET, queryset=contacts, request=request)


@login_required
@require_GET
def contact_list(request):
    return render(request, "customers/contact_list.html", list_context(request, contact_filterset(request), PAGE_SIZE))


@login_required
@require_GET
def contact_export(request):
    filterset = contact_filterset(request)
    return exports.export_list(request, filterset.qs, CONTACT_COLUMNS, filename="contacts", title=_("Contacts"))
