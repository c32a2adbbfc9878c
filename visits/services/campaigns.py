"""Bulk messages (群发): a campaign sends one template to the contacts of a selection
of customers (region, customer type, tag, owner rep), chosen through the sender's own
visibility: nobody can message a customer they cannot see.

Who sends them: client service and admins (any customer), and managers (the customers
of their team's reps). Reps and finance do not: a bulk message speaks for the company,
and the commercial-SMS rules want it sent by those who keep the opt-outs.

A campaign is saved as a draft, previewed (recipient count and a rendered sample),
then sent: small selections at once, large ones by a Celery worker. Sending goes
through visits.services.care.deliver, so each contact gets it once however often
"send" is pressed or the task retried.
"""

import datetime
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import audit
from crm.errors import DomainError
from crm.models import AuditEvent, Region, User
from customers.models import Contact, Customer, Tag

from ..models import Campaign, CareMessage, MessageTemplate
from . import care

logger = logging.getLogger(__name__)

ERR_BULK_ROLE = _("Only client service, admins and managers (for their team's customers) send bulk messages.")
ERR_BULK_TEMPLATE = _("Choose an active bulk-message template.")
ERR_NOT_DRAFT = _("This bulk message has already been sent; copy it into a new one to send it again.")
ERR_OWNER_NOT_VISIBLE = _("Choose a rep whose customers you see.")
ERR_NO_RECIPIENTS = _("Nobody in this selection can be messaged.")

# Selections up to this many recipients are sent while the sender waits; larger ones
# by a Celery worker.
INLINE_LIMIT = 50


def may_send_bulk(user: User) -> bool:
    return user.is_authenticated and (user.edits_all_customers or (user.is_manager and user.team_id is not None))


@dataclass(frozen=True)
class Selection:
    """Which customers a campaign goes to (blank: any), and whether to their main
    contact only or to every contact. Stored in `Campaign.criteria`."""

    region_id: int | None = None
    customer_type: str = ""
    tag_id: int | None = None
    owner_id: int | None = None
    primary_only: bool = True

    def as_criteria(self) -> dict:
        criteria = {"region": self.region_id, "type": self.customer_type, "tag": self.tag_id, "owner": self.owner_id}
        return {**{k: v for k, v in criteria.items() if v}, "primary_only": self.primary_only}

    @classmethod
    def from_criteria(cls, criteria: dict) -> "Selection":
        return cls(
            region_id=criteria.get("region"),
            customer_type=criteria.get("type", ""),
            tag_id=criteria.get("tag"),
            owner_id=criteria.get("owner"),
            primary_only=criteria.get("primary_only", True),
        )


def selected_customers(user: User, selection: Selection):
    """The customers of the selection among those `user` sees (closed ones never)."""
    customers = Customer.objects.visible_to(user).exclude(status=Customer.Status.CLOSED)
    if selection.region_id:
        customers = customers.filter(owner__team__region_id=selection.region_id)
    if selection.customer_type:
        customers = customers.filter(type=selection.customer_type)
    if selection.tag_id:
        customers = customers.filter(tags=selection.tag_id)
    if selection.owner_id:
        customers = customers.filter(owner_id=selection.owner_id)
    return customers


def selected_contacts(campaign: Campaign):
    """Every contact of the selection (main contacts only unless chosen otherwise),
    reachable or not, through the visibility of whoever created the campaign."""
    selection = Selection.from_criteria(campaign.criteria)
    contacts = Contact.objects.filter(customer__in=selected_customers(campaign.created_by, selection).values("pk"))
    return contacts.filter(is_primary=True) if selection.primary_only else contacts


def campaign_recipients(campaign: Campaign):
    """The contacts the campaign would message now."""
    return selected_contacts(campaign).filter(care.reachable_q(campaign.template.channel))


@dataclass(frozen=True)
class Preview:
    recipients: int
    customers: int
    opted_out: int
    no_address: int
    sample_to: str
    sample_subject: str
    sample: str
    sms_parts: int


def campaign_preview(*, campaign: Campaign, day: datetime.date | None = None) -> Preview:
    """What sending would do: how many contacts (of how many customers) receive it, how
    many are left out and why, and the message as the first recipient would read it.
    Two queries, whatever the size of the selection."""
    day = day or timezone.localdate()
    template = campaign.template
    reachable = care.reachable_q(template.channel)
    contacts = selected_contacts(campaign)
    # The aliases must not be field names: a later filter would read them as the aggregate.
    counts = contacts.aggregate(
        n_recipients=Count("pk", filter=reachable),
        n_customers=Count("customer", filter=reachable, distinct=True),
        n_opted_out=Count("pk", filter=Q(opted_out=True)),
        n_no_address=Count("pk", filter=Q(opted_out=False, **{care.address_field(template.channel): ""})),
    )
    first = contacts.filter(reachable).order_by("customer__name", "pk").values(*care.CONTACT_COLUMNS).first()
    sample = care.draft_for(first, template, occasion="", day=day) if first else None
    return Preview(
        recipients=counts["n_recipients"],
        customers=counts["n_customers"],
        opted_out=counts["n_opted_out"],
        no_address=counts["n_no_address"],
        sample_to=f"{first['name']} · {first['customer__name']}" if first else "",
        sample_subject=sample.subject if sample else "",
        sample=sample.body if sample else "",
        sms_parts=care.sms_parts(sample.body) if sample else 0,
    )


