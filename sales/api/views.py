"""Viewsets of the sales API and the filters of their lists.

Every `get_queryset()` applies the model's `visible_to(user)` and does all the joins
and prefetches its serializer needs, so an invisible record is a 404 and a list costs
the same number of queries whatever its length. Writes go through sales.services; the
permissions below decide only what a user may do with what they can see.
"""

import django_filters
from django.db.models import DateField, DecimalField, Func, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from crm.api import AdminWritesPermission, ScopedViewSetMixin
from crm.http import private_file_response
from crm.models import User

from .. import receivables, services
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
from . import serializers as s

ERR_TARGET_ROLE = _("Only a manager (for their team) or an admin sets targets.")
APPROVALS = {"approve", "reject", "terminate"}
MONEY = DecimalField(max_digits=14, decimal_places=2)


# -- Permissions ------------------------------------------------------------------------------


class PaymentPermission(permissions.IsAuthenticated):
    """Everyone reads the payments of the customers they see; finance and admins record them."""

    message = services.ERR_PAYMENT_ROLE

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        user = request.user
        return request.method in permissions.SAFE_METHODS or user.is_admin_role or user.role == User.Role.FINANCE


def _sets_targets(user) -> bool:
    return user.is_admin_role or user.is_manager


class TargetPermission(permissions.IsAuthenticated):
    """Targets: read as SalesTarget.visible_to says; set by a manager for their team (the
    scoped queryset and the input's rep choices hold them to it) and by admins. A change
    is refused on the object, so a target the user cannot see stays a 404."""

    message = ERR_TARGET_ROLE

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or view.action != "create" or _sets_targets(request.user)

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or _sets_targets(request.user)


# -- Filters ----------------------------------------------------------------------------------


class SalesFilter(django_filters.FilterSet):
    # A plain number, not a choice among customers: an invisible customer's id gives an
    # empty list, exactly like an id that does not exist.
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))


class OwnerFilterMixin(django_filters.FilterSet):
    """Whose customers: by the owning rep, the rep's team or the team's region."""

    rep = django_filters.NumberFilter(field_name="customer__owner_id", label=_("Rep id (the customer's owner)"))
    team = django_filters.NumberFilter(field_name="customer__owner__team_id", label=_("Team id"))
    region = django_filters.NumberFilter(field_name="customer__owner__team__region_id", label=_("Region id"))


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Name, brand, spec or approval number contains"))

    class Meta:
        model = Product
        fields = ["category", "industry", "active", "prescription", "brand"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(brand__icontains=value)
            | Q(spec__icontains=value)
            | Q(approval_number__icontains=value)
        )


class PolicyFilter(django_filters.FilterSet):
    in_force_on = django_filters.DateFilter(method="filter_in_force", label=_("In force on this date"))
    product = django_filters.NumberFilter(field_name="items__product_id", distinct=True, label=_("Product id"))

    class Meta:
        model = SalesPolicy
        fields = ["active"]

    def filter_in_force(self, queryset, name, value):
        return queryset.in_force(value)


class ContractFilter(SalesFilter):
    valid_on = django_filters.DateFilter(method="filter_valid_on", label=_("Valid on this date"))
    valid_to_before = django_filters.DateFilter(field_name="valid_to", lookup_expr="lte")
    valid_to_after = django_filters.DateFilter(field_name="valid_to", lookup_expr="gte")
    signed_after = django_filters.DateFilter(field_name="signed_date", lookup_expr="gte")
    signed_before = django_filters.DateFilter(field_name="signed_date", lookup_expr="lte")

    class Meta:
        model = Contract
        fields = ["status", "kind"]

    def filter_valid_on(self, queryset, name, value):
        return queryset.filter(valid_from__lte=value, valid_to__gte=value)


class OrderFilter(SalesFilter, OwnerFilterMixin):
    order_date_after = django_filters.DateFilter(field_name="order_date", lookup_expr="gte")
    order_date_before = django_filters.DateFilter(field_name="order_date", lookup_expr="lte")
    due_date_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_date_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract id"))
    product = django_filters.NumberFilter(method="filter_product", label=_("Orders with a line of this product"))
    number = django_filters.CharFilter(field_name="number", lookup_expr="icontains")

    class Meta:
        model = Order
        fields = ["status"]

    def filter_product(self, queryset, name, value):
        return queryset.filter(pk__in=OrderLine.objects.filter(product_id=value).values("order_id"))


