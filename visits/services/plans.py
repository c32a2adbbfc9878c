"""Visit plans: planning, assigning, rescheduling and cancelling, and the nightly
marking of plans whose day has passed as missed.

Who may be a plan's rep: someone who may change the customer's records (so they can
log the visit). A user plans for themselves; only a manager (for the reps of their
team) or an admin assigns a plan to somebody else. Every write is recorded in the
audit trail against the customer.
"""

import datetime
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from crm import audit
from crm.errors import DomainError
from crm.models import AuditEvent, User
from customers.models import Customer

from ..models import Visit, VisitLevel, VisitPlan

ERR_WRITER_ROLE = gettext_lazy("Your role does not plan or log visits.")
ERR_CUSTOMER = gettext_lazy("This customer does not exist.")
ERR_CUSTOMER_NOT_EDITABLE = gettext_lazy("You may not plan visits to this customer.")
ERR_ASSIGN = gettext_lazy("Only a manager (for the reps of their team) or an admin plans visits for someone else.")
ERR_REP_CANNOT_VISIT = gettext_lazy("%(rep)s does not look after this customer.")
ERR_PAST_DATE = gettext_lazy("The planned date has passed.")
ERR_PURPOSE = gettext_lazy("Say what the visit is for.")
ERR_NOT_OPEN = gettext_lazy("This plan is %(status)s; it can no longer be changed.")
ERR_CANCEL_REASON = gettext_lazy("Give a reason for cancelling.")

# The reason recorded on plans the nightly job marks as missed.
MISSED_REASON = "nightly: the planned day passed without a visit"


def _record(actor, action, plan: VisitPlan, before: dict, reason: str = "", batch=None):
    return audit.record(
        actor=actor,
        action=action,
        obj=plan,
        customer_id=plan.customer_id,
        changes=audit.diff(before, audit.snapshot(plan)),
        reason=reason,
        batch=batch,
    )


def may_assign(actor: User, rep: User) -> bool:
    """Whether `actor` may make `rep` the rep of a plan (apart from the customer)."""
    if rep.pk == actor.pk or actor.is_admin_role:
        return True
    return actor.is_manager and actor.team_id is not None and rep.team_id == actor.team_id


def assignable_reps(actor: User):
    """The users `actor` may plan visits for: themselves, their team (managers), every
    active user who writes the archive (admins)."""
    users = User.objects.filter(is_active=True)
    if actor.is_admin_role:
        return users.exclude(role=User.Role.FINANCE)
    if actor.is_manager and actor.team_id:
        return users.filter(team_id=actor.team_id)
    return users.filter(pk=actor.pk)


def _check_plan(
    *,
    actor: User,
    customer: Customer,
    rep: User,
    planned_date: datetime.date,
    purpose: str,
    assigning: bool = True,
) -> None:
    """The rules of a plan; `assigning` is False when an existing plan keeps its rep
    (client service may reschedule a rep's plan without assigning it)."""
    if not actor.writes_archive:
        raise DomainError(ERR_WRITER_ROLE)
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise DomainError(ERR_CUSTOMER, field="customer")
    if not Customer.objects.editable_by(actor).filter(pk=customer.pk).exists():
        raise DomainError(ERR_CUSTOMER_NOT_EDITABLE, field="customer")
    if assigning and not may_assign(actor, rep):
        raise DomainError(ERR_ASSIGN, field="rep")
    if not rep.is_active or not Customer.objects.editable_by(rep).filter(pk=customer.pk).exists():
        raise DomainError(ERR_REP_CANNOT_VISIT % {"rep": rep}, field="rep")
    if planned_date < timezone.localdate():
        raise DomainError(ERR_PAST_DATE, field="planned_date")
    if not purpose.strip():
        raise DomainError(ERR_PURPOSE, field="purpose")


