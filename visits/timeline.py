"""The customer timeline: visits, communications, care messages, orders and history
events of one customer in date order, paginated and filterable by kind.

The page is cut by the database: one UNION ALL of (kind, id, time) over the sources,
ordered and sliced, so only the page's rows are read; then one query per kind fetches
those rows with what they show. A page costs the same queries for 5 entries or 50,000.

Communications the system sent are shown as their care message (not twice), and the
history leaves out the changes of what the timeline shows itself (a visit logged is a
visit, not also a "created visit" event); the History tab keeps every change.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import CharField, DateTimeField, F, Value
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import audit
from crm.models import AuditEvent
from customers.models import Customer, CustomField, customer_history, history_changes, history_field_label
from sales.models import Order

from .models import CareMessage, Communication, Visit

PAGE_SIZE = 20
# A history entry names at most this many changed fields (a creation changes them all).
MAX_LABELS = 6

KINDS = [
    ("visit", _("Visits")),
    ("communication", _("Communications")),
    ("care", _("Care messages")),
    ("order", _("Orders")),
    ("history", _("Changes")),
]
# Object types whose audit events would repeat an entry the timeline already shows.
SHOWN_ELSEWHERE = ["visit", "communication", "caremessage", "order", "orderline"]


def _keys(queryset, kind: str, when):
    """(id, kind, when) rows of one source, the shape every source shares in the union."""
    return (
        queryset.order_by()
        .annotate(entry_kind=Value(kind, output_field=CharField()), entry_at=when)
        .values("pk", "entry_kind", "entry_at")
    )


def _sources(user, customer) -> dict:
    # An order is dated: it stands at the start of its day, local time.
    order_day = RawSQL(
        f"({Order._meta.db_table}.order_date::timestamp AT TIME ZONE %s)",
        [settings.TIME_ZONE],
        output_field=DateTimeField(),
    )
    return {
        "visit": _keys(Visit.objects.visible_to(user).filter(customer=customer), "visit", F("checked_in_at")),
        "communication": _keys(
            Communication.objects.visible_to(user).filter(customer=customer, message__isnull=True),
            "communication",
            F("occurred_at"),
        ),
        "care": _keys(CareMessage.objects.visible_to(user).filter(customer=customer), "care", F("sent_at")),
        "order": _keys(Order.objects.visible_to(user).filter(customer=customer), "order", order_day),
        "history": _keys(
            customer_history(user, customer).exclude(object_type__in=SHOWN_ELSEWHERE),
            "history",
            F("at"),
        ),
    }


def _fetch(kind: str, ids: list[int]) -> dict:
    """The page's rows of one kind, by id, with what the timeline shows of them."""
    if kind == "visit":
        rows = Visit.objects.filter(pk__in=ids).select_related("rep").prefetch_related("contacts")
    elif kind == "communication":
        rows = Communication.objects.filter(pk__in=ids).select_related("contact", "user")
    elif kind == "care":
        rows = CareMessage.objects.filter(pk__in=ids).select_related("contact", "campaign")
    elif kind == "order":
        rows = Order.objects.filter(pk__in=ids).select_related("created_by")
    else:
        rows = AuditEvent.objects.filter(pk__in=ids).select_related("actor")
    return {row.pk: row for row in rows}


def _object_kind(event: AuditEvent) -> str:
    """What a history event is about ("payment"), unless it is the customer itself."""
    model = audit.model_for(event.object_type)
    return str(model._meta.verbose_name) if model is not None and model is not Customer else ""


def _history_changes(user, events: list[AuditEvent]) -> dict[int, list[str]]:
    """The labels of the fields each event changed that `user` may read (the values
    are on the History tab)."""
    changes = {e.pk: history_changes(user, e) for e in events}
    custom_labels = None
    if any(name.startswith("custom_fields.") for names in changes.values() for name in names):
        custom_labels = dict(CustomField.objects.values_list("key", "label"))
    changed = {}
    for e in events:
        labels = [history_field_label(e.object_type, name, custom_labels or {}) for name in changes[e.pk]]
        if len(labels) > MAX_LABELS:
            labels = [*labels[:MAX_LABELS], gettext("and %(count)d more") % {"count": len(labels) - MAX_LABELS}]
        changed[e.pk] = labels
    return changed


def customer_timeline(*, user, customer, kind: str = "", page_number=None):
    """The timeline page: (page, entries), each entry {"kind", "when", "obj"} (and for
    history events "changes", the changed fields' labels, and "object_kind"), newest first."""
    sources = _sources(user, customer)
    chosen = [sources[kind]] if kind in sources else list(sources.values())
    merged = chosen[0].union(*chosen[1:], all=True) if len(chosen) > 1 else chosen[0]
    merged = merged.order_by("-entry_at", "-pk")
    page = Paginator(merged, PAGE_SIZE).get_page(page_number)
    keys = list(page.object_list)
    ids: dict[str, list[int]] = {}
    for key in keys:
        ids.setdefault(key["entry_kind"], []).append(key["pk"])
    rows = {k: _fetch(k, pks) for k, pks in ids.items()}
    changes = _history_changes(user, list(rows.get("history", {}).values()))
    entries = []
    for key in keys:
        kind = key["entry_kind"]
        obj = rows[kind].get(key["pk"])
        if obj is None:  # gone between the two queries
            continue
        entry = {"kind": kind, "when": key["entry_at"], "obj": obj}
        if kind == "history":
            entry.update(changes=changes[obj.pk], object_kind=_object_kind(obj))
        entries.append(entry)
    return page, entries


def customer_timeline_context(request, customer) -> dict:
    kind = request.GET.get("kind", "")
    kind = kind if kind in dict(KINDS) else ""
    page, entries = customer_timeline(
        user=request.user, customer=customer, kind=kind, page_number=request.GET.get("page")
    )
    return {"timeline_page": page, "timeline_entries": entries, "timeline_kinds": KINDS, "timeline_kind": kind}
