"""Serializers of the archive API, one for what comes in and one for what goes out.

Input serializers validate and normalise (credit codes, mobiles, provinces, custom
fields, who may set the owner) and never save: the viewsets hand `validated_data` to
customers.services. Output serializers only read, from querysets the viewsets have
already joined and prefetched.
"""

import os

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, empty, get_error_detail

from crm.api import is_editable
from crm.models import User

from .. import custom_fields
from ..models import (
    Contact,
    Customer,
    CustomField,
    FactSource,
    Handover,
    Livestock,
    QualificationDocument,
    Relation,
    Tag,
)
from ..services import handover_targets
from ..validators import (
    normalize_credit_code,
    normalize_mobile,
    normalize_province,
    validate_credit_code,
    validate_mobile,
    validate_province,
)

ERR_OWNER_REFUSED = _("You may not set the owner.")
ERR_OWNER_NOT_REP = _("The owner must be an active sales rep.")
ERR_OWNER_NOT_TEAM = _("You may only give customers to a rep of your team.")
ERR_CREDIT_CODE_TAKEN = _("Customer %(code)s (owner %(owner)s) already has this credit code.")
ERR_NOT_A_FACT = _("“%(fact)s” is not a fact that carries a source.")
ERR_CUSTOMER_NOT_EDITABLE = _("You may not change this customer's archive.")
ERR_CUSTOMER_MOVE = _("This cannot be moved to another customer.")
ERR_FILE_TOO_LARGE = _("The file is too large (at most %(mb)d MB).")
ERR_FILE_TYPE = _("Upload a PDF or an image (%(extensions)s).")
ERR_CHOICES_NEEDED = _("A choice field needs at least one option.")
ERR_KEY_FIXED = _("The key cannot be changed: stored values are keyed by it.")
ERR_HANDOVER_SCOPE = _("Give either customer_ids or from_user, not both.")
ERR_HANDOVER_SCOPE_MISSING = _("Give customer_ids or from_user.")

DOCUMENT_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "webp"]


