"""Serializers of the visits API (plans, visits, photos, frequency standards), one for
what comes in and one for what goes out.

Input serializers validate shapes and scope (a customer or plan the user cannot see
"does not exist") and never save: the viewsets hand `validated_data` to
visits.services. Check-in and check-out times are the server's clock; where the rep was
(latitude, longitude, accuracy, distance) is left out of a visit for anyone but the
rep, their manager and admins.
"""

from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api import is_editable
from crm.models import User
from customers.api.serializers import UserRefSerializer, VisibleCustomerField
from customers.api.serializers import _request_user as request_user
from customers.models import Contact

from ..models import Visit, VisitFrequency, VisitLevel, VisitPhoto, VisitPlan

ERR_CUSTOMER_NOT_EDITABLE = _("You may not change this customer's visits.")
ERR_CUSTOMER_FIXED = _("A plan stays with its customer.")
ERR_CUSTOMER_OR_PLAN = _("Give the customer or the plan.")
ERR_PLAN_CUSTOMER = _("The plan is for another customer.")

# Omitted from a visit unless `visit.location_visible_to(user)`.
LOCATION_FIELDS = ("latitude", "longitude", "accuracy_m", "distance_m")
LOCATION_HELP = _("Omitted unless you may see where the rep was (the rep, their manager, admins).")


@extend_schema_field(OpenApiTypes.INT)
class CustomerField(VisibleCustomerField):
    """A customer id among those the user sees (typed for the schema)."""


@extend_schema_field(OpenApiTypes.INT)
class VisiblePlanField(serializers.PrimaryKeyRelatedField):
    """A plan id among the plans the user sees."""

    def get_queryset(self):
        user = request_user(self.root)
        return VisitPlan.objects.visible_to(user) if user is not None else VisitPlan.objects.none()


def _editable_customer(serializer, customer):
    if not is_editable(request_user(serializer), customer):
        raise serializers.ValidationError(ERR_CUSTOMER_NOT_EDITABLE)
    return customer


# -- Plans ------------------------------------------------------------------------------------


class PlanOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    rep = UserRefSerializer(read_only=True)
    assigned_by = UserRefSerializer(read_only=True, allow_null=True)
    visit = serializers.SerializerMethodField(help_text=_("The visit logged from this plan."))

    class Meta:
        model = VisitPlan
        fields = [
            "id",
            "customer",
            "customer_name",
            "rep",
            "planned_date",
            "planned_time",
            "level",
            "purpose",
            "project",
            "status",
            "cancel_reason",
            "follow_up_of",
            "visit",
            "assigned_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_visit(self, plan) -> int | None:
        # `visit` is joined by the viewset (a reverse one-to-one: absent is an exception).
        visit = getattr(plan, "visit", None) if plan.status == VisitPlan.Status.DONE else None
        return visit.pk if visit is not None else None


class PlanInputSerializer(serializers.Serializer):
    """A new plan (customer required) or a change to an open one (customer fixed).
    `rep` defaults to you; someone else only as a manager for your team or an admin."""

    customer = CustomerField(required=True)
    rep = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)
    planned_date = serializers.DateField()
    planned_time = serializers.TimeField(required=False, allow_null=True)
    level = serializers.ChoiceField(choices=VisitLevel.choices, required=False)
    purpose = serializers.CharField(max_length=200)
    project = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["customer"].required = False

    def validate_customer(self, customer):
        if self.instance is not None and customer.pk != self.instance.customer_id:
            raise serializers.ValidationError(ERR_CUSTOMER_FIXED)
        return _editable_customer(self, customer)


class PlanCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


# -- Visits -------------------------------------------------------------------------------------


class ContactRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class PhotoOutputSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = VisitPhoto
        fields = ["id", "visit", "caption", "width", "height", "uploaded_at", "file_url"]
        read_only_fields = fields

    def get_file_url(self, photo) -> str:
        # Served by the API, which checks visibility; media is never public.
        return reverse("api:visit-photo-file", args=[photo.pk])


class VisitOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    rep = UserRefSerializer(read_only=True)
    contacts = ContactRefSerializer(many=True, read_only=True)
    photos = PhotoOutputSerializer(many=True, read_only=True)
    duration_minutes = serializers.SerializerMethodField()
    follow_up_plans = serializers.SerializerMethodField(help_text=_("Plans this visit's next step created."))
    # Declared writable (this serializer never reads input) so that the schema says they may be absent.
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, help_text=LOCATION_HELP
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, help_text=LOCATION_HELP
    )
    accuracy_m = serializers.IntegerField(required=False, allow_null=True, help_text=LOCATION_HELP)
    distance_m = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=format_lazy("{} {}", _("Metres from the customer's stored location."), LOCATION_HELP),
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "customer",
            "customer_name",
            "rep",
            "plan",
            "level",
            "visit_date",
            "checked_in_at",
            "checked_out_at",
            "duration_minutes",
            *LOCATION_FIELDS,
            "contacts",
            "summary",
            "needs",
            "problems",
            "next_step",
            "follow_up_date",
            "follow_up_plans",
            "photos",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f not in LOCATION_FIELDS]

    def to_representation(self, visit):
        data = super().to_representation(visit)
        user = request_user(self)
        if user is None or not visit.location_visible_to(user):
            for field in LOCATION_FIELDS:
                data.pop(field, None)
        return data

    def get_duration_minutes(self, visit) -> int | None:
        duration = visit.duration
        return round(duration.total_seconds() / 60) if duration is not None else None

    def get_follow_up_plans(self, visit) -> list[int]:
        return [plan.pk for plan in visit.follow_ups.all()]


class CheckInSerializer(serializers.Serializer):
    """Check in now: at a customer (ad hoc) or from a plan (its customer and level).
    The position is optional, WGS-84, as the device's geolocation gives it."""

    customer = CustomerField(required=False)
    plan = VisiblePlanField(required=False)
    level = serializers.ChoiceField(choices=VisitLevel.choices, required=False)
    latitude = serializers.DecimalField(
        max_digits=12, decimal_places=9, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=13, decimal_places=9, min_value=-180, max_value=180, required=False, allow_null=True
    )
    accuracy_m = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    def validate(self, attrs):
        customer, plan = attrs.get("customer"), attrs.get("plan")
        if customer is None and plan is None:
            raise serializers.ValidationError({"customer": [ERR_CUSTOMER_OR_PLAN]})
        if customer is not None and plan is not None and plan.customer_id != customer.pk:
            raise serializers.ValidationError({"plan": [ERR_PLAN_CUSTOMER]})
        _editable_customer(self, customer or plan.customer)
        return attrs


class VisitUpdateSerializer(serializers.Serializer):
    """The log of a visit. `check_out: true` ends the visit now (once)."""

    level = serializers.ChoiceField(choices=VisitLevel.choices, required=False)
    contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), many=True, required=False, help_text=_("Contacts of the visit's customer.")
    )
    summary = serializers.CharField(required=False, allow_blank=True)
    needs = serializers.CharField(required=False, allow_blank=True)
    problems = serializers.CharField(required=False, allow_blank=True)
    next_step = serializers.CharField(required=False, allow_blank=True)
    follow_up_date = serializers.DateField(
        required=False, allow_null=True, help_text=_("With a next step, this makes the follow-up plan.")
    )
    check_out = serializers.BooleanField(required=False, default=False, write_only=True)

    def validate_contacts(self, contacts):
        visit = self.instance
        if visit is not None and any(contact.customer_id != visit.customer_id for contact in contacts):
            raise serializers.ValidationError(_("The contacts met must be contacts of this customer."))
        return contacts


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text=_("A photo (JPEG, PNG or WebP); stored resized. Multipart upload."))
    caption = serializers.CharField(max_length=200, required=False, allow_blank=True)


# -- Frequency standards --------------------------------------------------------------------------


class FrequencyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitFrequency
        fields = ["id", "customer_type", "interval_days", "note", "updated_at"]
        read_only_fields = fields


class FrequencyInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitFrequency
        fields = ["customer_type", "interval_days", "note"]
        # The service refuses a second standard for a type, at customer_type.
        validators: list = []
