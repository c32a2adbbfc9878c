"""Forms of the archive pages. They validate and normalise input; the views hand the
cleaned values to customers.services, which does the writing."""

import os

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import User

from . import custom_fields
from .models import (
    ActionItem,
    Brand,
    Contact,
    Customer,
    CustomField,
    FactSource,
    FactVerification,
    Livestock,
    QualificationDocument,
    Relation,
    Tag,
)
from .services import handover_targets
from .validators import normalize_credit_code, normalize_mobile

ISO_DATE = "%Y-%m-%d"
DOCUMENT_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "webp"]


class ArchiveModelForm(forms.ModelForm):
    """Dates as <input type=date> (always ISO, whatever the language) and short text areas."""

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.widget = forms.DateInput(attrs={"type": "date"}, format=ISO_DATE)
            elif isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3


def mobile_field(label, max_length=30):
    # Longer than the stored 11 digits so "+86 138-1234-5678" reaches clean_<field>,
    # which normalises it before the model's validators run.
    return forms.CharField(label=label, max_length=max_length, required=False)


class CustomerForm(ArchiveModelForm):
    """The archive of one customer: company, business strength with each fact's source,
    the owner as a person, SWOT and plan, tags and the admin-defined custom fields."""

    credit_code = forms.CharField(
        label=Customer._meta.get_field("credit_code").verbose_name,
        max_length=40,
        required=False,
        empty_value=None,
    )
    phone = mobile_field(Customer._meta.get_field("phone").verbose_name)
    boss_phone = mobile_field(Customer._meta.get_field("boss_phone").verbose_name)
    tags = forms.ModelMultipleChoiceField(
        Tag.objects.all(), required=False, widget=forms.CheckboxSelectMultiple, label=_("Tags")
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = Customer.ARCHIVE_FIELDS

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self._owner_field(user)
        self.fields["version"].initial = self.instance.version
        # Older screens and scripts post no payment term: the company default applies.
        self.fields["payment_term_days"].required = False
        self.fields["main_products"].widget.attrs["rows"] = 2
        for name in ("name", "city", "credit_code", "phone"):
            # The duplicate warning under the form listens to these.
            self.fields[name].widget.attrs["class"] = "dup-check"
        self._source_fields()
        self.custom_definitions = custom_fields.active_definitions()
        stored = self.instance.custom_fields or {}
        for definition in self.custom_definitions:
            field = custom_fields.form_field(definition)
            if isinstance(field, forms.DateField):
                field.widget = forms.DateInput(attrs={"type": "date"}, format=ISO_DATE)
            field.initial = stored.get(definition.key)
            self.fields[custom_fields.FORM_PREFIX + definition.key] = field

    def _owner_field(self, user):
        if user.is_rep:
            # A rep keeps their customers; who else owns one is a handover, not an edit.
            del self.fields["owner"]
            return
        reps = User.objects.filter(role=User.Role.REP, is_active=True)
        if not user.edits_all_customers:
            reps = reps.filter(team_id=user.team_id) if user.is_manager and user.team_id else reps.none()
        if self.instance.owner_id:
            # The current owner stays selectable even after leaving the company.
            reps = User.objects.filter(Q(pk__in=reps.values("pk")) | Q(pk=self.instance.owner_id))
        self.fields["owner"].queryset = reps.order_by("last_name", "first_name", "username")

    def _source_fields(self):
        current = {}
        if self.instance.pk:
            current = dict(FactVerification.objects.filter(customer=self.instance).values_list("fact", "source"))
        for fact in Customer.VERIFIABLE_FACTS:
            self.fields[f"source_{fact}"] = forms.ChoiceField(
                label=_("Source"),
                choices=[("", _("Source unknown"))] + list(FactSource.choices),
                required=False,
                initial=current.get(fact, ""),
            )

    # Normalise what people type before the model's validators see it.
    def clean_payment_term_days(self):
        value = self.cleaned_data.get("payment_term_days")
        return Customer._meta.get_field("payment_term_days").default if value is None else value

    def clean_credit_code(self):
        value = normalize_credit_code(self.cleaned_data.get("credit_code") or "")
        return value or None

    def clean_phone(self):
        return normalize_mobile(self.cleaned_data.get("phone") or "")

    def clean_boss_phone(self):
        return normalize_mobile(self.cleaned_data.get("boss_phone") or "")

    def clean(self):
        cleaned = super().clean()
        raw = {d.key: cleaned.get(custom_fields.FORM_PREFIX + d.key) for d in self.custom_definitions}
        values, errors = custom_fields.clean_values(raw, self.custom_definitions)
        for key, messages in errors.items():
            for message in messages:
                self.add_error(custom_fields.FORM_PREFIX + key, message)
        self.custom_values = values
        return cleaned

    # What the service is given.
    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.fields and name != "tags"}
        if "owner" not in data and not self.instance.pk:
            data["owner"] = self.user
        # Values of fields an admin has since deactivated are kept, not dropped.
        inactive = {
            k: v
            for k, v in (self.instance.custom_fields or {}).items()
            if k not in {d.key for d in self.custom_definitions}
        }
        data["custom_fields"] = {**inactive, **self.custom_values}
        return data

    def sources(self) -> dict:
        return {fact: self.cleaned_data.get(f"source_{fact}", "") for fact in Customer.VERIFIABLE_FACTS}

    # What the template shows, in order.
    def fact_source(self, name):
        return self[f"source_{name}"] if name in Customer.VERIFIABLE_FACTS else None

    def sections(self):
        def rows(names):
            return [(self[n], self.fact_source(n)) for n in names if n in self.fields]

        sections = [
            (_("Company"), rows(Customer.COMPANY_FIELDS)),
            (_("Business strength"), rows(Customer.STRENGTH_FIELDS)),
            (_("The owner as a person"), rows(Customer.BOSS_FIELDS)),
            (_("SWOT and development plan"), rows(Customer.PLAN_FIELDS)),
        ]
        if self.custom_definitions:
            names = [custom_fields.FORM_PREFIX + d.key for d in self.custom_definitions]
            sections.append((_("Custom fields"), [(self[n], None) for n in names]))
        return sections


