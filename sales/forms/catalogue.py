"""Forms and list filters of the catalogue pages: products, monthly sales policies,
contracts (购销合同) and after-sales requests (售后).

Forms validate and normalise input; the views hand the cleaned values to
sales.services (contracts, after-sales) or to their own audited helper (products,
policies). Rules that depend on several fields of one product (a veterinary drug needs
its approval number, a handset its model and memory) are checked here, with the error
at the field that is missing.
"""

import datetime
import os
from decimal import Decimal

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import YesNoFilter
from crm.models import User
from customers.models import Customer

from ..models import AfterSalesRequest, Contract, Order, PolicyItem, Product, SalesPolicy

ISO_DATE = "%Y-%m-%d"
CONTRACT_FILE_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "webp"]
EXPIRING_DAYS = 60
# Above this many choices a customer is picked by its code instead of from a list.
CUSTOMER_SELECT_LIMIT = 300

# Categories that are veterinary drugs under the 兽药 rules and so carry a 兽药批准文号;
# feed additives are registered differently.
VET_DRUG_CATEGORIES = {
    Product.Category.VACCINE,
    Product.Category.ANTIBIOTIC,
    Product.Category.TCM,
    Product.Category.DISINFECTANT,
}
CATEGORY_INDUSTRY = {
    **dict.fromkeys([*VET_DRUG_CATEGORIES, Product.Category.FEED_ADDITIVE], Customer.Industry.VET_DRUGS),
    Product.Category.HANDSET: Customer.Industry.HANDSETS,
    Product.Category.ACCESSORY: Customer.Industry.HANDSETS,
}

ERR_APPROVAL_NUMBER = _("A veterinary drug needs its approval number (兽药批准文号).")
ERR_HANDSET_MODEL = _("A handset needs its model.")
ERR_HANDSET_MEMORY = _("A handset needs its memory, e.g. 8GB+256GB.")
ERR_CATEGORY_INDUSTRY = _("%(category)s belong to the %(industry)s industry.")
ERR_SPEC = _("Enter the specification, e.g. 100ml/瓶.")
ERR_PERIOD = _("The end date cannot be before the start date.")
ERR_PRICE_OR_DISCOUNT = _("Enter either a special price or a discount, not both.")
ERR_DUPLICATE_PRODUCT = _("This product is listed twice.")
ERR_NO_CONTRACT_LINES = _("A contract needs at least one line.")
ERR_CUSTOMER_CODE = _("No customer you may choose has this code.")
ERR_ORDER_CUSTOMER = _("This order belongs to another customer.")
ERR_FILE_SIZE = _("The file is too large (at most %(mb)d MB).")