class PaymentFilter(SalesFilter, OwnerFilterMixin):
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    unallocated = django_filters.BooleanFilter(method="filter_unallocated", label=_("Has an unallocated remainder"))

    class Meta:
        model = Payment
        fields = ["method"]

    def filter_unallocated(self, queryset, name, value):
        return queryset.filter(unallocated__gt=0) if value else queryset.filter(unallocated=0)


class AllocationFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="payment__customer_id", label=_("Customer id"))
    payment = django_filters.NumberFilter(field_name="payment_id", label=_("Payment id"))
    order = django_filters.NumberFilter(field_name="order_id", label=_("Order id"))


class ReceivableFilter(SalesFilter, OwnerFilterMixin):
    bucket = django_filters.ChoiceFilter(choices=receivables.BUCKETS, method="filter_bucket", label=_("Age"))

    def filter_bucket(self, queryset, name, value):
        return receivables.in_bucket(queryset, value, timezone.localdate())


class AfterSalesFilter(SalesFilter):
    opened_after = django_filters.DateFilter(field_name="opened_at", lookup_expr="date__gte")
    opened_before = django_filters.DateFilter(field_name="opened_at", lookup_expr="date__lte")
    order = django_filters.NumberFilter(field_name="order_id", label=_("Order id"))
    product = django_filters.NumberFilter(field_name="product_id", label=_("Product id"))
    assignee = django_filters.NumberFilter(field_name="assignee_id", label=_("Assignee id"))

    class Meta:
        model = AfterSalesRequest
        fields = ["status"]


class TargetFilter(django_filters.FilterSet):
    rep = django_filters.NumberFilter(field_name="rep_id", label=_("Rep id"))
    team = django_filters.NumberFilter(field_name="rep__team_id", label=_("Team id"))
    month = django_filters.DateFilter(field_name="month", label=_("Month (its first day)"))
    month_after = django_filters.DateFilter(field_name="month", lookup_expr="gte")
    month_before = django_filters.DateFilter(field_name="month", lookup_expr="lte")


# -- Catalogue: products and policies ---------------------------------------------------------


class AuditedConfigViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Company-wide records everyone reads and admins change. No delete: orders and
    their history point at them; set `active` to false instead."""

    permission_classes = [AdminWritesPermission]

    def save(self, obj, data):
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        obj = self.save(self.get_queryset().model(), dict(serializer.validated_data))
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.input_serializer_class(
            obj, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        self.save(obj, dict(serializer.validated_data))
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)


class ProductViewSet(AuditedConfigViewSet):
    """The product catalogue: every signed-in user reads it, admins change it."""

    serializer_class = s.ProductOutputSerializer
    input_serializer_class = s.ProductInputSerializer
    filterset_class = ProductFilter
    ordering_fields = ["name", "brand", "list_price", "category"]

    def get_queryset(self):
        return Product.objects.visible_to(self.request.user)

    def save(self, obj, data):
        for field, value in data.items():
            setattr(obj, field, value)
        return services.product_save(actor=self.request.user, product=obj)


class PolicyViewSet(AuditedConfigViewSet):
    """Monthly sales policies (月度销售政策) with their special prices; `items`, when
    sent, replace all of a policy's items."""

    serializer_class = s.PolicyOutputSerializer
    input_serializer_class = s.PolicyInputSerializer
    filterset_class = PolicyFilter
    ordering_fields = ["start", "end", "name"]

    def get_queryset(self):
        return SalesPolicy.objects.visible_to(self.request.user).prefetch_related(
            Prefetch("items", queryset=PolicyItem.objects.select_related("product").order_by("id"))
        )

    def save(self, obj, data):
        items = data.pop("items", None)
        for field, value in data.items():
            setattr(obj, field, value)
        lines = None if items is None else [services.PolicyItemInput(**item) for item in items]
        return services.policy_save(actor=self.request.user, policy=obj, items=lines)


# -- Contracts --------------------------------------------------------------------------------


class ContractViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """购销合同: drafted by whoever may change the customer's records, submitted, then
    approved (or sent back, later terminated) by the customer's manager or an admin."""

    serializer_class = s.ContractOutputSerializer
    input_serializer_class = s.ContractInputSerializer
    filterset_class = ContractFilter
    ordering_fields = ["valid_from", "valid_to", "signed_date", "number"]

    def get_queryset(self):
        return (
            Contract.objects.visible_to(self.request.user)
            .select_related("customer__owner", "approved_by", "created_by")
            .prefetch_related(Prefetch("lines", queryset=ContractLine.objects.select_related("product")))
            .annotate(total=Coalesce(Sum("lines__amount"), services.ZERO, output_field=MONEY))
            # A grouped query drops the model's default ordering: restate it.
            .order_by(*Contract._meta.ordering)
        )

    def _output(self, pk: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def _save(self, contract: Contract, data: dict) -> Contract:
        lines = data.pop("lines", None)
        for field, value in data.items():
            setattr(contract, field, value)
        inputs = None if lines is None else [services.ContractLineInput(**line) for line in lines]
        return services.contract_save(actor=self.request.user, contract=contract, lines=inputs)

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        contract = self._save(Contract(), dict(serializer.validated_data))
        return Response(self._output(contract.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        contract = self.get_object()
        serializer = self.input_serializer_class(
            contract, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        self._save(contract, dict(serializer.validated_data))
        return Response(self._output(contract.pk))

    @extend_schema(request=s.ContractTransitionSerializer, responses=s.ContractOutputSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """submit (draft -> pending approval); approve / reject (pending -> active / draft)
        and terminate (active -> terminated) by the customer's manager or an admin."""
        contract = self.get_object()
        serializer = s.ContractTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verb = serializer.validated_data["action"]
        if verb in APPROVALS and not services.can_approve_contract(request.user, contract):
            raise PermissionDenied(services.ERR_APPROVER)
        services.contract_transition(
            actor=request.user, contract=contract, action=verb, reason=serializer.validated_data["reason"]
        )
        return Response(self._output(contract.pk))

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        """The signed copy, only to those who see the customer (media is never public)."""
        return private_file_response(self.get_object().file)


# -- Orders -----------------------------------------------------------------------------------


def _order_queryset(user):
    return (
        Order.objects.visible_to(user)
        .select_related("customer", "contract", "created_by")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.select_related("product", "policy")))
    )


@extend_schema_view(
    partial_update=extend_schema(
        request=s.OrderUpdateSerializer, description=_("Change a draft order's lines (priced afresh) and notes.")
    )
)
class OrderViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Orders of the customers the user sees. Unit prices, amounts and totals are the
    server's (list price or the policy in force on the order date); an order changes
    state through /transition/ and is never deleted (cancel it)."""

    serializer_class = s.OrderOutputSerializer
    input_serializer_class = s.OrderCreateSerializer
    filterset_class = OrderFilter
    ordering_fields = ["order_date", "due_date", "total", "number"]
    # Lines are replaced, not the whole order: PATCH only.
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return _order_queryset(self.request.user)

    def _output(self, pk: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = services.order_create(
            actor=request.user,
            customer=data["customer"],
            order_date=data["order_date"],
            contract=data.get("contract"),
            notes=data["notes"],
            lines=[services.LineInput(product=line["product"], quantity=line["quantity"]) for line in data["lines"]],
        )
        return Response(self._output(order.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = s.OrderUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "lines" in data:
            lines = [services.LineInput(product=line["product"], quantity=line["quantity"]) for line in data["lines"]]
        else:
            lines = [services.LineInput(product=line.product, quantity=line.quantity) for line in order.lines.all()]
        services.order_update(actor=request.user, order=order, lines=lines, notes=data.get("notes"))
        return Response(self._output(order.pk))

    @extend_schema(request=s.OrderTransitionSerializer, responses=s.OrderOutputSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """confirm (sets the due date, uses prepayments), ship, complete, or cancel
        (leaves the receivables; what was paid becomes prepayment)."""
        order = self.get_object()
        serializer = s.OrderTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.order_transition(actor=request.user, order=order, action=serializer.validated_data["action"])
        return Response(self._output(order.pk))


# -- Payments and allocations -----------------------------------------------------------------


class PaymentViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """回款 of the customers the user sees; recorded (and allocated, oldest open orders
    first or to the chosen `orders`) by finance and admins. The remainder is prepayment."""

    permission_classes = [PaymentPermission]
    serializer_class = s.PaymentOutputSerializer
    input_serializer_class = s.PaymentInputSerializer
    filterset_class = PaymentFilter
    ordering_fields = ["date", "amount", "unallocated"]

    def get_queryset(self):
        return (
            Payment.objects.visible_to(self.request.user)
            .select_related("customer", "recorded_by")
            .prefetch_related(Prefetch("allocations", queryset=Allocation.objects.select_related("order")))
        )

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        payment = services.payment_record(actor=request.user, order_ids=data.pop("orders", None), **data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=payment.pk)).data, status=status.HTTP_201_CREATED
        )


class AllocationViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Which payment paid which order, and how much (written only by payment recording,
    order confirmation and cancellation)."""

    serializer_class = s.AllocationOutputSerializer
    filterset_class = AllocationFilter
    ordering_fields = ["created_at", "amount"]

    def get_queryset(self):
        return Allocation.objects.visible_to(self.request.user).select_related("payment", "order")


# -- Receivables ------------------------------------------------------------------------------


class ReceivableViewSet(ScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """应收账款: the open orders (confirmed, not cancelled, not fully paid) of the
    customers the user sees, oldest due first, with their age."""

    serializer_class = s.ReceivableSerializer
    filterset_class = ReceivableFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]  # aged order, not sortable

    def get_queryset(self):
        orders = Order.objects.visible_to(self.request.user).select_related("customer__owner")
        return receivables.open_items(orders, timezone.localdate())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    @extend_schema(
        parameters=[s.ReceivablesSummaryQuerySerializer], responses=s.ReceivablesSummarySerializer, filters=True
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def summary(self, request):
        """Totals by age of the (filtered) receivables, and the collection rate (回款率)
        of the amounts that fell due in the period."""
        query = s.ReceivablesSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = timezone.localdate()
        start = query.validated_data.get("start", today.replace(day=1))
        end = query.validated_data.get("end", today)
        orders = self.filter_queryset(Order.objects.visible_to(request.user))
        summary = {
            **receivables.totals(orders, today),
            "today": today,
            "start": start,
            "end": end,
            "collection_rate": receivables.collection_rate(orders, start, end),
        }
        return Response(s.ReceivablesSummarySerializer(summary).data)


# -- After-sales ------------------------------------------------------------------------------


class AfterSalesViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """售后 requests of the customers the user sees: open -> in progress -> resolved /
    closed; resolving stamps the time to resolve."""

    serializer_class = s.AfterSalesOutputSerializer
    input_serializer_class = s.AfterSalesInputSerializer
    filterset_class = AfterSalesFilter
    ordering_fields = ["opened_at", "resolved_at", "status"]

    def get_queryset(self):
        return AfterSalesRequest.objects.visible_to(self.request.user).select_related(
            "customer", "order", "product", "assignee", "created_by"
        )

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        obj = services.after_sales_save(actor=request.user, request=AfterSalesRequest(**data))
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.input_serializer_class(
            obj, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        for field, value in serializer.validated_data.items():
            setattr(obj, field, value)
        services.after_sales_save(actor=request.user, request=obj)
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)


# -- Targets ----------------------------------------------------------------------------------


class NextMonth(Func):
    """The first day of the month after a month's first day (PostgreSQL date arithmetic)."""

    template = "(%(expressions)s + interval '1 month')::date"
    output_field = DateField()


def with_achievement(targets):
    """Each target annotated with what its rep achieved in its month, by the rule of
    sales.selectors.target_achievement (orders counting in the receivables and payments,
    dated in the month, of the customers the rep owns now), in the same single query."""
    in_month = {"date__gte": OuterRef("month"), "date__lt": NextMonth(OuterRef("month"))}
    ordered = (
        Order.objects.filter(
            customer__owner=OuterRef("rep_id"),
            status__in=Order.RECEIVABLE_STATUSES,
            order_date__gte=in_month["date__gte"],
            order_date__lt=in_month["date__lt"],
        )
        .order_by()
        .values("customer__owner")
        .annotate(amount=Sum("total"))
        .values("amount")
    )
    collected = (
        Payment.objects.filter(customer__owner=OuterRef("rep_id"), **in_month)
        .order_by()
        .values("customer__owner")
        .annotate(amount=Sum("amount"))
        .values("amount")
    )
    return targets.annotate(
        order_amount=Coalesce(Subquery(ordered, output_field=MONEY), services.ZERO, output_field=MONEY),
        collected_amount=Coalesce(Subquery(collected, output_field=MONEY), services.ZERO, output_field=MONEY),
    )


class TargetViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Monthly targets per rep with their achievement: a rep sees their own, a manager
    their team's (and sets them), the back office all (admins set any)."""

    permission_classes = [TargetPermission]
    serializer_class = s.TargetOutputSerializer
    input_serializer_class = s.TargetInputSerializer
    filterset_class = TargetFilter
    ordering_fields = ["month", "order_target", "collection_target"]

    def get_queryset(self):
        return with_achievement(SalesTarget.objects.visible_to(self.request.user).select_related("rep"))

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        target = services.target_save(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=target.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        target = self.get_object()
        serializer = self.input_serializer_class(
            target, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        values = {"rep": target.rep, "month": target.month, **serializer.validated_data}
        values.setdefault("order_target", target.order_target)
        values.setdefault("collection_target", target.collection_target)
        services.target_save(actor=request.user, **values)
        return Response(self.get_serializer(self.get_queryset().get(pk=target.pk)).data)
