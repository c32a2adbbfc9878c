"""Business actions on the customer archive. Every write goes through here, inside a
transaction, and records who changed what in the audit trail."""

import uuid
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import audit
from crm.errors import DomainError, EditConflict
from crm.models import AuditEvent, User

from .models import (
    ActionItem,
    Customer,
    CustomerShare,
    CustomField,
    FactSource,
    FactVerification,
    Handover,
    history_field_label,
)
from .search import REFRESH_SQL

ERR_CONFLICT = gettext_lazy(
    "Someone else saved this customer while you were editing it. They changed: %(fields)s. "
    "Your changes were not saved; the form now shows their version, please enter your changes again."
)
ERR_HANDOVER_ROLE = gettext_lazy("Only a manager or an admin can hand customers over.")
ERR_HANDOVER_TARGET = gettext_lazy("Customers can only be handed over to an active sales rep of your team.")
ERR_HANDOVER_SAME = gettext_lazy("The customers already belong to this rep.")
ERR_HANDOVER_NONE = gettext_lazy("Choose at least one customer to hand over.")
ERR_HANDOVER_REASON = gettext_lazy("Give a reason for the handover.")
ERR_NOT_VISIBLE = gettext_lazy("Some of the chosen customers are not yours to hand over.")
ERR_UNKNOWN_FACT = gettext_lazy("“%(fact)s” is not a fact that can be verified.")
ERR_FACT_EMPTY = gettext_lazy("Fill in this fact before verifying it.")


def _next_code() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('customers_customer_code_seq')")
        (number,) = cursor.fetchone()
    return f"KH{number:06d}"


def refresh_derived(customer_ids: Iterable[int]) -> None:
    """Recompute search text and completeness for these customers, set-based."""
    ids = list(customer_ids)
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_SQL, [ids])
    _refresh_completeness(ids)


def completeness_of(values: dict, verified: set[str], has_contact: bool, has_document: bool) -> int:
    """Per cent of expected facts filled, where each verifiable fact counts once more
    when it is verified; a contact and a qualification document are expected too."""
    expected = [*map(values.get, Customer.EXPECTED_FACTS)]
    # Counted in C: an import scores 100,000 customers this way.
    filled = len(expected) - expected.count(None) - expected.count("") - expected.count([])
    filled += has_contact + has_document
    checked = (
        sum(1 for f in Customer.VERIFIABLE_FACTS if f in verified and values.get(f) not in (None, ""))
        if verified
        else 0
    )
    total = len(expected) + 2 + len(Customer.VERIFIABLE_FACTS)
    return round(100 * (filled + checked) / total)


def _refresh_completeness(ids: list[int]) -> None:
    customers = (
        Customer.objects.filter(pk__in=ids)
        .annotate(n_contacts=Count("contacts", distinct=True), n_docs=Count("documents", distinct=True))
        .only("pk", "completeness", *Customer.EXPECTED_FACTS)
    )
    verified: dict[int, set] = {}
    for customer_id, fact in FactVerification.objects.filter(
        customer_id__in=ids, verified_at__isnull=False
    ).values_list("customer_id", "fact"):
        verified.setdefault(customer_id, set()).add(fact)
    changed = []
    for customer in customers:
        values = {f: getattr(customer, f) for f in Customer.EXPECTED_FACTS}
        score = completeness_of(values, verified.get(customer.pk, set()), customer.n_contacts > 0, customer.n_docs > 0)
        if score != customer.completeness:
            customer.completeness = score
            changed.append(customer)
    Customer.objects.bulk_update(changed, ["completeness"], batch_size=1000)


def duplicates_of(*, name: str = "", city: str = "", credit_code: str | None = None, phone: str = "", exclude_pk=None):
    """Existing customers that look like the same company: same credit code, same mobile
    (of the customer or a contact), or the same name in the same city."""
    q = Q()
    if credit_code:
        q |= Q(credit_code=credit_code)
    if phone:
        q |= Q(phone=phone) | Q(contacts__mobile=phone)
    if name and city:
        q |= Q(name=name.strip(), city=city.strip())
    if not q:
        return Customer.objects.none()
    qs = Customer.objects.filter(q).select_related("owner").distinct()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs[:5]


def _apply_sources(*, actor, customer: Customer, sources: dict, changed_facts: set, events: list) -> None:
    """Store each fact's source; a fact whose value changed is no longer verified."""
    existing = {fc.fact: fc for fc in FactVerification.objects.filter(customer=customer)}
    for fact in Customer.VERIFIABLE_FACTS:
        check = existing.get(fact)
        source = sources.get(fact, check.source if check else "")
        if check is None and not source:
            continue
        check = check or FactVerification(customer=customer, fact=fact)
        before = (check.source, check.verified_by_id)
        check.source = source or ""
        if fact in changed_facts and check.verified_at:
            check.verified_by, check.verified_at = None, None
        if check.pk is None or (check.source, check.verified_by_id) != before:
            check.save()
            if before[0] != check.source and check.pk:
                events.append(
                    audit.event(
                        actor=actor,
                        action=AuditEvent.Action.UPDATE,
                        obj=customer,
                        customer_id=customer.pk,
                        changes={f"source:{fact}": [before[0] or None, check.source or None]},
                    )
                )