def _request_user(serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def _hidden_fields(serializer) -> frozenset[str]:
    """The customer fields the requesting user may not read (none without a user, as
    when the schema is generated)."""
    user = _request_user(serializer)
    if user is None or not user.is_authenticated:
        return frozenset()
    return Customer.hidden_fields_for(user)


class RefusedField(serializers.Field):
    """A field the user's role may not write: absent is fine, present is a 400 at the
    field (silently dropping it would let a client believe it was saved)."""

    def __init__(self, refusal, **kwargs):
        self.refusal = refusal
        super().__init__(required=False, write_only=True, **kwargs)

    def run_validation(self, data=empty):
        if data is empty:
            raise SkipField()
        raise serializers.ValidationError(self.refusal, code="refused")


class MobileField(serializers.CharField):
    """A mainland mobile, normalised (+86, dashes, full-width digits) then validated."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, **kwargs)

    def to_internal_value(self, data):
        value = normalize_mobile(super().to_internal_value(data))
        if value:
            validate_mobile(value)
        return value


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


# -- Customers ------------------------------------------------------------------------------

CUSTOMER_FIELDS = [*Customer.ARCHIVE_FIELDS, "custom_fields"]


class FactCheckSerializer(serializers.Serializer):
    """Where one verifiable fact came from and who verified its current value."""

    source = serializers.ChoiceField(choices=FactSource.choices, allow_blank=True)
    verified = serializers.BooleanField()
    verified_by = UserRefSerializer(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)


class CustomerOutputSerializer(serializers.ModelSerializer):
    """A customer's archive. The owner's personal profile (gender, year of birth,
    education, work history, economic situation, reputation) is left out, with its
    facts, for roles that do not see it (finance)."""

    province_name = serializers.CharField(source="get_province_display", read_only=True)
    owner = UserRefSerializer(read_only=True)
    tags = serializers.SlugRelatedField(many=True, slug_field="name", read_only=True)
    facts = serializers.SerializerMethodField(help_text=_("Source and verification of each verifiable fact."))

    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            *CUSTOMER_FIELDS,
            "province_name",
            "completeness",
            "version",
            "created_at",
            "updated_at",
            "facts",
        ]
        read_only_fields = fields

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hidden_fields = _hidden_fields(self)
        for name in self.hidden_fields:
            self.fields.pop(name)

    @extend_schema_field(serializers.DictField(child=FactCheckSerializer()))
    def get_facts(self, customer):
        # fact_checks is prefetched with verified_by by the viewset.
        checks = {check.fact: check for check in customer.fact_checks.all()}
        facts = {}
        for fact in Customer.VERIFIABLE_FACTS:
            if fact in self.hidden_fields:
                continue
            check = checks.get(fact)
            verified = bool(check and check.verified_at)
            facts[fact] = FactCheckSerializer(
                {
                    "source": check.source if check else "",
                    "verified": verified,
                    "verified_by": check.verified_by if verified else None,
                    "verified_at": check.verified_at if verified else None,
                }
            ).data
        return facts


class CustomerInputSerializer(serializers.ModelSerializer):
    """Create (POST) and update (PUT, PATCH) of a customer. An update must send the
    `version` it was based on; a stale one is a 409 naming what changed since."""

    province = serializers.CharField(help_text=_("Two-digit division code (GB/T 2260), e.g. 37; names are accepted."))
    credit_code = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    phone = MobileField()
    boss_phone = MobileField()
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=User.Role.REP),
        required=False,
        help_text=_("A rep's new customer is theirs: reps may not send this field."),
    )
    tags = serializers.SlugRelatedField(many=True, slug_field="name", queryset=Tag.objects.all(), required=False)
    custom_fields = serializers.DictField(
        required=False, help_text=_("Values keyed by custom field key; null removes a value.")
    )
    sources = serializers.DictField(
        child=serializers.ChoiceField(choices=FactSource.choices, allow_blank=True),
        required=False,
        help_text=_("Where each verifiable fact came from, keyed by fact name."),
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Required on update: the version the change is based on.")
    )

    class Meta:
        model = Customer
        fields = [*CUSTOMER_FIELDS, "sources", "version"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _request_user(self)
        if user is not None and user.is_rep:
            self.fields["owner"] = RefusedField(ERR_OWNER_REFUSED)

    def validate_province(self, value):
        code = normalize_province(value)
        if code is None:
            validate_province(value)
        return code

    def validate_credit_code(self, value):
        code = normalize_credit_code(value or "")
        if not code:
            return None
        validate_credit_code(code)
        taken = Customer.objects.filter(credit_code=code).select_related("owner")
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        other = taken.first()
        if other is not None:
            # Named by code and owner only, as the duplicate warning does for invisible ones.
            raise serializers.ValidationError(ERR_CREDIT_CODE_TAKEN % {"code": other.code, "owner": other.owner})
        return code

    def validate_owner(self, owner):
        user = _request_user(self)
        if self.instance is not None and owner.pk == self.instance.owner_id:
            return owner  # the current owner stays valid, even after leaving
        if not owner.is_active:
            raise serializers.ValidationError(ERR_OWNER_NOT_REP)
        if not user.edits_all_customers and not (user.is_manager and owner.team_id == user.team_id):
            raise serializers.ValidationError(ERR_OWNER_NOT_TEAM)
        return owner

    def validate_custom_fields(self, raw):
        definitions = custom_fields.active_definitions()
        partial = self.instance is not None and self.partial
        cleaned, errors = custom_fields.clean_values(raw, definitions, partial=partial)
        if errors:
            raise serializers.ValidationError(errors)
        stored = dict(self.instance.custom_fields or {}) if self.instance is not None else {}
        if not partial:
            # Values of fields an admin has since deactivated are kept, as the form does.
            active = {d.key for d in definitions}
            stored = {k: v for k, v in stored.items() if k not in active}
        merged = {**stored, **cleaned}
        return {k: v for k, v in merged.items() if k not in raw or k in cleaned}

    def validate_sources(self, sources):
        wrong = {fact: [ERR_NOT_A_FACT % {"fact": fact}] for fact in sources if fact not in Customer.VERIFIABLE_FACTS}
        if wrong:
            raise serializers.ValidationError(wrong)
        return sources

    def validate(self, attrs):
        user = _request_user(self)
        if self.instance is None:
            if "owner" not in attrs:
                if not user.is_rep:
                    raise serializers.ValidationError({"owner": [_("This field is required.")]})
                attrs["owner"] = user
            if "custom_fields" not in attrs:
                attrs["custom_fields"] = self.validate_custom_fields({})
        elif "version" not in attrs:
            raise serializers.ValidationError({"version": [_("This field is required.")]})
        return attrs


class FactVerifyInputSerializer(serializers.Serializer):
    fact = serializers.ChoiceField(choices=Customer.VERIFIABLE_FACTS)


class DuplicateQuerySerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    city = serializers.CharField(required=False, allow_blank=True)
    credit_code = serializers.CharField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True)
    exclude = serializers.IntegerField(
        required=False, help_text=_("A customer id to leave out (the one being edited).")
    )


class DuplicateSerializer(serializers.Serializer):
    """A possible duplicate. One the user cannot see is named only by code and owner, so
    they know whom to ask without learning what the archive holds."""

    visible = serializers.BooleanField()
    id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    city = serializers.CharField(allow_null=True)
    owner_name = serializers.CharField()

    @classmethod
    def from_customer(cls, customer: Customer, *, visible: bool) -> dict:
        return {
            "visible": visible,
            "id": customer.pk if visible else None,
            "code": customer.code,
            "name": customer.name if visible else None,
            "city": customer.city if visible else None,
            "owner_name": str(customer.owner),
        }


# -- Objects that belong to a customer -------------------------------------------------------


class VisibleCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id, looked up among the customers the user sees, so an invisible one
    "does not exist" exactly like a wrong id."""

    def get_queryset(self):
        user = _request_user(self.parent) if self.parent is not None else None
        return Customer.objects.visible_to(user) if user is not None else Customer.objects.none()


class ChildInputSerializer(serializers.ModelSerializer):
    """Base of the input of contacts, relations, documents and livestock: the customer
    must be one the user may edit, and stays fixed once set."""

    customer = VisibleCustomerField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["customer"].required = False

    def validate_customer(self, customer):
        if self.instance is not None and customer.pk != self.instance.customer_id:
            raise serializers.ValidationError(ERR_CUSTOMER_MOVE)
        if not is_editable(_request_user(self), customer):
            raise serializers.ValidationError(ERR_CUSTOMER_NOT_EDITABLE)
        return customer


class ChildOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)


