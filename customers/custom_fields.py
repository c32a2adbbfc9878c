"""Admin-defined custom fields: turning definitions into form fields, and validating
and normalising values before they are stored in Customer.custom_fields (JSON keyed by
the definition's key: text and choice as strings, numbers as numbers, dates as ISO
strings, multiple choice as a list)."""

import datetime
import decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from .models import CustomField

FORM_PREFIX = "cf_"


def active_definitions():
    return list(CustomField.objects.filter(active=True))


def form_field(definition: CustomField) -> forms.Field:
    common = {"label": definition.label, "required": definition.required, "help_text": definition.help_text}
    kind = definition.kind
    if kind == CustomField.Kind.NUMBER:
        return forms.DecimalField(max_digits=18, decimal_places=4, **common)
    if kind == CustomField.Kind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == CustomField.Kind.CHOICE:
        return forms.ChoiceField(choices=[("", "---------")] + [(c, c) for c in definition.choices], **common)
    if kind == CustomField.Kind.MULTI:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(max_length=500, **common)


def clean_value(definition: CustomField, raw):
    """The stored form of one value, or ValidationError naming what is wrong."""
    if raw in (None, "", []):
        if definition.required:
            raise ValidationError(_("This field is required."), code="required")
        return None
    kind = definition.kind
    if kind == CustomField.Kind.NUMBER:
        try:
            number = decimal.Decimal(str(raw))
        except decimal.InvalidOperation:
            raise ValidationError(_("Enter a number."), code="invalid") from None
        if not number.is_finite():
            raise ValidationError(_("Enter a number."), code="invalid")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomField.Kind.DATE:
        value = raw if isinstance(raw, datetime.date) else parse_date(str(raw))
        if value is None:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid")
        return value.isoformat()
    if kind == CustomField.Kind.CHOICE:
        if str(raw) not in definition.choices:
            raise ValidationError(
                _("“%(value)s” is not one of the choices: %(choices)s."),
                code="invalid_choice",
                params={"value": raw, "choices": "、".join(definition.choices)},
            )
        return str(raw)
    if kind == CustomField.Kind.MULTI:
        values = raw if isinstance(raw, (list, tuple)) else [raw]
        wrong = [str(v) for v in values if str(v) not in definition.choices]
        if wrong:
            raise ValidationError(
                _("“%(value)s” is not one of the choices: %(choices)s."),
                code="invalid_choice",
                params={"value": "、".join(wrong), "choices": "、".join(definition.choices)},
            )
        return [str(v) for v in values]
    text = str(raw).strip()
    if len(text) > 500:
        raise ValidationError(_("At most 500 characters."), code="max_length")
    return text


def clean_values(raw: dict, definitions=None, *, partial: bool = False) -> tuple[dict, dict]:
    """(cleaned values, {key: [messages]}) for a dict of raw values keyed by field key.

    Unknown keys are errors; with partial=True, missing required fields are not.
    """
    definitions = active_definitions() if definitions is None else definitions
    by_key = {d.key: d for d in definitions}
    cleaned, errors = {}, {}
    for key in raw:
        if key not in by_key:
            errors[key] = [_("There is no custom field “%(key)s”.") % {"key": key}]
    for key, definition in by_key.items():
        if partial and key not in raw:
            continue
        try:
            value = clean_value(definition, raw.get(key))
        except ValidationError as exc:
            errors[key] = exc.messages
            continue
        if value is not None:
            cleaned[key] = value
    return cleaned, errors


def display_value(definition: CustomField, value) -> str:
    if value in (None, "", []):
        return ""
    if isinstance(value, list):
        return "、".join(value)
    return str(value)
