"""Communication records (沟通记录): calls, SMS, e-mails, WeChat chats, faxes and
meetings people log against a customer, recorded in the audit trail. Messages the
system sends are recorded by visits.services.care and cannot be edited here."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import audit
from crm.errors import DomainError
from crm.models import AuditEvent, User
from customers.models import Contact

from ..models import Communication

ERR_CONTACT_CUSTOMER = _("This contact belongs to another customer.")
ERR_IN_FUTURE = _("A communication is recorded once it has happened: the time is in the future.")
ERR_SYSTEM_MESSAGE = _("Messages the system sent are a record of what went out and cannot be changed.")
ERR_MOVE = _("A communication cannot be moved to another customer.")

# A phone's clock runs a little ahead now and then.
FUTURE_SLACK = datetime.timedelta(minutes=10)


def _check(record: Communication) -> None:
    if (
        record.contact_id is not None
        and not Contact.objects.filter(pk=record.contact_id, customer_id=record.customer_id).exists()
    ):
        raise DomainError(ERR_CONTACT_CUSTOMER, field="contact")
    if record.occurred_at > timezone.now() + FUTURE_SLACK:
        raise DomainError(ERR_IN_FUTURE, field="occurred_at")


def _snapshot(record: Communication) -> dict:
    values = audit.snapshot(record)
    values.pop("customer", None)
    return values


def communication_save(*, actor: User, record: Communication) -> Communication:
    """Create (record.pk None) or change a communication logged by a person. The caller
    has checked that `actor` may edit the customer."""
    with transaction.atomic():
        is_new = record.pk is None
        before = {}
        if not is_new:
            stored = Communication.objects.select_related("contact").get(pk=record.pk)
            if stored.message_id is not None:
                raise DomainError(ERR_SYSTEM_MESSAGE, code="forbidden")
            if stored.customer_id != record.customer_id:
                raise DomainError(ERR_MOVE, field="customer")
            before = _snapshot(stored)
        else:
            record.user = actor
            record.message = None
        _check(record)
        record.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            obj=record,
            customer_id=record.customer_id,
            changes=audit.diff(before, _snapshot(record)),
        )
    return record


def communication_delete(*, actor: User, record: Communication) -> None:
    if record.message_id is not None:
        raise DomainError(ERR_SYSTEM_MESSAGE, code="forbidden")
    with transaction.atomic():
        before = _snapshot(record)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=record,
            customer_id=record.customer_id,
            changes={k: [v, None] for k, v in before.items() if v not in (None, "")},
        )
        attachment = record.attachment
        record.delete()
        if attachment:
            # The file goes once the row is surely gone.
            storage, name = attachment.storage, attachment.name
            transaction.on_commit(lambda: storage.delete(name))