def customer_create(
    *,
    actor: User,
    data: dict,
    tags: Iterable = (),
    sources: dict | None = None,
    batch: uuid.UUID | None = None,
    reason: str = "",
) -> Customer:
    if actor is not None and actor.is_rep:
        # A rep's new customer is the rep's; forms and the API refuse any other owner.
        data = {**data, "owner": actor}
    with transaction.atomic():
        customer = Customer(**data, created_by=actor if actor and actor.pk else None)
        if not customer.code:
            customer.code = _next_code()
        customer.save()
        customer.tags.set(tags)
        events = [
            audit.event(
                actor=actor,
                action=AuditEvent.Action.CREATE,
                obj=customer,
                customer_id=customer.pk,
                changes={k: [None, v] for k, v in audit.snapshot(customer).items() if v not in (None, "", {}, [])},
                version=customer.version,
                batch=batch,
                reason=reason,
            )
        ]
        _apply_sources(actor=actor, customer=customer, sources=sources or {}, changed_facts=set(), events=[])
        AuditEvent.objects.bulk_create(events)
        refresh_derived([customer.pk])
    customer.refresh_from_db()
    return customer


def _conflict_fields(customer: Customer, since_version: int) -> list[str]:
    names = set()
    for changes in AuditEvent.objects.filter(
        object_type="customer", object_id=customer.pk, version__gt=since_version
    ).values_list("changes", flat=True):
        names.update(changes)
    custom_labels = dict(CustomField.objects.values_list("key", "label"))
    return [history_field_label("customer", name, custom_labels) for name in sorted(names)]


