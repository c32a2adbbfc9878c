"""Serializers of the sales API, one for what comes in and one for what goes out.

Input serializers validate shapes and scope (a customer, contract, order or rep the
user cannot see "does not exist") and never save: the viewsets hand `validated_data`
to sales.services. Prices, amounts, totals, paid and unallocated amounts are computed
by the server; a client that sends one gets a 400 at that field rather than a silent
drop. Output serializers only read, from querysets the viewsets have joined and
prefetched.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from crm.api import is_editable
from crm.models import User
from customers.api.serializers import RefusedField, UserRefSerializer, VisibleCustomerField
from customers.api.serializers import _request_user as request_user

from .. import services
from ..models import (
    AfterSalesRequest,
    Allocation,
    Contract,
    ContractLine,
    Order,
    OrderLine,
    Payment,
    PolicyItem,
    Product,
    SalesPolicy,
    SalesTarget,
)
from ..receivables import BUCKETS
from ..selectors import target_setter_reps

ERR_COMPUTED = _("This is computed by the server; do not send it.")
ERR_FIXED = _("This cannot be changed once the record exists.")
ERR_PERIOD = _("The end must not be before the start.")
ERR_PRICE_NEEDED = _("Give a special price or a discount.")
ERR_PRICE_BOTH = _("Give a special price or a discount, not both.")
ERR_DUPLICATE_PRODUCT = _("“%(product)s” appears more than once.")
ERR_ORDER_CUSTOMER = _("The order belongs to another customer.")
ERR_CUSTOMER_NOT_EDITABLE = _("You may not change this customer's sales records.")
ERR_MONTH = _("Give the first day of the month.")


class OrderAction(models.TextChoices):
    CONFIRM = "confirm", _("Confirm")
    SHIP = "ship", _("Ship")
    COMPLETE = "complete", _("Complete")
    CANCEL = "cancel", _("Cancel")


class ContractAction(models.TextChoices):
    SUBMIT = "submit", _("Submit for approval")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Send back")
    TERMINATE = "terminate", _("Terminate")


class ComputedField(RefusedField):
    """A value the server computes (a price, an amount, a total): never accepted."""

    def __init__(self, **kwargs):
        super().__init__(ERR_COMPUTED, **kwargs)


class FixedField(RefusedField):
    def __init__(self, **kwargs):
        super().__init__(ERR_FIXED, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class CustomerField(VisibleCustomerField):
    """A customer id among those the user sees (typed for the schema)."""


@extend_schema_field(OpenApiTypes.INT)
class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """An id looked up among the objects of `model` the user sees, so an invisible one
    "does not exist" exactly like a wrong id."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        user = request_user(self.root)
        return self.model.objects.visible_to(user) if user is not None else self.model.objects.none()


def _check_period(attrs, instance, start: str, end: str) -> None:
    first = attrs.get(start, getattr(instance, start, None))
    last = attrs.get(end, getattr(instance, end, None))
    if first and last and last < first:
        raise serializers.ValidationError({end: [ERR_PERIOD]})


def _check_customer_writable(serializer, customer):
    """The customer of a new record must be one the user may change; a record's
    customer stays fixed once set."""
    if serializer.instance is not None and customer.pk != serializer.instance.customer_id:
        raise serializers.ValidationError(ERR_FIXED)
    if not is_editable(request_user(serializer), customer):
        raise serializers.ValidationError(ERR_CUSTOMER_NOT_EDITABLE)
    return customer


# -- Products -------------------------------------------------------------------------------

PRODUCT_FIELDS = [
    "name",
    "brand",
    "spec",
    "unit",
    "category",
    "industry",
    "list_price",
    "active",
    "approval_number",
    "prescription",
    "model_name",
    "colour",
    "memory",
]


class ProductOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", *PRODUCT_FIELDS]
        read_only_fields = fields


class ProductInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = PRODUCT_FIELDS


class ProductRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


# -- Sales policies ---------------------------------------------------------------------------


class PolicyItemOutputSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.__str__", read_only=True)

    class Meta:
        model = PolicyItem
        fields = ["id", "product", "product_name", "special_price", "discount_percent"]
        read_only_fields = fields


class PolicyItemInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = PolicyItem
        fields = ["product", "special_price", "discount_percent"]
        # The policy's own uniqueness check runs over the whole list, in the parent.
        validators = []

    def validate(self, attrs):
        has_price = attrs.get("special_price") is not None
        has_discount = attrs.get("discount_percent") is not None
        if not has_price and not has_discount:
            raise serializers.ValidationError(ERR_PRICE_NEEDED)
        if has_price and has_discount:
            raise serializers.ValidationError(ERR_PRICE_BOTH)
        return attrs


class PolicyOutputSerializer(serializers.ModelSerializer):
    items = PolicyItemOutputSerializer(many=True, read_only=True)

    class Meta:
        model = SalesPolicy
        fields = ["id", "name", "start", "end", "customer_types", "active", "notes", "items"]
        read_only_fields = fields


class PolicyInputSerializer(serializers.ModelSerializer):
    items = PolicyItemInputSerializer(many=True, required=False)

    class Meta:
        model = SalesPolicy
        fields = ["name", "start", "end", "customer_types", "active", "notes", "items"]

    def validate_items(self, items):
        seen = set()
        for item in items:
            if item["product"].pk in seen:
                raise serializers.ValidationError(ERR_DUPLICATE_PRODUCT % {"product": item["product"]})
            seen.add(item["product"].pk)
        return items

    def validate(self, attrs):
        _check_period(attrs, self.instance, "start", "end")
        return attrs


# -- Contracts --------------------------------------------------------------------------------


class ContractLineOutputSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    product_name = serializers.CharField(source="product.__str__", read_only=True)
    brand = serializers.CharField(source="product.brand", read_only=True)
    spec = serializers.CharField(source="product.spec", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)

    class Meta:
        model = ContractLine
        fields = ["id", "product", "product_name", "brand", "spec", "unit", "quantity", "unit_price", "amount"]
        read_only_fields = fields


# Refused fields are not inputs: the schema leaves them out.
@extend_schema_serializer(exclude_fields=["amount"])
class ContractLineInputSerializer(serializers.Serializer):
    # A contract's unit price is negotiated, so it is input; its amount is not.
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))
    amount = ComputedField()


CONTRACT_FIELDS = [
    "kind",
    "signed_date",
    "valid_from",
    "valid_to",
    "quality_terms",
    "delivery_time",
    "delivery_place",
    "transport",
    "freight_payer",
    "acceptance_terms",
    "payment_term_days",
]


class ContractOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    lines = ContractLineOutputSerializer(many=True, read_only=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    approved_by = UserRefSerializer(read_only=True, allow_null=True)
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    has_file = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            *CONTRACT_FIELDS,
            "status",
            "lines",
            "total",
            "has_file",
            "approved_by",
            "approved_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_has_file(self, contract) -> bool:
        return bool(contract.file)


# Refused fields are not inputs: the schema leaves them out.
@extend_schema_serializer(exclude_fields=["number", "status", "total"])
class ContractInputSerializer(serializers.ModelSerializer):
    """Create (POST) or change (PUT, PATCH) a draft contract with its lines. The number,
    status and approval are the server's; `lines`, when sent, replace all lines."""

    customer = CustomerField()
    lines = ContractLineInputSerializer(many=True, required=False)
    number = ComputedField()
    status = RefusedField(_("The status changes through the transition endpoint."))
    total = ComputedField()

    class Meta:
        model = Contract
        fields = ["customer", *CONTRACT_FIELDS, "lines", "number", "status", "total"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["customer"].required = False

    def validate_customer(self, customer):
        return _check_customer_writable(self, customer)

    def validate(self, attrs):
        _check_period(attrs, self.instance, "valid_from", "valid_to")
        return attrs


class ContractTransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ContractAction.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# -- Orders -----------------------------------------------------------------------------------


class OrderLineOutputSerializer(serializers.ModelSerializer):
    # A generated column: typed here, or it would come out as a float.
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    product_name = serializers.CharField(source="product.__str__", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)
    policy_name = serializers.CharField(source="policy.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "product",
            "product_name",
            "unit",
            "quantity",
            "list_price",
            "unit_price",
            "policy",
            "policy_name",
            "amount",
        ]
        read_only_fields = fields


# Refused fields are not inputs: the schema leaves them out.
@extend_schema_serializer(exclude_fields=["unit_price", "list_price", "amount", "policy"])
class OrderLineInputSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    unit_price = ComputedField(help_text=_("Computed: the list price or the policy price in force."))
    list_price = ComputedField()
    amount = ComputedField()
    policy = ComputedField()

    def to_line(self, data) -> services.LineInput:
        return services.LineInput(product=data["product"], quantity=data["quantity"])


ORDER_COMPUTED = ["number", "status", "total", "paid_amount", "outstanding", "due_date", "payment_term_days"]


class OrderOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True, allow_null=True, default=None)
    lines = OrderLineOutputSerializer(many=True, read_only=True)
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    created_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "contract",
            "contract_number",
            "order_date",
            "status",
            "payment_term_days",
            "due_date",
            "lines",
            "total",
            "paid_amount",
            "outstanding",
            "notes",
            "created_by",
            "created_at",
            "confirmed_at",
        ]
        read_only_fields = fields