class ContactInputSerializer(ChildInputSerializer):
    mobile = MobileField()

    class Meta:
        model = Contact
        fields = [
            "customer",
            "name",
            "role",
            "title",
            "mobile",
            "phone",
            "wechat",
            "email",
            "birthday",
            "is_primary",
            "opted_out",
            "notes",
        ]


class ContactOutputSerializer(ChildOutputSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "customer_name",
            *ContactInputSerializer.Meta.fields[1:],
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RelationInputSerializer(ChildInputSerializer):
    class Meta:
        model = Relation
        fields = ["customer", "name", "kind", "occupation", "organisation", "phone", "source", "notes"]


class RelationOutputSerializer(ChildOutputSerializer):
    class Meta:
        model = Relation
        fields = ["id", "customer", "customer_name", *RelationInputSerializer.Meta.fields[1:], "created_at"]
        read_only_fields = fields


class DocumentInputSerializer(ChildInputSerializer):
    file = serializers.FileField(required=False, allow_null=True, help_text=_("PDF or an image; multipart upload."))

    class Meta:
        model = QualificationDocument
        fields = [
            "customer",
            "doc_type",
            "number",
            "issuer",
            "issue_date",
            "expiry_date",
            "scope",
            "biologics",
            "file",
        ]

    def validate_file(self, upload):
        if not upload:
            return upload
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise serializers.ValidationError(ERR_FILE_TOO_LARGE % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)})
        extension = os.path.splitext(upload.name)[1].lower().lstrip(".")
        if extension not in DOCUMENT_EXTENSIONS:
            raise serializers.ValidationError(ERR_FILE_TYPE % {"extensions": ", ".join(DOCUMENT_EXTENSIONS)})
        upload.name = os.path.basename(upload.name)
        return upload

    def validate(self, attrs):
        # The model's own rule (expiry not before issue), on the values after this change.
        values = {f: attrs.get(f, getattr(self.instance, f, None)) for f in ("doc_type", "issue_date", "expiry_date")}
        try:
            QualificationDocument(**values).clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from None
        return attrs


