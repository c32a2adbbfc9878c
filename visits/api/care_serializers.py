"""Serializers of the communication and care API, one for what comes in and one for
what goes out. Input serializers validate and never save: the viewsets hand
`validated_data` to visits.services (which check placeholders, contacts and roles)."""

import os

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import Region, User
from customers.api.serializers import ChildInputSerializer, UserRefSerializer
from customers.models import Contact, Customer, Tag

from ..forms.communications import ATTACHMENT_EXTENSIONS
from ..models import Campaign, CareMessage, Communication, Holiday, MessageTemplate
from ..services.campaigns import Selection

ERR_FILE_TOO_LARGE = _("The file is too large (at most %(mb)d MB).")
ERR_FILE_TYPE = _("Upload a recording, a scan, an image or a PDF (%(extensions)s).")


# -- Communications -------------------------------------------------------------------------


class VisibleContactField(serializers.PrimaryKeyRelatedField):
    """A contact id among the contacts the user sees (another one "does not exist")."""

    def get_queryset(self):
        request = self.context.get("request")
        return Contact.objects.visible_to(request.user) if request else Contact.objects.none()


class CommunicationInputSerializer(ChildInputSerializer):
    """A communication logged against a customer the user may edit."""

    contact = VisibleContactField(required=False, allow_null=True, help_text=_("A contact of the same customer."))
    attachment = serializers.FileField(
        required=False, allow_null=True, help_text=_("A call recording, a fax scan, an image or a PDF; multipart.")
    )

    class Meta:
        model = Communication
        fields = ["customer", "contact", "kind", "direction", "occurred_at", "subject", "summary", "attachment"]

    def validate_attachment(self, upload):
        if not upload:
            return upload
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise serializers.ValidationError(ERR_FILE_TOO_LARGE % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)})
        extension = os.path.splitext(upload.name)[1].lower().lstrip(".")
        if extension not in ATTACHMENT_EXTENSIONS:
            raise serializers.ValidationError(ERR_FILE_TYPE % {"extensions": ", ".join(ATTACHMENT_EXTENSIONS)})
        upload.name = os.path.basename(upload.name)
        return upload


class CommunicationOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True, allow_null=True, default=None)
    user = UserRefSerializer(read_only=True, allow_null=True)
    attachment_url = serializers.SerializerMethodField()
    message = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("The care message, when the system sent it.")
    )

    class Meta:
        model = Communication
        fields = [
            "id",
            "customer",
            "customer_name",
            "contact",
            "contact_name",
            "kind",
            "direction",
            "occurred_at",
            "subject",
            "summary",
            "attachment_url",
            "user",
            "message",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_attachment_url(self, record):
        # Served by the API, which checks visibility; media is never public.
        if not record.attachment:
            return None
        url = reverse("api:communication-attachment", args=[record.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


# -- Templates and holidays -------------------------------------------------------------------


class MessageTemplateInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["name", "occasion", "channel", "subject", "body", "active"]


class MessageTemplateOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["id", *MessageTemplateInputSerializer.Meta.fields, "updated_at"]
        read_only_fields = fields


class HolidayInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["name", "date", "template"]


class TemplateRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "channel"]
        read_only_fields = fields


class HolidayOutputSerializer(serializers.ModelSerializer):
    template = TemplateRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Holiday
        fields = ["id", "name", "date", "template"]
        read_only_fields = fields


# -- Bulk messages ----------------------------------------------------------------------------


class CampaignInputSerializer(serializers.Serializer):
    """A draft bulk message: the template and the selection (blank criteria match any)."""

    name = serializers.CharField(max_length=100)
    template = serializers.PrimaryKeyRelatedField(
        queryset=MessageTemplate.objects.filter(occasion=MessageTemplate.Occasion.BULK, active=True),
        help_text=_("An active bulk-message template."),
    )
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all(), required=False, allow_null=True)
    customer_type = serializers.ChoiceField(choices=Customer.Type.choices, required=False, allow_blank=True)
    tag = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=User.Role.REP), required=False, allow_null=True
    )
    primary_only = serializers.BooleanField(required=False, default=True, help_text=_("Main contacts only."))

    def selection(self) -> Selection:
        data = self.validated_data
        return Selection(
            region_id=data["region"].pk if data.get("region") else None,
            customer_type=data.get("customer_type", ""),
            tag_id=data["tag"].pk if data.get("tag") else None,
            owner_id=data["owner"].pk if data.get("owner") else None,
            primary_only=data.get("primary_only", True),
        )


class CampaignOutputSerializer(serializers.ModelSerializer):
    template = TemplateRefSerializer(read_only=True)
    created_by = UserRefSerializer(read_only=True)
    criteria = serializers.JSONField(
        read_only=True, help_text=_('The selection: {"region", "type", "tag", "owner", "primary_only"}.')
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "template",
            "criteria",
            "status",
            "recipients",
            "sent",
            "failed",
            "created_by",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class CampaignPreviewSerializer(serializers.Serializer):
    recipients = serializers.IntegerField(help_text=_("Contacts the message would go to now."))
    customers = serializers.IntegerField()
    opted_out = serializers.IntegerField()
    no_address = serializers.IntegerField(help_text=_("Contacts without a mobile (SMS) or e-mail address."))
    sample_to = serializers.CharField()
    sample_subject = serializers.CharField()
    sample = serializers.CharField(help_text=_("The message as the first recipient reads it."))
    sms_parts = serializers.IntegerField()


# -- Messages sent ------------------------------------------------------------------------------


class CareMessageOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = CareMessage
        fields = [
            "id",
            "customer",
            "customer_name",
            "contact",
            "contact_name",
            "channel",
            "occasion",
            "template",
            "campaign",
            "recipient",
            "subject",
            "body",
            "status",
            "error",
            "sent_at",
        ]
        read_only_fields = fields
