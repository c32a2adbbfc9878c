"""Recording changes: snapshot an object's fields, diff two snapshots, write events.

Services call `snapshot()` before a change and `record()` after it, so every write
says who changed what from which value to which. Bulk actions build their events with
`event()` and write them with one `bulk_create`.
"""

import datetime
import decimal
import uuid
from collections.abc import Iterable

from django.db import models

from .models import AuditEvent

# Fields that change on every write and say nothing to a reader of the history.
IGNORED_FIELDS = {"id", "created_at", "updated_at", "version", "completeness", "search_text", "search_tokens"}


# The apps whose models are recorded; an event's object_type is the model's name,
# unique across these apps.
AUDITED_APPS = ("customers", "sales", "credit", "visits")


def model_for(object_type: str):
    """The model class an AuditEvent's object_type names, or None."""
    from django.apps import apps

    for app_label in AUDITED_APPS:
        try:
            return apps.get_model(app_label, object_type)
        except LookupError:
            continue
    return None


def _plain(value):
    """A JSON-safe rendering of a field value, stable across a save."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (decimal.Decimal, float)):
        # Fixed-point: normalize() alone would write 438000 as "4.38E+5".
        return format(decimal.Decimal(str(value)).normalize(), "f") if value == value else None
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if hasattr(value, "name"):  # files
        return value.name or None
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict:
    """The object's concrete field values, by attribute name, in plain form.

    Foreign keys are rendered by their str() (a person's name reads better in history
    than an id), so the related object must be loaded by the caller if it matters.
    """
    values = {}
    for field in obj._meta.concrete_fields:
        if field.name in IGNORED_FIELDS or (fields is not None and field.name not in fields):
            continue
        if field.is_relation:
            related = getattr(obj, field.name) if getattr(obj, field.attname) is not None else None
            values[field.name] = _plain(related)
        elif isinstance(field, models.JSONField) and isinstance(getattr(obj, field.attname), dict):
            # One entry per key, so history shows each custom value's own change.
            for key, value in getattr(obj, field.attname).items():
                values[f"{field.name}.{key}"] = _plain(value)
        else:
            values[field.name] = _plain(getattr(obj, field.attname))
    return values


def diff(old: dict, new: dict) -> dict:
    """{field: [old, new]} for each field whose plain value differs."""
    changes = {}
    for key in sorted(set(old) | set(new)):
        if key in IGNORED_FIELDS:
            continue
        before, after = old.get(key), new.get(key)
        if before in ("", None) and after in ("", None):
            continue
        if before != after:
            # An empty text and a missing value read the same to a person.
            changes[key] = [None if before == "" else before, None if after == "" else after]
    return changes


def event(
    *,
    actor,
    action: str,
    obj: models.Model,
    customer_id: int | None,
    changes: dict | None = None,
    reason: str = "",
    version: int | None = None,
    batch: uuid.UUID | None = None,
) -> AuditEvent:
    """An unsaved event, for bulk writes."""
    return AuditEvent(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        customer_id=customer_id,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        changes=changes or {},
        reason=reason[:500],
        version=version,
        batch=batch,
    )


def record(**kwargs) -> AuditEvent | None:
    """Write one event; an update that changed nothing writes nothing."""
    if kwargs.get("action") == AuditEvent.Action.UPDATE and not kwargs.get("changes"):
        return None
    item = event(**kwargs)
    item.save()
    return item
