"""Viewsets of the archive API.

Each `get_queryset()` applies the model's `visible_to(user)` (an invisible object is a
404) and joins or prefetches everything its output serializer reads, so a list costs
the same few queries for 3 rows or 50. Writes go through customers.services; the
permissions in crm.api turn a visible but read-only object into a 403.
"""

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api import AdminWritesPermission, ArchivePermission, ScopedViewSetMixin, VerifierPermission
from crm.errors import DomainError
from crm.http import private_file_response

from .. import services
from ..filters import COMPLETENESS_BANDS, CustomerFilter
from ..models import Contact, Customer, CustomField, FactVerification, Livestock, QualificationDocument, Relation
from ..validators import normalize_credit_code, normalize_mobile
from . import serializers as s

ERR_DELETE_ADMIN_ONLY = _("Only an admin can delete a customer.")
ERR_NO_PERSONAL_PROFILE = _("Your role does not see the owner's personal data.")


class HandoverPermission(permissions.IsAuthenticated):
    message = services.ERR_HANDOVER_ROLE

    def has_permission(self, request, view):
        user = request.user
        return super().has_permission(request, view) and (user.is_admin_role or user.is_manager)


class PersonalProfilePermission(ArchivePermission):
    """The owner's personal data (relations): a 403 for roles that do not see it,
    whatever the method, so a client learns why rather than finding an empty list."""

    def has_permission(self, request, view):
        user = request.user
        if user.is_authenticated and not user.sees_personal_profile:
            self.message = ERR_NO_PERSONAL_PROFILE
            return False
        return super().has_permission(request, view)


class CustomerDeletePermission(ArchivePermission):
    """A customer's archive belongs to the company: only an admin deletes one."""

    def has_object_permission(self, request, view, obj):
        self.message = ERR_DELETE_ADMIN_ONLY
        return request.user.is_admin_role


