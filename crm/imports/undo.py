"""Reverting a committed import from its undo log: delete the rows it created (last
created first), put back rows it deleted, restore the old values of rows it updated.
Each step is recorded in the history under the job's undo batch."""

from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit
from crm.models import AuditEvent

from .bulk import CopyInsert, copy_update

DELETE_CHUNK = 5000


def _customer_of(model, obj_values: dict):
    if model._meta.label_lower == "customers.customer":
        return obj_values["id"]
    return obj_values.get("customer_id")


def revert(*, job, actor, importer) -> None:
    log = job.undo_log or {}
    now = timezone.now()
    reason = (_("Undo of import #%(id)s: %(name)s") % {"id": job.pk, "name": job.original_name})[:500]
    events = CopyInsert(AuditEvent, ids=False)
    touched: set[int] = set()
    deleted_customers: set[int] = set()
    pending = []
    names: dict = {}

    def event(action, model, pk, repr_, customer_id, changes):
        pending.append(
            {
                "at": now,
                "actor_id": actor.pk,
                "action": action,
                "customer_id": customer_id,
                "object_type": model._meta.model_name,
                "object_id": pk,
                "object_repr": str(repr_)[:200],
                "changes": changes,
                "reason": reason,
                "batch": job.undo_batch,
            }
        )

    # 1. What the import created, newest first (children before their parents).
    for label, ids in reversed(log.get("created", [])):
        model = apps.get_model(label)
        has_customer = any(f.attname == "customer_id" for f in model._meta.concrete_fields)
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            objects = list(model.objects.filter(pk__in=chunk))
            for obj in objects:
                customer_id = obj.pk if label == "customers.customer" else (obj.customer_id if has_customer else None)
                if label == "customers.customer":
                    deleted_customers.add(obj.pk)
                elif customer_id:
                    touched.add(customer_id)
                event(AuditEvent.Action.DELETE, model, obj.pk, obj, customer_id, {})
            model.objects.filter(pk__in=chunk).delete()

    # 2. What the import deleted (an order's replaced lines), put back as it was.
    for label, rows in log.get("deleted", []):
        model = apps.get_model(label)
        fields = {f.attname: f for f in model._meta.concrete_fields}
        writer = CopyInsert(model)
        for row in rows:
            writer.add({name: _python(fields[name], value) for name, value in row.items() if name in fields})
        writer.flush()

    # 3. What the import updated, back to its old values.
    for label, rows in (log.get("updated") or {}).items():
        model = apps.get_model(label)
        fields = {f.attname: f for f in model._meta.concrete_fields}
        current = {obj.pk: obj for obj in model.objects.select_for_update().filter(pk__in=[int(pk) for pk in rows])}
        groups: dict[tuple, list] = {}
        for pk, old in rows.items():
            obj = current.get(int(pk))
            if obj is None:
                continue
            values = {name: _python(fields[name], value) for name, value in old.items()}
            changes = {}
            for name, value in values.items():
                field = fields[name]
                before, after = getattr(obj, name), value
                if before != after:
                    changes[field.name] = [_render(field, before, names), _render(field, after, names)]
            groups.setdefault(tuple(sorted(values)), []).append({"id": obj.pk, **values})
            customer_id = _customer_of(model, {"id": obj.pk, "customer_id": getattr(obj, "customer_id", None)})
            if customer_id:
                touched.add(customer_id)
            event(AuditEvent.Action.UPDATE, model, obj.pk, obj, customer_id, changes)
        for attnames, group in groups.items():
            copy_update(model, group, list(attnames))
        extra = {}
        if "version" in fields:
            extra["version"] = models.F("version") + 1
        if "updated_at" in fields:
            extra["updated_at"] = now
        if extra:
            model.objects.filter(pk__in=list(current)).update(**extra)

    touched -= deleted_customers
    for row in pending:
        if row["customer_id"] in deleted_customers:
            row["customer_id"] = None
        if row["action"] == AuditEvent.Action.UPDATE and not row["changes"]:
            continue
        events.add(row)
    events.flush()
    importer.after_undo(touched)


def _python(field: models.Field, value):
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return value
    return field.to_python(value)


def _render(field: models.Field, value, names: dict):
    """A value as the history shows it: a related object by name (read once per object)."""
    if field.is_relation and value is not None:
        key = (field.related_model, value)
        if key not in names:
            related = field.related_model.objects.filter(pk=value).first()
            names[key] = str(related) if related else value
        return names[key]
    return audit._plain(value)
