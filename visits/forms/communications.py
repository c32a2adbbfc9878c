"""The communication form and the filters of the communication list (shared by the
page, its export and the API, so a filter means the same everywhere)."""

import os

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _

from customers.forms import ArchiveModelForm
from customers.models import Contact, Customer

from ..models import Communication

# Call recordings, fax scans, screenshots of a chat, documents.
ATTACHMENT_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "webp", "tif", "tiff", "mp3", "m4a", "amr", "wav", "aac"]
LOCAL_DATETIME = "%Y-%m-%dT%H:%M"
ERR_ATTACHMENT_SIZE = _("The file is too large (at most %(mb)d MB).")


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def clean_attachment(upload):
    """Size limit and a plain file name; the extension is checked by the field's validator."""
    if upload and getattr(upload, "size", 0) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            ERR_ATTACHMENT_SIZE, code="file_too_large", params={"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)}
        )
    if upload and hasattr(upload, "name"):
        upload.name = os.path.basename(upload.name)
    return upload


class CommunicationForm(ArchiveModelForm):
    class Meta:
        model = Communication
        fields = ["kind", "direction", "occurred_at", "contact", "subject", "summary", "attachment"]

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(customer=customer)
        self.fields["contact"].empty_label = _("(none)")
        occurred = self.fields["occurred_at"]
        occurred.widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_DATETIME)
        occurred.input_formats = [LOCAL_DATETIME, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        self.fields["summary"].widget.attrs["rows"] = 4
        attachment = self.fields["attachment"]
        # The page links the current file itself: media is never served publicly.
        attachment.widget = forms.FileInput(attrs={"accept": ",".join(f".{e}" for e in ATTACHMENT_EXTENSIONS)})
        attachment.validators.append(FileExtensionValidator(ATTACHMENT_EXTENSIONS))
        attachment.help_text = _("A call recording, a fax scan, a photo or a PDF; at most %(mb)d MB.") % {
            "mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        }

    def clean_attachment(self):
        return clean_attachment(self.cleaned_data.get("attachment"))


class CommunicationFilter(django_filters.FilterSet):
    PEOPLE, SYSTEM = "people", "system"

    q = django_filters.CharFilter(method="filter_customer_search", label=_("Customer"))
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput, label=_("Customer id"))
    kind = django_filters.ChoiceFilter(choices=Communication.Kind.choices, label=_("Kind"))
    direction = django_filters.ChoiceFilter(choices=Communication.Direction.choices, label=_("Direction"))
    source = django_filters.ChoiceFilter(
        choices=[(PEOPLE, _("Logged by people")), (SYSTEM, _("Sent by the system"))],
        method="filter_source",
        label=_("Source"),
    )
    date_from = django_filters.DateFilter(
        field_name="occurred_at__date", lookup_expr="gte", label=_("From"), widget=date_input()
    )
    date_to = django_filters.DateFilter(
        field_name="occurred_at__date", lookup_expr="lte", label=_("To"), widget=date_input()
    )

    class Meta:
        model = Communication
        fields: list[str] = []

    def filter_customer_search(self, queryset, name, value):
        return queryset.filter(customer__in=Customer.objects.search(value))

    def filter_source(self, queryset, name, value):
        return queryset.filter(message__isnull=value == self.PEOPLE)