def _date_widgets(form) -> None:
    """Dates as <input type=date> (ISO whatever the language) and short text areas."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(attrs={"type": "date"}, format=ISO_DATE)
        elif isinstance(field.widget, forms.Textarea):
            field.widget.attrs["rows"] = 3


class CustomerCodeField(forms.ModelChoiceField):
    """A customer picked by its code, for users who may choose among thousands."""

    widget = forms.TextInput

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset, to_field_name="code", **kwargs)
        self.error_messages["invalid_choice"] = ERR_CUSTOMER_CODE
        self.widget.attrs.update(placeholder=_("Customer code"), autocomplete="off")

    def prepare_value(self, value):
        # Shown again after an error: the code typed, not the primary key.
        if isinstance(value, Customer):
            return value.code
        return super().prepare_value(value)


def customer_field(queryset) -> forms.Field:
    """A select of the customers in `queryset` when there are few (a rep's own), a code
    input when there are many (client service and admins choose among all)."""
    if queryset[: CUSTOMER_SELECT_LIMIT + 1].count() > CUSTOMER_SELECT_LIMIT:
        return CustomerCodeField(queryset, label=_("customer"), help_text=_("The customer code, e.g. KH000123."))
    return forms.ModelChoiceField(queryset.order_by("name"), label=_("customer"))


def _clean_upload(upload):
    if upload and getattr(upload, "size", 0) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(ERR_FILE_SIZE, code="file_too_large", params={"mb": settings.UPLOAD_MAX_BYTES // 2**20})
    if upload and hasattr(upload, "name"):
        upload.name = os.path.basename(upload.name)
    return upload


# -- Products -----------------------------------------------------------------------------


class ProductFilter(django_filters.FilterSet):
    """Query parameters: q (name, brand or approval number), category, industry, active."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    category = django_filters.ChoiceFilter(choices=Product.Category.choices, label=_("Category"))
    industry = django_filters.ChoiceFilter(choices=Customer.Industry.choices, label=_("Industry"))
    active = YesNoFilter(label=_("Active"))

    class Meta:
        model = Product
        fields = ["q", "category", "industry", "active"]

    def filter_search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(
                Q(name__icontains=term)
                | Q(brand__icontains=term)
                | Q(approval_number__icontains=term)
                | Q(model_name__icontains=term)
            )
        return queryset


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "name",
            "brand",
            "category",
            "industry",
            "spec",
            "unit",
            "list_price",
            "active",
            "approval_number",
            "prescription",
            "model_name",
            "colour",
            "memory",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A handset's spec is built from its model, colour and memory when left empty.
        self.fields["spec"].required = False

    def clean(self):
        cleaned = super().clean()
        category, industry = cleaned.get("category"), cleaned.get("industry")
        expected = CATEGORY_INDUSTRY.get(category)
        if expected and industry and industry != expected:
            self.add_error(
                "industry",
                ERR_CATEGORY_INDUSTRY
                % {"category": Product.Category(category).label, "industry": Customer.Industry(expected).label},
            )
        if category in VET_DRUG_CATEGORIES and not cleaned.get("approval_number"):
            self.add_error("approval_number", ERR_APPROVAL_NUMBER)
        if category == Product.Category.HANDSET:
            if not cleaned.get("model_name"):
                self.add_error("model_name", ERR_HANDSET_MODEL)
            if not cleaned.get("memory"):
                self.add_error("memory", ERR_HANDSET_MEMORY)
            if not cleaned.get("spec"):
                cleaned["spec"] = " ".join(v for v in (cleaned.get("memory"), cleaned.get("colour")) if v)
        if not cleaned.get("spec") and "spec" not in self.errors:
            self.add_error("spec", ERR_SPEC)
        return cleaned


# -- Sales policies -----------------------------------------------------------------------


class PolicyFilter(django_filters.FilterSet):
    """Query parameters: q (name), in_force (on today), active."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))
    in_force = YesNoFilter(method="filter_in_force", label=_("In force today"))
    active = YesNoFilter(label=_("Active"))

    class Meta:
        model = SalesPolicy
        fields = ["q", "in_force", "active"]

    def filter_in_force(self, queryset, name, value):
        in_force = SalesPolicy.objects.in_force(timezone.localdate()).values("pk")
        return queryset.filter(pk__in=in_force) if value else queryset.exclude(pk__in=in_force)


class PolicyForm(forms.ModelForm):
    customer_types = forms.MultipleChoiceField(
        choices=Customer.Type.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("eligible customer types"),
        help_text=_("Leave all unticked for every type."),
    )

    class Meta:
        model = SalesPolicy
        fields = ["name", "start", "end", "customer_types", "active", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _date_widgets(self)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            self.add_error("end", ERR_PERIOD)
        return cleaned


class PolicyItemForm(forms.ModelForm):
    class Meta:
        model = PolicyItem
        fields = ["product", "special_price", "discount_percent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.product_id
        self.fields["product"].queryset = Product.objects.filter(Q(active=True) | Q(pk=current))

    def clean(self):
        cleaned = super().clean()
        price, discount = cleaned.get("special_price"), cleaned.get("discount_percent")
        if cleaned.get("product") and (price is None) == (discount is None):
            self.add_error("special_price", ERR_PRICE_OR_DISCOUNT)
        return cleaned


class BasePolicyItemFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            product = form.cleaned_data.get("product")
            if product is None:
                continue
            if product.pk in seen:
                form.add_error("product", ERR_DUPLICATE_PRODUCT)
            seen.add(product.pk)


PolicyItemFormSet = forms.inlineformset_factory(
    SalesPolicy, PolicyItem, form=PolicyItemForm, formset=BasePolicyItemFormSet, extra=3, can_delete=True
)


# -- Contracts ----------------------------------------------------------------------------


class ContractFilter(django_filters.FilterSet):
    """Query parameters: q (contract number or customer name), status, kind, customer
    (id), expiring (active and ending within 60 days)."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=Contract.Status.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=Contract.Kind.choices, label=_("Kind"))
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput, label=_("Customer"))
    expiring = YesNoFilter(method="filter_expiring", label=_("Expiring within 60 days"))

    class Meta:
        model = Contract
        fields = ["q", "status", "kind", "customer", "expiring"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__icontains=value) | Q(customer__name__icontains=value))

    def filter_expiring(self, queryset, name, value):
        today = timezone.localdate()
        soon = {
            "status": Contract.Status.ACTIVE,
            "valid_to__gte": today,
            "valid_to__lte": today + datetime.timedelta(days=EXPIRING_DAYS),
        }
        return queryset.filter(**soon) if value else queryset.exclude(**soon)