# -- Customers --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description=_(
            "Customers the user sees. Filters are the list page's: q, province, city, type, industry, "
            "owner, status, tag, completeness, completeness_min/max, qualification, ordering, and "
            "cf_<key> (cf_<key>_min / _max for numbers and dates) for each active custom field."
        ),
        parameters=[
            # The band is a word; without this the schema would take the model field's integer type.
            OpenApiParameter("completeness", str, enum=list(COMPLETENESS_BANDS), description=_("Completeness band")),
        ],
    )
)
class CustomerViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Customers the user sees, filtered with the list page's filters (customers.filters)."""

    serializer_class = s.CustomerOutputSerializer
    input_serializer_class = s.CustomerInputSerializer
    filter_backends = [DjangoFilterBackend]  # CustomerFilter brings its own `ordering`
    filterset_class = CustomerFilter

    def get_queryset(self):
        return (
            Customer.objects.visible_to(self.request.user)
            .select_related("owner")
            .prefetch_related(
                "tags",
                Prefetch("fact_checks", queryset=FactVerification.objects.select_related("verified_by")),
            )
        )

    def get_permissions(self):
        if self.action == "verify":
            return [VerifierPermission()]
        if self.action == "destroy":
            return [CustomerDeletePermission()]
        return super().get_permissions()

    def _output(self, pk: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        tags, sources = data.pop("tags", ()), data.pop("sources", None)
        data.pop("version", None)
        customer = services.customer_create(actor=request.user, data=data, tags=tags, sources=sources)
        return Response(self._output(customer.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        customer = self.get_object()
        serializer = self.input_serializer_class(
            customer, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version, tags, sources = data.pop("version"), data.pop("tags", None), data.pop("sources", None)
        services.customer_update(
            actor=request.user,
            customer_id=customer.pk,
            data=data,
            expected_version=version,
            tags=tags,
            sources=sources,
        )
        return Response(self._output(customer.pk))

    def perform_destroy(self, instance):
        services.customer_delete(actor=self.request.user, customer=instance)

    @extend_schema(request=s.FactVerifyInputSerializer, responses=s.CustomerOutputSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Mark the current value of one fact as verified (client service and admins)."""
        customer = self.get_object()
        serializer = s.FactVerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.fact_verify(actor=request.user, customer=customer, fact=serializer.validated_data["fact"])
        return Response(self._output(customer.pk))

    @extend_schema(parameters=[s.DuplicateQuerySerializer], responses=s.DuplicateSerializer(many=True))
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def duplicates(self, request):
        """Customers that look like the one described: same credit code, same mobile (of
        the customer or a contact), or the same name in the same city."""
        query = s.DuplicateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        found = list(
            services.duplicates_of(
                name=params.get("name", ""),
                city=params.get("city", ""),
                credit_code=normalize_credit_code(params.get("credit_code", "")) or None,
                phone=normalize_mobile(params.get("phone", "")),
                exclude_pk=params.get("exclude"),
            )
        )
        visible = set(
            Customer.objects.visible_to(request.user).filter(pk__in=[c.pk for c in found]).values_list("pk", flat=True)
        )
        rows = [s.DuplicateSerializer.from_customer(c, visible=c.pk in visible) for c in found]
        return Response(s.DuplicateSerializer(rows, many=True).data)


# -- Objects that belong to a customer ---------------------------------------------------------


class ChildFilter(django_filters.FilterSet):
    # A plain number, not a choice among customers: an invisible customer's id gives an
    # empty list, exactly like an id that does not exist.
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))


class ChildViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Contacts, relations, documents and livestock: created for a customer the user
    may edit, written through services.child_save / child_delete."""

    model: type
    related: tuple[str, ...] = ("customer",)

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user).select_related(*self.related)

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        obj = services.child_save(actor=request.user, obj=self.model(**serializer.validated_data))
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.input_serializer_class(
            obj, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        for field, value in serializer.validated_data.items():
            setattr(obj, field, value)
        services.child_save(actor=request.user, obj=obj)
        return Response(self.get_serializer(obj).data)

    def perform_destroy(self, instance):
        services.child_delete(actor=self.request.user, obj=instance)


class VerifiableChildMixin:
    """A child whose reading client service can verify (documents, livestock)."""

    def get_permissions(self):
        if self.action == "verify":
            return [VerifierPermission()]
        return super().get_permissions()

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Mark this record as verified by the current user, now."""
        obj = self.get_object()
        services.child_verify(actor=request.user, obj=obj)
        return Response(self.get_serializer(obj).data)


class ContactFilter(ChildFilter):
    class Meta:
        model = Contact
        fields = ["role", "is_primary", "opted_out"]


class ContactViewSet(ChildViewSet):
    model = Contact
    serializer_class = s.ContactOutputSerializer
    input_serializer_class = s.ContactInputSerializer
    filterset_class = ContactFilter
    ordering_fields = ["name", "created_at", "updated_at"]


class RelationFilter(ChildFilter):
    class Meta:
        model = Relation
        fields = ["kind", "source"]


class RelationViewSet(ChildViewSet):
    """Family and social relations of customers' owners: not for roles that do not see
    the owner's personal data (finance), who get a 403."""

    model = Relation
    permission_classes = [PersonalProfilePermission]
    serializer_class = s.RelationOutputSerializer
    input_serializer_class = s.RelationInputSerializer
    filterset_class = RelationFilter
    ordering_fields = ["name", "kind", "created_at"]


class DocumentFilter(ChildFilter):
    state = django_filters.ChoiceFilter(
        choices=[("expired", _("Expired")), ("expiring", _("Expiring soon"))],
        method="filter_state",
        label=_("Expiry state"),
    )
    expiry_after = django_filters.DateFilter(field_name="expiry_date", lookup_expr="gte")
    expiry_before = django_filters.DateFilter(field_name="expiry_date", lookup_expr="lte")

    class Meta:
        model = QualificationDocument
        fields = ["doc_type", "biologics"]

    def filter_state(self, queryset, name, value):
        return queryset.expired() if value == "expired" else queryset.expiring()


class DocumentViewSet(VerifiableChildMixin, ChildViewSet):
    model = QualificationDocument
    related = ("customer", "verified_by")
    serializer_class = s.DocumentOutputSerializer
    input_serializer_class = s.DocumentInputSerializer
    filterset_class = DocumentFilter
    ordering_fields = ["expiry_date", "issue_date", "doc_type", "created_at"]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        """The scanned file, only to those who see the customer (media is never public)."""
        return private_file_response(self.get_object().file)


class LivestockFilter(ChildFilter):
    as_of_after = django_filters.DateFilter(field_name="as_of", lookup_expr="gte")
    as_of_before = django_filters.DateFilter(field_name="as_of", lookup_expr="lte")

    class Meta:
        model = Livestock
        fields = ["species", "kind", "source"]


class LivestockViewSet(VerifiableChildMixin, ChildViewSet):
    model = Livestock
    related = ("customer", "verified_by")
    serializer_class = s.LivestockOutputSerializer
    input_serializer_class = s.LivestockInputSerializer
    filterset_class = LivestockFilter
    ordering_fields = ["as_of", "species", "quantity"]


# -- Custom field definitions and handover -----------------------------------------------------


class CustomFieldViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Definitions of the admin's custom fields: everyone reads them (to fill them in),
    admins change them. There is no delete: set `active` to false, values are kept."""

    permission_classes = [AdminWritesPermission]
    serializer_class = s.CustomFieldOutputSerializer
    input_serializer_class = s.CustomFieldInputSerializer
    filterset_fields = ["kind", "active"]
    ordering_fields = ["position", "key", "label"]

    def get_queryset(self):
        return CustomField.objects.visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        definition = services.custom_field_save(actor=request.user, definition=CustomField(**serializer.validated_data))
        return Response(self.get_serializer(definition).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        definition = self.get_object()
        serializer = self.input_serializer_class(
            definition, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        for field, value in serializer.validated_data.items():
            setattr(definition, field, value)
        services.custom_field_save(actor=request.user, definition=definition)
        return Response(self.get_serializer(definition).data)


class HandoverViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """客户交接: move chosen customers, or all of a rep's, to another rep (managers for
    their team, admins for all). History and records stay with the customers."""

    permission_classes = [HandoverPermission]
    serializer_class = s.HandoverInputSerializer

    @extend_schema(request=s.HandoverInputSerializer, responses={201: s.HandoverResultSerializer})
    def create(self, request, *args, **kwargs):
        serializer = s.HandoverInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            handovers = services.customer_handover(
                actor=request.user,
                to_user=data["to_user"],
                reason=data["reason"],
                customer_ids=data.get("customer_ids"),
                from_user=data.get("from_user"),
            )
        except DomainError as error:
            if error.field == "customers":
                error.field = "customer_ids" if "customer_ids" in data else "from_user"
            raise
        result = {"customer_count": sum(h.customer_count for h in handovers), "handovers": handovers}
        return Response(s.HandoverResultSerializer(result).data, status=status.HTTP_201_CREATED)
