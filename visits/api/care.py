"""Viewsets of communications and customer care.

Each `get_queryset()` applies the model's `visible_to(user)` (an invisible object is a
404) and joins what its output serializer reads. Writes go through visits.services.
Communications are written by whoever may edit the customer (messages the system sent
by nobody); templates and holidays by client service and admins; bulk messages by
client service, admins and managers, to the customers they see.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api import ArchivePermission, ScopedViewSetMixin
from crm.http import private_file_response

from ..forms.care import CareMessageFilter
from ..forms.communications import CommunicationFilter
from ..models import Campaign, CareMessage, Communication, Holiday, MessageTemplate
from ..services import campaigns, care, communications
from . import care_serializers as s

# -- Permissions ------------------------------------------------------------------------------


class CommunicationPermission(ArchivePermission):
    """The archive's rule (writes on customers the user may edit), and messages the
    system sent are never changed."""

    def has_object_permission(self, request, view, obj):
        if request.method not in permissions.SAFE_METHODS and obj.message_id is not None:
            self.message = communications.ERR_SYSTEM_MESSAGE
            return False
        return super().has_object_permission(request, view, obj)


class CareConfigPermission(permissions.IsAuthenticated):
    """Templates and holidays: every signed-in user reads them, client service and
    admins change them."""

    message = care.ERR_CARE_ROLE

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or care.manages_care(request.user)


class BulkPermission(permissions.IsAuthenticated):
    """Listing and creating bulk messages is for those who send them; a campaign the
    user does not see is a 404 before this is asked about it."""

    message = campaigns.ERR_BULK_ROLE

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return view.detail or campaigns.may_send_bulk(request.user)

    def has_object_permission(self, request, view, obj):
        return campaigns.may_send_bulk(request.user)


# -- Communications ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description=_(
            "Communications of the customers the user sees, newest first. Filters: q (customer name or code), "
            "customer (id), kind, direction, source (people / system), date_from, date_to."
        )
    )
)
class CommunicationViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    permission_classes = [CommunicationPermission]
    serializer_class = s.CommunicationOutputSerializer
    input_serializer_class = s.CommunicationInputSerializer
    filterset_class = CommunicationFilter
    ordering_fields = ["occurred_at", "created_at"]

    def get_queryset(self):
        return Communication.objects.visible_to(self.request.user).select_related("customer", "contact", "user")

    def _output(self, pk: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        record = communications.communication_save(
            actor=request.user, record=Communication(**serializer.validated_data)
        )
        return Response(self._output(record.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        record = self.get_object()
        serializer = self.input_serializer_class(
            record, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        for field, value in serializer.validated_data.items():
            setattr(record, field, value)
        communications.communication_save(actor=request.user, record=record)
        return Response(self._output(record.pk))

    def perform_destroy(self, instance):
        communications.communication_delete(actor=self.request.user, record=instance)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def attachment(self, request, pk=None):
        """The recording or scan, only to those who see the customer (media is never public)."""
        return private_file_response(self.get_object().attachment)


# -- Templates and holidays ---------------------------------------------------------------------


class ConfigViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """Create and update through a service taking the unsaved object."""

    permission_classes = [CareConfigPermission]

    def save(self, obj):
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        obj = self.save(self.get_queryset().model(**serializer.validated_data))
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.input_serializer_class(
            obj, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        for field, value in serializer.validated_data.items():
            setattr(obj, field, value)
        self.save(obj)
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class MessageTemplateViewSet(ConfigViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Care and bulk message templates with placeholders {customer} {contact} {date}
    {holiday}; an unknown placeholder is a 400 naming it. No delete: set active false."""

    serializer_class = s.MessageTemplateOutputSerializer
    input_serializer_class = s.MessageTemplateInputSerializer
    filterset_fields = ["occasion", "channel", "active"]
    ordering_fields = ["name", "occasion", "updated_at"]

    def get_queryset(self):
        return MessageTemplate.objects.visible_to(self.request.user)

    def save(self, obj):
        return care.message_template_save(actor=self.request.user, template=obj)


class HolidayFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="date__year", label=_("Year"))
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Holiday
        fields = ["template"]


class HolidayViewSet(ConfigViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """The holiday calendar: a greeting goes out on each holiday that has a template.
    Lunar holidays move, so each year's date is its own entry."""

    serializer_class = s.HolidayOutputSerializer
    input_serializer_class = s.HolidayInputSerializer
    filterset_class = HolidayFilter
    ordering_fields = ["date", "name"]

    def get_queryset(self):
        return Holiday.objects.visible_to(self.request.user).select_related("template")

    def save(self, obj):
        return care.holiday_save(actor=self.request.user, holiday=obj)

    def perform_destroy(self, instance):
        care.holiday_delete(actor=self.request.user, holiday=instance)


# -- Bulk messages ----------------------------------------------------------------------------


class CampaignViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Bulk messages (群发): create a draft with a selection, GET its preview (recipient
    count and a sample), then POST send. Sent by client service and admins (any
    customer) and managers (their team's), to the customers they see."""

    permission_classes = [BulkPermission]
    serializer_class = s.CampaignOutputSerializer
    input_serializer_class = s.CampaignInputSerializer
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "sent_at"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return Campaign.objects.visible_to(self.request.user).select_related("template", "created_by")

    def _output(self, pk: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def _save(self, campaign: Campaign, serializer) -> Campaign:
        return campaigns.campaign_save(
            actor=self.request.user,
            campaign=campaign,
            name=serializer.validated_data["name"],
            template=serializer.validated_data["template"],
            selection=serializer.selection(),
        )

    @extend_schema(request=s.CampaignInputSerializer, responses={201: s.CampaignOutputSerializer})
    def create(self, request, *args, **kwargs):
        serializer = s.CampaignInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        campaign = self._save(Campaign(), serializer)
        return Response(self._output(campaign.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CampaignInputSerializer, responses=s.CampaignOutputSerializer)
    def update(self, request, *args, **kwargs):
        """Change a draft (the whole draft: name, template and selection)."""
        campaign = self.get_object()
        serializer = s.CampaignInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        self._save(campaign, serializer)
        return Response(self._output(campaign.pk))

    @extend_schema(request=s.CampaignInputSerializer, responses=s.CampaignOutputSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Like PUT: a draft is always saved whole."""
        return self.update(request, *args, **kwargs)

    @extend_schema(responses=s.CampaignPreviewSerializer)
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """Who would receive it now and how it reads for the first of them."""
        preview = campaigns.campaign_preview(campaign=self.get_object())
        return Response(s.CampaignPreviewSerializer(preview).data)

    @extend_schema(request=None, responses=s.CampaignOutputSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send a draft: at once for a small selection, else in the background (status
        "sending" until done). A campaign is sent once."""
        campaign = campaigns.campaign_send(actor=request.user, campaign=self.get_object())
        return Response(self._output(campaign.pk))


# -- Messages sent ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description=_(
            "Care and bulk messages sent to the contacts of the customers the user sees. Filters: q, customer, "
            "campaign, occasion (birthday / holiday / campaign), channel, status, date_from, date_to."
        )
    )
)
class CareMessageViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.CareMessageOutputSerializer
    filterset_class = CareMessageFilter
    ordering_fields = ["sent_at"]

    def get_queryset(self):
        return CareMessage.objects.visible_to(self.request.user).select_related("customer", "contact")