class ContractForm(forms.ModelForm):
    """Every field of the standard 购销合同 template except its lines (a formset beside it).

    `customers` is the queryset the user may draft for; with a customer fixed (from the
    customer's page, or an existing contract) there is no customer field."""

    class Meta:
        model = Contract
        fields = [
            "customer",
            "kind",
            "signed_date",
            "valid_from",
            "valid_to",
            "payment_term_days",
            "quality_terms",
            "delivery_time",
            "delivery_place",
            "transport",
            "freight_payer",
            "acceptance_terms",
            "file",
        ]

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customers is None:
            del self.fields["customer"]
        else:
            self.fields["customer"] = customer_field(customers)
        _date_widgets(self)
        # A plain input: the clearable one links the file's public media URL, which is not served.
        self.fields["file"].widget = forms.FileInput()
        self.fields["file"].validators.append(FileExtensionValidator(CONTRACT_FILE_EXTENSIONS))
        self.fields["file"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in CONTRACT_FILE_EXTENSIONS)
        self.fields["file"].help_text = _("The signed and stamped copy: PDF or an image, at most %(mb)d MB.") % {
            "mb": settings.UPLOAD_MAX_BYTES // 2**20
        }

    def clean_file(self):
        return _clean_upload(self.cleaned_data.get("file"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", ERR_PERIOD)
        return cleaned


class ContractLineForm(forms.Form):
    product = forms.ModelChoiceField(Product.objects.none(), label=_("product"))
    quantity = forms.DecimalField(label=_("quantity"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    unit_price = forms.DecimalField(
        label=_("unit price"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=_("Empty: the list price."),
    )

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products if products is not None else Product.objects.filter(active=True)
        self.fields["product"].label_from_instance = lambda p: f"{p} · {p.unit}"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("product") and cleaned.get("unit_price") is None:
            cleaned["unit_price"] = cleaned["product"].list_price
        return cleaned


class BaseContractLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, products=None, **kwargs):
        self.products = products
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "products": self.products}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            products=self.products,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def clean(self):
        super().clean()
        filled = [f for f in self.forms if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")]
        if not any(f.cleaned_data.get("product") for f in filled):
            raise ValidationError(ERR_NO_CONTRACT_LINES)

    def line_values(self) -> list[dict]:
        return [
            f.cleaned_data
            for f in self.forms
            if getattr(f, "cleaned_data", None) and f.cleaned_data.get("product") and not f.cleaned_data.get("DELETE")
        ]


def contract_line_formset(*, data=None, initial=None, extra: int = 3, products=None):
    """The contract's lines: the current ones plus `extra` empty rows."""
    formset_class = forms.formset_factory(
        ContractLineForm, formset=BaseContractLineFormSet, extra=extra, can_delete=True
    )
    return formset_class(data, initial=initial, prefix="lines", products=products)


# -- After-sales --------------------------------------------------------------------------


def _assignees():
    """People who take care of a request: everyone active except finance."""
    return User.objects.filter(is_active=True).exclude(role=User.Role.FINANCE).order_by("last_name", "first_name")


class AfterSalesFilter(django_filters.FilterSet):
    """Query parameters: status, assignee (user id), customer (id)."""

    status = django_filters.ChoiceFilter(choices=AfterSalesRequest.Status.choices, label=_("Status"))
    assignee = django_filters.ModelChoiceFilter(queryset=User.objects.none(), label=_("Assignee"))
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput, label=_("Customer"))

    class Meta:
        model = AfterSalesRequest
        fields = ["status", "assignee", "customer"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["assignee"].queryset = _assignees()


class OrderNumberField(forms.ModelChoiceField):
    """An order picked by its number (a customer may have hundreds)."""

    widget = forms.TextInput

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset, to_field_name="number", **kwargs)
        self.widget.attrs.update(placeholder=_("e.g. DD202603000123"), autocomplete="off")

    def prepare_value(self, value):
        if isinstance(value, Order):
            return value.number
        return super().prepare_value(value)


class AfterSalesCreateForm(forms.ModelForm):
    class Meta:
        model = AfterSalesRequest
        fields = ["customer", "order", "product", "issue", "assignee"]

    def __init__(self, *args, customers=None, orders=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customers is None:
            del self.fields["customer"]
        else:
            self.fields["customer"] = customer_field(customers)
        self.fields["order"] = OrderNumberField(
            orders if orders is not None else Order.objects.none(), required=False, label=_("order")
        )
        self.fields["product"].queryset = Product.objects.filter(active=True)
        self.fields["assignee"].queryset = _assignees()
        self.fields["issue"].widget.attrs["rows"] = 4

    def clean(self):
        cleaned = super().clean()
        customer = cleaned.get("customer") or getattr(self.instance, "customer", None)
        order = cleaned.get("order")
        if order and customer and order.customer_id != customer.pk:
            self.add_error("order", ERR_ORDER_CUSTOMER)
        return cleaned


class AfterSalesEditForm(forms.ModelForm):
    class Meta:
        model = AfterSalesRequest
        fields = ["status", "assignee", "resolution"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _assignees()
        self.fields["resolution"].widget.attrs["rows"] = 4