class DocumentOutputSerializer(ChildOutputSerializer):
    verified_by = UserRefSerializer(read_only=True, allow_null=True)
    expiry_state = serializers.CharField(read_only=True, help_text=_("valid, expiring or expired"))
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = QualificationDocument
        fields = [
            "id",
            "customer",
            "customer_name",
            *DocumentInputSerializer.Meta.fields[1:-1],
            "expiry_state",
            "file_url",
            "verified_by",
            "verified_at",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file_url(self, document):
        # Served by the API, which checks visibility; media is never public.
        if not document.file:
            return None
        from django.urls import reverse

        url = reverse("api:document-file", args=[document.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class LivestockInputSerializer(ChildInputSerializer):
    class Meta:
        model = Livestock
        fields = ["customer", "species", "kind", "quantity", "unit", "as_of", "source"]


class LivestockOutputSerializer(ChildOutputSerializer):
    verified_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Livestock
        fields = [
            "id",
            "customer",
            "customer_name",
            *LivestockInputSerializer.Meta.fields[1:],
            "verified_by",
            "verified_at",
        ]
        read_only_fields = fields


# -- Custom field definitions ----------------------------------------------------------------


class CustomFieldOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["id", "key", "label", "kind", "choices", "required", "help_text", "position", "active"]
        read_only_fields = fields


class CustomFieldInputSerializer(serializers.ModelSerializer):
    choices = serializers.ListField(child=serializers.CharField(max_length=50), required=False)

    class Meta:
        model = CustomField
        fields = ["key", "label", "kind", "choices", "required", "help_text", "position", "active"]

    def validate_key(self, key):
        if self.instance is not None and key != self.instance.key:
            raise serializers.ValidationError(ERR_KEY_FIXED)
        return key

    def validate_choices(self, choices):
        return list(dict.fromkeys(c.strip() for c in choices if c.strip()))

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        choices = attrs.get("choices", getattr(self.instance, "choices", None))
        if kind in (CustomField.Kind.CHOICE, CustomField.Kind.MULTI) and not choices:
            raise serializers.ValidationError({"choices": [ERR_CHOICES_NEEDED]})
        return attrs


# -- Handover ---------------------------------------------------------------------------------


class HandoverInputSerializer(serializers.Serializer):
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.none())
    reason = serializers.CharField(max_length=500)
    customer_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, allow_empty=False)
    from_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, help_text=_("Hand over all customers of this rep.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _request_user(self)
        if user is None:
            return
        self.fields["to_user"].queryset = handover_targets(user)
        # A rep who left (inactive) is the usual reason for a handover, so stays a choice.
        reps = User.objects.filter(role=User.Role.REP)
        self.fields["from_user"].queryset = reps if user.is_admin_role else reps.filter(team_id=user.team_id)

    def validate(self, attrs):
        if "customer_ids" in attrs and "from_user" in attrs:
            raise serializers.ValidationError(ERR_HANDOVER_SCOPE)
        if "customer_ids" not in attrs and "from_user" not in attrs:
            raise serializers.ValidationError(ERR_HANDOVER_SCOPE_MISSING)
        return attrs


class HandoverOutputSerializer(serializers.ModelSerializer):
    from_user = UserRefSerializer(read_only=True)
    to_user = UserRefSerializer(read_only=True)
    actor = UserRefSerializer(read_only=True)

    class Meta:
        model = Handover
        fields = ["id", "from_user", "to_user", "reason", "customer_count", "actor", "at", "batch"]
        read_only_fields = fields


class HandoverResultSerializer(serializers.Serializer):
    customer_count = serializers.IntegerField()
    handovers = HandoverOutputSerializer(many=True)