# Refused fields are not inputs: the schema leaves them out.
@extend_schema_serializer(exclude_fields=ORDER_COMPUTED)
class OrderCreateSerializer(serializers.Serializer):
    """A draft order: prices, amounts and the total are computed by the server from the
    list price or the sales policy the customer is eligible for on the order date."""

    customer = CustomerField()
    order_date = serializers.DateField()
    contract = ScopedRelatedField(Contract, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    lines = OrderLineInputSerializer(many=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ORDER_COMPUTED:
            self.fields[name] = ComputedField()

    def validate_customer(self, customer):
        return _check_customer_writable(self, customer)


# Refused fields are not inputs: the schema leaves them out.
@extend_schema_serializer(exclude_fields=["customer", "order_date", "contract", *ORDER_COMPUTED])
class OrderUpdateSerializer(serializers.Serializer):
    """Change a draft order: its lines (which replace the current ones, priced afresh)
    and notes."""

    notes = serializers.CharField(required=False, allow_blank=True)
    lines = OrderLineInputSerializer(many=True, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("customer", "order_date", "contract"):
            self.fields[name] = FixedField()
        for name in ORDER_COMPUTED:
            self.fields[name] = ComputedField()


class OrderTransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=OrderAction.choices)


# -- Payments and allocations -----------------------------------------------------------------


class PaymentAllocationSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)

    class Meta:
        model = Allocation
        fields = ["id", "order", "order_number", "amount"]
        read_only_fields = fields


class PaymentOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    allocations = PaymentAllocationSerializer(many=True, read_only=True)
    recorded_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "date",
            "amount",
            "method",
            "reference",
            "unallocated",
            "allocations",
            "notes",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


# Refused fields are not inputs: the schema leaves them out.
@extend_schema_serializer(exclude_fields=["number", "unallocated", "allocations"])
class PaymentInputSerializer(serializers.ModelSerializer):
    customer = CustomerField()
    orders = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        help_text=_("Allocate to these open orders, in this order; without it, to the oldest open orders first."),
    )

    class Meta:
        model = Payment
        fields = ["customer", "date", "amount", "method", "reference", "notes", "orders"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("number", "unallocated", "allocations"):
            self.fields[name] = ComputedField()


class AllocationOutputSerializer(serializers.ModelSerializer):
    payment_number = serializers.CharField(source="payment.number", read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    customer = serializers.IntegerField(source="payment.customer_id", read_only=True)

    class Meta:
        model = Allocation
        fields = ["id", "payment", "payment_number", "order", "order_number", "customer", "amount", "created_at"]
        read_only_fields = fields


# -- Receivables ------------------------------------------------------------------------------


class ReceivableSerializer(serializers.ModelSerializer):
    """One open order in the receivables, aged from its due date."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner = UserRefSerializer(source="customer.owner", read_only=True)
    outstanding_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    bucket = serializers.ChoiceField(choices=BUCKETS, read_only=True)
    days_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "owner",
            "order_date",
            "due_date",
            "total",
            "paid_amount",
            "outstanding_amount",
            "bucket",
            "days_overdue",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField())
    def get_days_overdue(self, order) -> int:
        return order.days_overdue(self.context["today"])


class ReceivablesSummaryQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text=_("Start of the collection period (default: this month)."))
    end = serializers.DateField(required=False, help_text=_("End of the collection period (default: today)."))

    def validate(self, attrs):
        _check_period(attrs, None, "start", "end")
        return attrs


def _money():
    return serializers.DecimalField(max_digits=14, decimal_places=2)


class ReceivablesSummarySerializer(serializers.Serializer):
    today = serializers.DateField()
    outstanding = _money()
    overdue = _money()
    not_due = _money()
    # Bucket keys start with a digit, so they are named here and sourced by key.
    days_1_30 = serializers.DecimalField(max_digits=14, decimal_places=2, source="1_30")
    days_31_60 = serializers.DecimalField(max_digits=14, decimal_places=2, source="31_60")
    days_61_90 = serializers.DecimalField(max_digits=14, decimal_places=2, source="61_90")
    over_90 = _money()
    start = serializers.DateField()
    end = serializers.DateField()
    collection_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        allow_null=True,
        help_text=_("Percent of the amounts due in the period collected so far; null when nothing fell due."),
    )


# -- After-sales ------------------------------------------------------------------------------


class AfterSalesOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True, allow_null=True, default=None)
    product_name = serializers.CharField(source="product.__str__", read_only=True, allow_null=True, default=None)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    hours_to_resolve = serializers.SerializerMethodField()

    class Meta:
        model = AfterSalesRequest
        fields = [
            "id",
            "customer",
            "customer_name",
            "order",
            "order_number",
            "product",
            "product_name",
            "issue",
            "status",
            "assignee",
            "resolution",
            "opened_at",
            "resolved_at",
            "hours_to_resolve",
            "created_by",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_hours_to_resolve(self, request):
        duration = request.time_to_resolve()
        return None if duration is None else round(duration.total_seconds() / 3600, 1)


# Refused fields are not inputs: the schema leaves them out.
@extend_schema_serializer(exclude_fields=["resolved_at"])
class AfterSalesInputSerializer(serializers.ModelSerializer):
    customer = CustomerField()
    order = ScopedRelatedField(Order, required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    resolved_at = ComputedField()

    class Meta:
        model = AfterSalesRequest
        fields = ["customer", "order", "product", "issue", "status", "assignee", "resolution", "resolved_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["customer"].required = False

    def validate_customer(self, customer):
        return _check_customer_writable(self, customer)

    def validate(self, attrs):
        order = attrs.get("order", getattr(self.instance, "order", None))
        customer = attrs.get("customer", getattr(self.instance, "customer", None))
        if order is not None and customer is not None and order.customer_id != customer.pk:
            raise serializers.ValidationError({"order": [ERR_ORDER_CUSTOMER]})
        return attrs


# -- Targets ----------------------------------------------------------------------------------


class TargetOutputSerializer(serializers.ModelSerializer):
    rep = UserRefSerializer(read_only=True)
    order_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text=_("Confirmed (not cancelled) orders of the rep's customers dated in the month."),
    )
    collected_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text=_("Payments received from the rep's customers in the month."),
    )
    order_achievement = serializers.SerializerMethodField()
    collection_achievement = serializers.SerializerMethodField()

    class Meta:
        model = SalesTarget
        fields = [
            "id",
            "rep",
            "month",
            "order_target",
            "collection_target",
            "order_amount",
            "collected_amount",
            "order_achievement",
            "collection_achievement",
        ]
        read_only_fields = fields

    @staticmethod
    def _percent(done, target):
        return None if not target else round(float(done) / float(target) * 100, 1)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_order_achievement(self, target):
        return self._percent(target.order_amount, target.order_target)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_collection_achievement(self, target):
        return self._percent(target.collected_amount, target.collection_target)


# Refused fields are not inputs: the schema leaves them out.
@extend_schema_serializer(exclude_fields=["order_amount", "collected_amount"])
class TargetInputSerializer(serializers.ModelSerializer):
    rep = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), help_text=_("A rep of the manager's team (admins: any rep).")
    )
    order_amount = ComputedField()
    collected_amount = ComputedField()

    class Meta:
        model = SalesTarget
        fields = ["rep", "month", "order_target", "collection_target", "order_amount", "collected_amount"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = request_user(self)
        if user is None:
            return
        self.fields["rep"].queryset = target_setter_reps(user)
        if self.instance is not None:
            self.fields["rep"].required = False

    def validate_rep(self, rep):
        if self.instance is not None and rep.pk != self.instance.rep_id:
            raise serializers.ValidationError(ERR_FIXED)
        return rep

    def validate_month(self, month):
        if self.instance is not None and month != self.instance.month:
            raise serializers.ValidationError(ERR_FIXED)
        if month.day != 1:
            raise serializers.ValidationError(ERR_MONTH)
        return month