def customer_update(
    *,
    actor: User,
    customer_id: int,
    data: dict,
    expected_version: int | None,
    tags: Iterable | None = None,
    sources: dict | None = None,
    batch: uuid.UUID | None = None,
    reason: str = "",
) -> Customer:
    """Apply `data` to the customer unless someone saved it after `expected_version`."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().select_related("owner").get(pk=customer_id)
        if expected_version is not None and customer.version != expected_version:
            fields = _conflict_fields(customer, expected_version)
            raise EditConflict(ERR_CONFLICT % {"fields": "、".join(fields) or _("unknown")}, fields=fields)
        before = audit.snapshot(customer)
        if tags is not None:
            before["tags"] = sorted(t.name for t in customer.tags.all())
        for field, value in data.items():
            setattr(customer, field, value)
        after = audit.snapshot(customer)
        if tags is not None:
            tags = list(tags)
            after["tags"] = sorted(t.name for t in tags)
        changes = audit.diff(before, after)
        events: list = []
        _apply_sources(actor=actor, customer=customer, sources=sources or {}, changed_facts=set(changes), events=events)
        if changes:
            customer.version += 1
            customer.save()
            if tags is not None:
                customer.tags.set(tags)
            events.insert(
                0,
                audit.event(
                    actor=actor,
                    action=AuditEvent.Action.UPDATE,
                    obj=customer,
                    customer_id=customer.pk,
                    changes=changes,
                    version=customer.version,
                    batch=batch,
                    reason=reason,
                ),
            )
        AuditEvent.objects.bulk_create(events)
        refresh_derived([customer.pk])
    customer.refresh_from_db()
    return customer


ERR_DELETE_HAS_RECORDS = gettext_lazy(
    "This customer has orders, contracts or payments and cannot be deleted; set its status to closed instead."
)


def customer_delete(*, actor: User, customer: Customer) -> None:
    """Delete a customer with no business records; one with orders, contracts or
    payments is kept (the ledger must stay whole) and can be closed instead."""
    from django.db.models import ProtectedError

    try:
        with transaction.atomic():
            _delete_recorded(actor=actor, customer=customer)
    except ProtectedError:
        raise DomainError(ERR_DELETE_HAS_RECORDS) from None


def _delete_recorded(*, actor: User, customer: Customer) -> None:
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=customer,
            customer_id=None,
            changes={k: [v, None] for k, v in audit.snapshot(customer).items() if v not in (None, "")},
        )
        customer.delete()


def fact_verify(*, actor: User, customer: Customer, fact: str) -> FactVerification:
    """Mark the current value of a verifiable fact as verified by `actor`, now."""
    if fact not in Customer.VERIFIABLE_FACTS:
        raise DomainError(ERR_UNKNOWN_FACT % {"fact": fact}, field=fact)
    if getattr(customer, fact) in (None, ""):
        raise DomainError(ERR_FACT_EMPTY, field=fact)
    with transaction.atomic():
        check, _created = FactVerification.objects.select_for_update().get_or_create(customer=customer, fact=fact)
        check.verified_by, check.verified_at = actor, timezone.now()
        if not check.source:
            check.source = FactSource.CUSTOMER
        check.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.VERIFY,
            obj=customer,
            customer_id=customer.pk,
            changes={f"verified:{fact}": [None, str(getattr(customer, fact))]},
        )
        refresh_derived([customer.pk])
    return check


# -- Objects that belong to a customer: contacts, relations, documents, livestock,
# brands and action items share one way of being written and recorded.


def child_save(*, actor: User, obj, batch: uuid.UUID | None = None, reason: str = ""):
    """Create or update an object that belongs to a customer, recording the change."""
    if isinstance(obj, ActionItem):
        # When an action was done is part of the plan's record: ticking "done" stamps it.
        obj.done_at = (obj.done_at or timezone.now()) if obj.done else None
    with transaction.atomic():
        is_new = obj.pk is None
        before = {} if is_new else audit.snapshot(type(obj).objects.get(pk=obj.pk))
        obj.save()
        after = audit.snapshot(obj)
        after.pop("customer", None)
        before.pop("customer", None)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            obj=obj,
            customer_id=obj.customer_id,
            changes=audit.diff(before, after),
            batch=batch,
            reason=reason,
        )
        Customer.objects.filter(pk=obj.customer_id).update(updated_at=timezone.now())
        refresh_derived([obj.customer_id])
    return obj


def child_delete(*, actor: User, obj) -> None:
    with transaction.atomic():
        before = audit.snapshot(obj)
        before.pop("customer", None)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=obj,
            customer_id=obj.customer_id,
            changes={k: [v, None] for k, v in before.items() if v not in (None, "")},
        )
        customer_id = obj.customer_id
        obj.delete()
        refresh_derived([customer_id])


def child_verify(*, actor: User, obj):
    """Verify a document or a livestock reading (objects with verified_by/verified_at)."""
    obj.verified_by, obj.verified_at = actor, timezone.now()
    return child_save(actor=actor, obj=obj)


# -- Handover (客户交接) -----------------------------------------------------------------


def handover_targets(actor: User):
    """The reps `actor` may hand customers to."""
    reps = User.objects.filter(role=User.Role.REP, is_active=True)
    if actor.is_admin_role:
        return reps
    if actor.is_manager and actor.team_id:
        return reps.filter(team_id=actor.team_id)
    return reps.none()


def customer_handover(
    *,
    actor: User,
    to_user: User,
    reason: str,
    customer_ids: Iterable[int] | None = None,
    from_user: User | None = None,
) -> list[Handover]:
    """Move the chosen customers (or all of `from_user`'s) to `to_user`.

    Ownership is the only thing that moves: history, contacts, documents and every
    other record stay with the customer, so the new owner sees all of it.
    """
    if not (actor.is_admin_role or actor.is_manager):
        raise DomainError(ERR_HANDOVER_ROLE)
    if not reason.strip():
        raise DomainError(ERR_HANDOVER_REASON, field="reason")
    if not handover_targets(actor).filter(pk=to_user.pk).exists():
        raise DomainError(ERR_HANDOVER_TARGET, field="to_user")
    with transaction.atomic():
        scope = Customer.objects.editable_by(actor)
        if customer_ids is not None:
            ids = set(customer_ids)
            customers = list(scope.filter(pk__in=ids).select_for_update(of=("self",)).select_related("owner"))
            if len(customers) != len(ids):
                raise DomainError(ERR_NOT_VISIBLE, field="customers")
        elif from_user is not None:
            customers = list(scope.filter(owner=from_user).select_for_update(of=("self",)).select_related("owner"))
        else:
            customers = []
        customers = [c for c in customers if c.owner_id != to_user.pk]
        if not customers:
            raise DomainError(
                ERR_HANDOVER_NONE if customer_ids is None or not customer_ids else ERR_HANDOVER_SAME, field="customers"
            )
        batch = uuid.uuid4()
        now = timezone.now()
        ids = [c.pk for c in customers]
        Customer.objects.filter(pk__in=ids).update(owner=to_user, version=F("version") + 1, updated_at=now)
        # The new owner sees the customers as owner; a share to them would be redundant.
        CustomerShare.objects.filter(customer_id__in=ids, user=to_user).delete()
        AuditEvent.objects.bulk_create(
            [
                audit.event(
                    actor=actor,
                    action=AuditEvent.Action.HANDOVER,
                    obj=c,
                    customer_id=c.pk,
                    changes={"owner": [str(c.owner), str(to_user)]},
                    reason=reason,
                    version=c.version + 1,
                    batch=batch,
                )
                for c in customers
            ],
            batch_size=1000,
        )
        by_owner: dict[int, list] = {}
        for c in customers:
            by_owner.setdefault(c.owner_id, []).append(c)
        handovers = [
            Handover.objects.create(
                from_user=group[0].owner,
                to_user=to_user,
                reason=reason,
                customer_count=len(group),
                actor=actor,
                batch=batch,
            )
            for group in by_owner.values()
        ]
    return handovers


# -- Configuration ----------------------------------------------------------------------


def custom_field_save(*, actor: User, definition: CustomField) -> CustomField:
    """Create or change a custom field definition; recorded in the audit trail (with no
    customer, so only those who see all customers read it)."""
    with transaction.atomic():
        is_new = definition.pk is None
        before = {} if is_new else audit.snapshot(CustomField.objects.get(pk=definition.pk))
        definition.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            obj=definition,
            customer_id=None,
            changes=audit.diff(before, audit.snapshot(definition)),
        )
    return definition
