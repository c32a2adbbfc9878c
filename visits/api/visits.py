"""Viewsets of the visits API: plans, visits (check-in, the log, check-out, photos),
photos and the frequency standards, with the filters of their lists.

Every `get_queryset()` applies the model's `visible_to(user)` and does the joins and
prefetches its serializer needs, so an invisible record is a 404 and a list costs the
same number of queries whatever its length. Writes go through visits.services.
"""

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from crm.api import AdminWritesPermission, ScopedViewSetMixin
from crm.http import private_file_response
from customers.models import Contact

from ..models import Visit, VisitFrequency, VisitLevel, VisitPhoto, VisitPlan
from ..services import cadence
from ..services import plans as plan_services
from ..services import visits as visit_services
from . import visit_serializers as s

# -- Filters ------------------------------------------------------------------------------------


class PlanFilter(django_filters.FilterSet):
    # Plain numbers: an invisible customer's id gives an empty list, like a wrong one.
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))
    rep = django_filters.NumberFilter(field_name="rep_id", label=_("Rep id"))
    team = django_filters.NumberFilter(field_name="rep__team_id", label=_("The rep's team id"))
    planned_date_after = django_filters.DateFilter(field_name="planned_date", lookup_expr="gte")
    planned_date_before = django_filters.DateFilter(field_name="planned_date", lookup_expr="lte")
    follow_up = django_filters.BooleanFilter(
        field_name="follow_up_of", lookup_expr="isnull", exclude=True, label=_("Only follow-up plans (true) or none")
    )

    class Meta:
        model = VisitPlan
        fields = ["status", "level"]


class VisitFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))
    rep = django_filters.NumberFilter(field_name="rep_id", label=_("Rep id"))
    team = django_filters.NumberFilter(field_name="rep__team_id", label=_("The rep's team id"))
    plan = django_filters.NumberFilter(field_name="plan_id", label=_("Plan id"))
    visit_date_after = django_filters.DateFilter(field_name="visit_date", lookup_expr="gte")
    visit_date_before = django_filters.DateFilter(field_name="visit_date", lookup_expr="lte")
    checked_out = django_filters.BooleanFilter(
        field_name="checked_out_at", lookup_expr="isnull", exclude=True, label=_("Checked out (true) or in progress")
    )
    level = django_filters.ChoiceFilter(choices=VisitLevel.choices)


class PhotoFilter(django_filters.FilterSet):
    visit = django_filters.NumberFilter(field_name="visit_id", label=_("Visit id"))


# -- Plans ----------------------------------------------------------------------------------------


class VisitPlanViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Visit plans: a rep plans their own; a manager assigns to the reps of their team,
    an admin to anyone who looks after the customer. No delete: cancel with a reason.
    Plans still open the day after their date are marked missed by the nightly job."""

    serializer_class = s.PlanOutputSerializer
    input_serializer_class = s.PlanInputSerializer
    filterset_class = PlanFilter
    ordering_fields = ["planned_date", "created_at"]

    def get_queryset(self):
        return VisitPlan.objects.visible_to(self.request.user).select_related("customer", "rep", "assigned_by", "visit")

    def _output(self, pk: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        plan = plan_services.plan_create(actor=request.user, **data)
        return Response(self._output(plan.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        plan = self.get_object()
        serializer = self.input_serializer_class(
            plan, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("customer", None)
        plan_services.plan_update(actor=request.user, plan=plan, **data)
        return Response(self._output(plan.pk))

    @extend_schema(request=s.PlanCancelSerializer, responses=s.PlanOutputSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an open or missed plan, with a reason."""
        plan = self.get_object()
        serializer = s.PlanCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan_services.plan_cancel(actor=request.user, plan=plan, reason=serializer.validated_data["reason"])
        return Response(self._output(plan.pk))


# -- Visits ---------------------------------------------------------------------------------------


class VisitViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Visits. POST checks in now (at a customer, or from a plan, which becomes done),
    with the device's position if given; PATCH fills in the log; `check-out` ends the
    visit; `photos` adds a photo (stored resized). Where the rep was is shown only to the
    rep, their manager and admins."""

    serializer_class = s.VisitOutputSerializer
    input_serializer_class = s.CheckInSerializer
    filterset_class = VisitFilter
    ordering_fields = ["visit_date", "checked_in_at"]

    def get_queryset(self):
        return (
            Visit.objects.visible_to(self.request.user)
            .select_related("customer", "rep")
            .prefetch_related(
                Prefetch("contacts", queryset=Contact.objects.only("id", "name").order_by("name")),
                Prefetch("photos", queryset=VisitPhoto.objects.order_by("uploaded_at", "id")),
                Prefetch("follow_ups", queryset=VisitPlan.objects.only("id", "follow_up_of_id").order_by("id")),
            )
        )

    def _output(self, pk: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        location = None
        if data.get("latitude") is not None and data.get("longitude") is not None:
            location = visit_services.Location(data["latitude"], data["longitude"], data.get("accuracy_m"))
        visit = visit_services.visit_check_in(
            actor=request.user,
            customer=data.get("customer"),
            plan=data.get("plan"),
            level=data.get("level"),
            location=location,
        )
        return Response(self._output(visit.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.VisitUpdateSerializer, responses=s.VisitOutputSerializer)
    def partial_update(self, request, *args, **kwargs):
        visit = self.get_object()
        serializer = s.VisitUpdateSerializer(visit, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        contacts = data.pop("contacts", None)
        check_out = data.pop("check_out", False)
        visit_services.visit_update(actor=request.user, visit=visit, contacts=contacts, check_out=check_out, **data)
        return Response(self._output(visit.pk))

    @extend_schema(request=None, responses=s.VisitOutputSerializer)
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request, pk=None):
        """End the visit now (a second check-out keeps the first time)."""
        visit = self.get_object()
        visit_services.visit_check_out(actor=request.user, visit=visit)
        return Response(self._output(visit.pk))

    @extend_schema(request={"multipart/form-data": s.PhotoUploadSerializer}, responses={201: s.PhotoOutputSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def photos(self, request, pk=None):
        """Add a photo to the visit: turned upright, at most 1600 pixels, stored as JPEG
        without its metadata."""
        visit = self.get_object()
        serializer = s.PhotoUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        photo = visit_services.visit_photo_add(
            actor=request.user,
            visit=visit,
            upload=serializer.validated_data["image"],
            caption=serializer.validated_data.get("caption", ""),
        )
        return Response(s.PhotoOutputSerializer(photo).data, status=status.HTTP_201_CREATED)


class VisitPhotoViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Photos of the visits the user sees; added through a visit's `photos`."""

    serializer_class = s.PhotoOutputSerializer
    filterset_class = PhotoFilter
    ordering_fields = ["uploaded_at"]

    def get_queryset(self):
        return VisitPhoto.objects.visible_to(self.request.user).order_by("-uploaded_at", "-id")

    def perform_destroy(self, instance):
        visit_services.visit_photo_delete(actor=self.request.user, photo=instance)

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        """The photo (JPEG), only to those who see the customer (media is never public)."""
        return private_file_response(self.get_object().image)


# -- Frequency standards ------------------------------------------------------------------------------


class VisitFrequencyViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """How often customers must be visited (拜访频率标准): everyone reads, admins change.
    Any change recomputes every customer's next due date."""

    permission_classes = [AdminWritesPermission]
    serializer_class = s.FrequencyOutputSerializer
    input_serializer_class = s.FrequencyInputSerializer
    filterset_fields = ["customer_type"]
    ordering_fields = ["customer_type", "interval_days"]

    def get_queryset(self):
        return VisitFrequency.objects.visible_to(self.request.user)

    def _save(self, frequency: VisitFrequency, data: dict) -> VisitFrequency:
        for field, value in data.items():
            setattr(frequency, field, value)
        return cadence.frequency_save(actor=self.request.user, frequency=frequency)

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        frequency = self._save(VisitFrequency(), dict(serializer.validated_data))
        return Response(self.get_serializer(frequency).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        frequency = self.get_object()
        serializer = self.input_serializer_class(
            frequency, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        self._save(frequency, dict(serializer.validated_data))
        return Response(self.get_serializer(frequency).data)

    def perform_destroy(self, instance):
        cadence.frequency_delete(actor=self.request.user, frequency=instance)