def _check_selection(actor: User, selection: Selection) -> None:
    if selection.owner_id and not Customer.objects.visible_to(actor).filter(owner_id=selection.owner_id).exists():
        raise DomainError(ERR_OWNER_NOT_VISIBLE, field="owner")


def campaign_save(
    *, actor: User, campaign: Campaign, name: str, template: MessageTemplate, selection: Selection
) -> Campaign:
    """Create or change a draft campaign."""
    if not may_send_bulk(actor):
        raise DomainError(ERR_BULK_ROLE, code="forbidden")
    if template.occasion != MessageTemplate.Occasion.BULK or not template.active:
        raise DomainError(ERR_BULK_TEMPLATE, field="template")
    if campaign.pk is not None and campaign.status != Campaign.Status.DRAFT:
        raise DomainError(ERR_NOT_DRAFT)
    _check_selection(actor, selection)
    with transaction.atomic():
        is_new = campaign.pk is None
        before = {} if is_new else audit.snapshot(Campaign.objects.select_related("template").get(pk=campaign.pk))
        campaign.name = name
        campaign.template = template
        campaign.criteria = selection.as_criteria()
        if is_new:
            campaign.created_by = actor
        campaign.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            obj=campaign,
            customer_id=None,
            changes=audit.diff(before, audit.snapshot(campaign)),
        )
    return campaign


def campaign_send(*, actor: User, campaign: Campaign) -> Campaign:
    """Start sending a draft: it becomes "sending" once (a second press finds it no
    longer a draft), then is delivered at once or queued for a worker after commit."""
    from visits import tasks

    if not may_send_bulk(actor) or not may_send_bulk(campaign.created_by):
        raise DomainError(ERR_BULK_ROLE, code="forbidden")
    template = MessageTemplate.objects.get(pk=campaign.template_id)
    if template.occasion != MessageTemplate.Occasion.BULK or not template.active:
        raise DomainError(ERR_BULK_TEMPLATE, field="template")
    recipients = campaign_recipients(campaign).count()
    if not recipients:
        raise DomainError(ERR_NO_RECIPIENTS)
    with transaction.atomic():
        started = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DRAFT).update(
            status=Campaign.Status.SENDING, recipients=recipients
        )
        if not started:
            raise DomainError(ERR_NOT_DRAFT)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=campaign,
            customer_id=None,
            changes={
                "status": [Campaign.Status.DRAFT.value, Campaign.Status.SENDING.value],
                "recipients": [0, recipients],
            },
        )
        if recipients > INLINE_LIMIT:
            transaction.on_commit(lambda: tasks.send_campaign.delay(campaign.pk))
    if recipients <= INLINE_LIMIT:
        campaign_deliver(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


def _count_sent(campaign_id: int) -> None:
    counts = CareMessage.objects.filter(campaign_id=campaign_id).aggregate(
        sent=Count("pk", filter=Q(status=CareMessage.Status.SENT)),
        failed=Count("pk", filter=Q(status=CareMessage.Status.FAILED)),
    )
    Campaign.objects.filter(pk=campaign_id).update(**counts)


def campaign_deliver(*, campaign_id: int, day: datetime.date | None = None) -> dict:
    """Send a campaign that is sending (the worker's side; safe to run again: contacts
    already messaged are skipped). The selection is taken now, through the creator's
    visibility, so a customer handed away meanwhile is not messaged."""
    campaign = Campaign.objects.select_related("template", "created_by").get(pk=campaign_id)
    if campaign.status != Campaign.Status.SENDING:
        return {"skipped": campaign.status}
    day = day or timezone.localdate()
    occasion = f"campaign:{campaign.pk}"
    rows = campaign_recipients(campaign).order_by("pk").values(*care.CONTACT_COLUMNS)
    drafts = [
        care.draft_for(row, campaign.template, occasion=occasion, day=day, campaign_id=campaign.pk) for row in rows
    ]
    counts = care.deliver(drafts, after_batch=lambda: _count_sent(campaign.pk))
    _count_sent(campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENT, sent_at=timezone.now())
    logger.info("campaign %s delivered: %s", campaign.pk, dict(counts))
    return dict(counts)


def selection_labels(selection: Selection) -> list[tuple[str, str]]:
    """The selection as a reader sees it: (criterion, value) pairs."""
    labels = []
    if selection.region_id:
        labels.append((_("Region"), str(Region.objects.filter(pk=selection.region_id).first() or "—")))
    if selection.customer_type:
        labels.append((_("Customer type"), str(Customer.Type(selection.customer_type).label)))
    if selection.tag_id:
        labels.append((_("Tag"), str(Tag.objects.filter(pk=selection.tag_id).first() or "—")))
    if selection.owner_id:
        labels.append((_("Owner rep"), str(User.objects.filter(pk=selection.owner_id).first() or "—")))
    labels.append(
        (_("Contacts"), str(_("Main contact of each customer") if selection.primary_only else _("Every contact")))
    )
    return labels