def plan_create(
    *,
    actor: User,
    customer: Customer,
    planned_date: datetime.date,
    purpose: str,
    rep: User | None = None,
    planned_time: datetime.time | None = None,
    level: str = VisitLevel.BUSINESS,
    project: str = "",
    follow_up_of: Visit | None = None,
) -> VisitPlan:
    """Plan a visit; `rep` defaults to the actor. A plan for someone else records who
    assigned it."""
    rep = rep or actor
    _check_plan(actor=actor, customer=customer, rep=rep, planned_date=planned_date, purpose=purpose)
    with transaction.atomic():
        plan = VisitPlan.objects.create(
            customer=customer,
            rep=rep,
            planned_date=planned_date,
            planned_time=planned_time,
            level=level,
            purpose=purpose.strip(),
            project=project.strip(),
            follow_up_of=follow_up_of,
            assigned_by=actor if rep.pk != actor.pk else None,
        )
        _record(actor, AuditEvent.Action.CREATE, plan, {})
    return plan


PLAN_FIELDS = ("rep", "planned_date", "planned_time", "level", "purpose", "project")


def plan_update(*, actor: User, plan: VisitPlan, **changes) -> VisitPlan:
    """Reschedule or reassign an open plan, or change what it is for (the fields in
    PLAN_FIELDS; the customer stays)."""
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"plan_update() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        current = VisitPlan.objects.select_for_update().select_related("customer", "rep").get(pk=plan.pk)
        if current.status != VisitPlan.Status.PLANNED:
            raise DomainError(ERR_NOT_OPEN % {"status": current.get_status_display()})
        before = audit.snapshot(current)
        old_rep_id = current.rep_id
        rep = changes.get("rep", current.rep)
        planned_date = changes.get("planned_date", current.planned_date)
        # An unchanged date that has passed (a plan for today, edited tonight) is no error.
        check_date = planned_date if planned_date != current.planned_date else max(planned_date, timezone.localdate())
        _check_plan(
            actor=actor,
            customer=current.customer,
            rep=rep,
            planned_date=check_date,
            purpose=changes.get("purpose", current.purpose),
            assigning=rep.pk != old_rep_id,
        )
        for field, value in changes.items():
            setattr(current, field, value.strip() if isinstance(value, str) else value)
        if rep.pk != old_rep_id:
            current.assigned_by = actor if rep.pk != actor.pk else None
        current.save()
        _record(actor, AuditEvent.Action.UPDATE, current, before)
    return current


def plan_cancel(*, actor: User, plan: VisitPlan, reason: str) -> VisitPlan:
    """Cancel an open (or missed) plan, saying why."""
    if not reason.strip():
        raise DomainError(ERR_CANCEL_REASON, field="reason")
    with transaction.atomic():
        current = VisitPlan.objects.select_for_update().select_related("customer", "rep").get(pk=plan.pk)
        if current.status not in (VisitPlan.Status.PLANNED, VisitPlan.Status.MISSED):
            raise DomainError(ERR_NOT_OPEN % {"status": current.get_status_display()})
        before = audit.snapshot(current)
        current.status = VisitPlan.Status.CANCELLED
        current.cancel_reason = reason.strip()[:200]
        current.save(update_fields=["status", "cancel_reason", "updated_at"])
        _record(actor, AuditEvent.Action.UPDATE, current, before, reason=current.cancel_reason)
    return current


def plans_mark_missed(*, today: datetime.date) -> int:
    """Mark every plan still open for a day before `today` as missed, in one UPDATE, and
    record one event per plan (one batch). A second run for the same date finds nothing
    left to mark."""
    with transaction.atomic():
        marked = list(
            VisitPlan.objects.missed_by(today).select_for_update(skip_locked=True).values_list("pk", flat=True)
        )
        if not marked:
            return 0
        VisitPlan.objects.filter(pk__in=marked).update(status=VisitPlan.Status.MISSED, updated_at=timezone.now())
        batch = uuid.uuid4()
        plans = VisitPlan.objects.filter(pk__in=marked).select_related("customer")
        AuditEvent.objects.bulk_create(
            [
                audit.event(
                    actor=None,
                    action=AuditEvent.Action.UPDATE,
                    obj=plan,
                    customer_id=plan.customer_id,
                    changes={"status": [VisitPlan.Status.PLANNED.value, VisitPlan.Status.MISSED.value]},
                    reason=MISSED_REASON,
                    batch=batch,
                )
                for plan in plans
            ],
            batch_size=1000,
        )
    return len(marked)