# -- Objects that belong to a customer ----------------------------------------------------


class ContactForm(ArchiveModelForm):
    mobile = mobile_field(Contact._meta.get_field("mobile").verbose_name)

    class Meta:
        model = Contact
        fields = [
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

    def clean_mobile(self):
        return normalize_mobile(self.cleaned_data.get("mobile") or "")


class RelationForm(ArchiveModelForm):
    class Meta:
        model = Relation
        fields = ["name", "kind", "occupation", "organisation", "phone", "source", "notes"]


class DocumentForm(ArchiveModelForm):
    class Meta:
        model = QualificationDocument
        fields = ["doc_type", "number", "issuer", "issue_date", "expiry_date", "scope", "biologics", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page links the current file itself: the default widget would link the
        # storage URL, and media is never served publicly.
        self.fields["file"].widget = forms.FileInput()
        self.fields["file"].validators.append(FileExtensionValidator(DOCUMENT_EXTENSIONS))
        self.fields["file"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in DOCUMENT_EXTENSIONS)
        self.fields["file"].help_text = _("PDF or an image, at most %(mb)d MB.") % {
            "mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        }

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and getattr(upload, "size", 0) > settings.UPLOAD_MAX_BYTES:
            raise ValidationError(
                _("The file is too large (at most %(mb)d MB)."),
                code="file_too_large",
                params={"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)},
            )
        if upload and hasattr(upload, "name"):
            upload.name = os.path.basename(upload.name)
        return upload


class LivestockForm(ArchiveModelForm):
    class Meta:
        model = Livestock
        fields = ["species", "kind", "quantity", "unit", "as_of", "source"]


class BrandForm(ArchiveModelForm):
    class Meta:
        model = Brand
        fields = ["name", "product_line", "is_ours", "is_hot"]


class ActionItemForm(ArchiveModelForm):
    class Meta:
        model = ActionItem
        fields = ["description", "owner", "due_date", "done"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        customer = self.instance.customer
        # Someone who works on this customer: its owner's team, the owner, the editor.
        people = Q(pk=user.pk) | Q(pk=customer.owner_id)
        if customer.owner.team_id:
            people |= Q(team_id=customer.owner.team_id)
        if self.instance.owner_id:
            people |= Q(pk=self.instance.owner_id)
        self.fields["owner"].queryset = User.objects.filter(people, is_active=True).order_by("last_name", "first_name")
        if not self.instance.pk:
            self.fields["owner"].initial = user.pk


# -- Handover and custom fields -----------------------------------------------------------


class HandoverForm(forms.Form):
    """Tick customers to hand over just those; tick none to hand over all of the from-rep's."""

    from_user = forms.ModelChoiceField(User.objects.none(), label=_("From rep"), required=False)
    to_user = forms.ModelChoiceField(User.objects.none(), label=_("To rep"))
    customers = forms.ModelMultipleChoiceField(
        Customer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Customers to hand over"),
        help_text=_("Tick none to hand over all customers of the from-rep."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        reps = User.objects.filter(role=User.Role.REP)
        if not user.is_admin_role:
            reps = reps.filter(team_id=user.team_id)
        # A rep who left (inactive) is the usual reason for a handover, so stays listed.
        self.fields["from_user"].queryset = reps.order_by("-is_active", "last_name", "first_name")
        self.fields["to_user"].queryset = handover_targets(user).order_by("last_name", "first_name")
        self.from_user = self._chosen_from_user()
        customers = Customer.objects.editable_by(user).select_related("owner").order_by("owner_id", "name")
        if self.from_user is not None:
            customers = customers.filter(owner=self.from_user)
        self.fields["customers"].queryset = customers
        self.fields["customers"].label_from_instance = lambda c: f"{c.name} · {c.code} · {c.owner}"
        # Without a chosen rep a manager picks among the team's customers; an admin
        # (all customers of the company) chooses the rep first.
        self.lists_customers = self.from_user is not None or not user.is_admin_role

    def _chosen_from_user(self):
        raw = self.data.get(self.add_prefix("from_user")) if self.is_bound else self.initial.get("from_user")
        if not raw:
            return None
        try:
            return self.fields["from_user"].queryset.filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            return None

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("customers") and not cleaned.get("from_user") and "from_user" not in self.errors:
            self.add_error("from_user", _("Choose the rep whose customers are handed over, or tick customers."))
        return cleaned


class CustomFieldForm(forms.ModelForm):
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For single and multiple choice: one option per line."),
    )

    class Meta:
        model = CustomField
        fields = ["key", "label", "kind", "choices", "required", "help_text", "position", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Stored values are keyed by it; renaming would orphan them.
            self.fields["key"].disabled = True
            self.initial["choices"] = "\n".join(self.instance.choices)

    def clean_choices(self):
        lines = [line.strip() for line in self.cleaned_data.get("choices", "").splitlines()]
        choices = list(dict.fromkeys(line for line in lines if line))
        if any(len(c) > 50 for c in choices):
            raise ValidationError(_("Each option can have at most 50 characters."), code="choice_too_long")
        return choices

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in (CustomField.Kind.CHOICE, CustomField.Kind.MULTI) and not cleaned.get("choices"):
            self.add_error("choices", _("A choice field needs at least one option."))
        return cleaned
