"""Customer care (客户关怀): message templates and their placeholders, the holiday
calendar, and the delivery of every care and bulk message (birthday and holiday
greetings from the daily job; bulk campaigns are in visits.services.campaigns).

How a message goes out exactly once
-----------------------------------
`CareMessage` is unique on (contact, occasion). Delivery claims a batch first: one
`INSERT ... ON CONFLICT (contact_id, occasion) DO NOTHING RETURNING` of the batch as
*pending*, committed before anything is sent. Only the rows this run inserted are
sent. A second run (the job twice, beat and a manual run, two workers) inserts nothing
for a contact already claimed; if it races the first, PostgreSQL makes its insert wait
for the first transaction and then skip the row. Sending happens outside any
transaction; then one transaction per batch marks each message sent or failed and
records every sent one as a Communication (沟通记录) of its customer.

When sending fails the message is kept as failed with the gateway's error, and is not
retried by the job: a gateway that timed out may still have delivered it. A run that
dies between claim and record leaves messages pending: never sent twice, at the price
of possibly not at all, which is the right way round for a greeting.
"""

import calendar
import datetime
import logging
import re
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from crm import audit
from crm.errors import DomainError
from crm.models import AuditEvent, User
from customers.models import Contact, Customer

from .. import sms
from ..models import CareMessage, Communication, Holiday, MessageTemplate
from ..models.care import Channel

logger = logging.getLogger(__name__)

Occasion = MessageTemplate.Occasion

ERR_UNKNOWN_PLACEHOLDERS = _("Unknown placeholders: %(names)s. Only %(allowed)s can be used.")
ERR_HOLIDAY_PLACEHOLDER = _("{holiday} can only be used in a holiday template.")
ERR_CARE_ROLE = _("Only client service or an admin can change message templates and the holiday calendar.")
ERR_HOLIDAY_TEMPLATE = _("Choose a holiday template.")

# Claimed, sent and recorded this many messages at a time.
BATCH = 200
# Anything in braces is a placeholder; one we do not know is a typo to point out.
PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


# -- Who does what -------------------------------------------------------------------------


def manages_care(user: User) -> bool:
    """Templates and the holiday calendar are client service's (and an admin's) work."""
    return user.is_authenticated and user.edits_all_customers


def _require_care_role(actor: User) -> None:
    if not manages_care(actor):
        raise DomainError(ERR_CARE_ROLE, code="forbidden")


# -- Templates and placeholders ------------------------------------------------------------


def placeholders_check(text: str, *, occasion: str, field: str = "body") -> None:
    """Refuse a text with placeholders other than {customer} {contact} {date} {holiday},
    naming each unknown one, and {holiday} outside holiday templates."""
    used = PLACEHOLDER_RE.findall(text)
    unknown = list(dict.fromkeys(name for name in used if name not in MessageTemplate.PLACEHOLDERS))
    if unknown:
        raise DomainError(
            ERR_UNKNOWN_PLACEHOLDERS
            % {
                "names": "、".join(f"{{{name}}}" for name in unknown),
                "allowed": " ".join(f"{{{name}}}" for name in MessageTemplate.PLACEHOLDERS),
            },
            field=field,
        )
    if "holiday" in used and occasion != Occasion.HOLIDAY:
        raise DomainError(ERR_HOLIDAY_PLACEHOLDER, field=field)


# How a greeting writes a day, by language (Django's zh-hans month-day format pads the
# month: "02月17日"); other languages use their MONTH_DAY_FORMAT.
DAY_FORMATS = {"zh-hans": "n月j日"}


def format_day(day: datetime.date) -> str:
    """A date as a greeting says it ("2月17日"), in the company's language whoever runs the job."""
    with translation.override(settings.LANGUAGE_CODE):
        return formats.date_format(day, DAY_FORMATS.get(settings.LANGUAGE_CODE, "MONTH_DAY_FORMAT"))


def render(text: str, *, customer: str, contact: str, day: datetime.date, holiday: str = "") -> str:
    values = {"customer": customer, "contact": contact, "date": format_day(day), "holiday": holiday}
    return PLACEHOLDER_RE.sub(lambda match: values.get(match.group(1), match.group(0)), text)


# Names a template is shown with before it is used: data, not interface text.
SAMPLE_NAMES = {"customer": "临沂康达兽药经营部", "contact": "王建国", "holiday": "春节"}


def sms_parts(text: str) -> int:
    """How many SMS a text takes: 70 characters fit one, longer texts go in parts of 67."""
    return 1 if len(text) <= 70 else -(-len(text) // 67)


def message_template_save(*, actor: User, template: MessageTemplate) -> MessageTemplate:
    _require_care_role(actor)
    placeholders_check(template.subject, occasion=template.occasion, field="subject")
    placeholders_check(template.body, occasion=template.occasion)
    with transaction.atomic():
        is_new = template.pk is None
        before = {} if is_new else audit.snapshot(MessageTemplate.objects.get(pk=template.pk))
        template.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            obj=template,
            customer_id=None,
            changes=audit.diff(before, audit.snapshot(template)),
        )
    return template


def holiday_save(*, actor: User, holiday: Holiday) -> Holiday:
    _require_care_role(actor)
    if holiday.template_id is not None:
        template = MessageTemplate.objects.get(pk=holiday.template_id)
        if template.occasion != Occasion.HOLIDAY:
            raise DomainError(ERR_HOLIDAY_TEMPLATE, field="template")
    with transaction.atomic():
        is_new = holiday.pk is None
        before = {} if is_new else audit.snapshot(Holiday.objects.select_related("template").get(pk=holiday.pk))
        holiday.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if is_new else AuditEvent.Action.UPDATE,
            obj=holiday,
            customer_id=None,
            changes=audit.diff(before, audit.snapshot(holiday)),
        )
    return holiday


def holiday_delete(*, actor: User, holiday: Holiday) -> None:
    _require_care_role(actor)
    with transaction.atomic():
        before = audit.snapshot(holiday)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=holiday,
            customer_id=None,
            changes={k: [v, None] for k, v in before.items() if v not in (None, "")},
        )
        holiday.delete()


# -- Who may be messaged --------------------------------------------------------------------


def address_field(channel: str) -> str:
    return "mobile" if channel == Channel.SMS else "email"


def reachable_q(channel: str) -> Q:
    """Contacts who may be messaged on `channel`: not opted out, with the address the
    channel needs, of a customer that is not closed."""
    return Q(opted_out=False) & ~Q(**{address_field(channel): ""}) & ~Q(customer__status=Customer.Status.CLOSED)


def birthday_q(day: datetime.date) -> Q:
    """Contacts whose birthday is `day`; in a year without 29 February, those born on it
    are greeted on the 28th."""
    q = Q(birthday__month=day.month, birthday__day=day.day)
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        q |= Q(birthday__month=2, birthday__day=29)
    return q


# The columns of a contact that a message is made from.
CONTACT_COLUMNS = ("pk", "name", "mobile", "email", "customer_id", "customer__name")


# -- Delivery -------------------------------------------------------------------------------


@dataclass
class Draft:
    """One message about to be claimed and sent."""

    contact_id: int
    customer_id: int
    channel: str
    recipient: str
    occasion: str
    subject: str
    body: str
    template_id: int | None = None
    campaign_id: int | None = None
    message_id: int | None = None
    status: str = CareMessage.Status.PENDING
    error: str = ""


def draft_for(row: dict, template: MessageTemplate, *, occasion: str, day, holiday: str = "", campaign_id=None):
    """The message `template` makes for one contact row (CONTACT_COLUMNS)."""
    names = {"customer": row["customer__name"], "contact": row["name"], "day": day, "holiday": holiday}
    subject = ""
    if template.channel == Channel.EMAIL:
        subject = render(template.subject, **names) if template.subject else template.name
    return Draft(
        contact_id=row["pk"],
        customer_id=row["customer_id"],
        channel=template.channel,
        recipient=row[address_field(template.channel)],
        occasion=occasion,
        subject=subject[:200],
        body=render(template.body, **names),
        template_id=template.pk,
        campaign_id=campaign_id,
    )


CLAIM_COLUMNS = (
    "customer_id",
    "contact_id",
    "channel",
    "occasion",
    "template_id",
    "campaign_id",
    "recipient",
    "subject",
    "body",
    "status",
    "error",
    "sent_at",
)


def _claim(drafts: list[Draft]) -> list[Draft]:
    """Insert the drafts as pending messages and commit; return those this call inserted
    (a contact already messaged for the occasion, by this run or any other, is skipped)."""
    now = timezone.now()
    table = CareMessage._meta.db_table
    row = "(" + ", ".join(["%s"] * len(CLAIM_COLUMNS)) + ")"
    sql = (
        f"INSERT INTO {table} ({', '.join(CLAIM_COLUMNS)}) VALUES {', '.join([row] * len(drafts))} "
        "ON CONFLICT (contact_id, occasion) DO NOTHING RETURNING id, contact_id, occasion"
    )
    params = []
    for d in drafts:
        params += [d.customer_id, d.contact_id, d.channel, d.occasion, d.template_id, d.campaign_id]
        params += [d.recipient, d.subject, d.body, CareMessage.Status.PENDING, "", now]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = {(contact_id, occasion): pk for pk, contact_id, occasion in cursor.fetchall()}
    claimed = []
    for d in drafts:
        pk = inserted.pop((d.contact_id, d.occasion), None)
        if pk is not None:
            d.message_id = pk
            claimed.append(d)
    return claimed


def _send(drafts: list[Draft]) -> None:
    """Send each claimed draft, noting sent or failed on it. Never raises for one message."""
    backend = sms.get_backend() if any(d.channel == Channel.SMS for d in drafts) else None
    mail = get_connection() if any(d.channel == Channel.EMAIL for d in drafts) else None
    for d in drafts:
        try:
            if d.channel == Channel.SMS:
                result = backend.send(d.recipient, d.body)
                ok, error = result.ok, result.error
            else:
                ok, error = send_mail(d.subject, d.body, None, [d.recipient], connection=mail) == 1, ""
        except Exception as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"
        d.status = CareMessage.Status.SENT if ok else CareMessage.Status.FAILED
        d.error = "" if ok else (error or "not accepted")[:500]
        if not ok:
            logger.warning("care message %s to %s failed: %s", d.message_id, d.recipient, d.error)


def _record(drafts: list[Draft]) -> None:
    """Mark the batch sent or failed and record each sent message as a communication of
    its customer, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        CareMessage.objects.bulk_update(
            [CareMessage(pk=d.message_id, status=d.status, error=d.error, sent_at=now) for d in drafts],
            ["status", "error", "sent_at"],
        )
        Communication.objects.bulk_create(
            [
                Communication(
                    customer_id=d.customer_id,
                    contact_id=d.contact_id,
                    kind=d.channel,  # the channels are kinds of communication too
                    direction=Communication.Direction.OUTBOUND,
                    occurred_at=now,
                    subject=d.subject,
                    summary=d.body,
                    user=None,
                    message_id=d.message_id,
                )
                for d in drafts
                if d.status == CareMessage.Status.SENT
            ]
        )


def deliver(drafts: list[Draft], *, after_batch=None) -> Counter:
    """Claim, send and record the drafts, BATCH at a time. Returns how many were sent,
    failed, and skipped (claimed before, by this or another run)."""
    counts = Counter(sent=0, failed=0, skipped=0)
    for start in range(0, len(drafts), BATCH):
        batch = drafts[start : start + BATCH]
        claimed = _claim(batch)
        counts["skipped"] += len(batch) - len(claimed)
        if not claimed:
            continue
        _send(claimed)
        _record(claimed)
        outcomes = Counter(d.status for d in claimed)
        counts["sent"] += outcomes[CareMessage.Status.SENT]
        counts["failed"] += outcomes[CareMessage.Status.FAILED]
        if after_batch is not None:
            after_batch()
    return counts


# -- The daily job ----------------------------------------------------------------------------


def _active_templates(occasion: str) -> dict[str, MessageTemplate]:
    """The active template of each channel for the occasion (the first by name)."""
    found = {}
    for template in MessageTemplate.objects.filter(occasion=occasion, active=True).order_by("name", "pk"):
        found.setdefault(template.channel, template)
    return found


def birthday_drafts(day: datetime.date) -> list[Draft]:
    """One greeting per contact whose birthday is `day`: by SMS when there is an SMS
    birthday template and the contact has a mobile, else by e-mail when there is an
    e-mail template and an address. One query."""
    templates = _active_templates(Occasion.BIRTHDAY)
    if not templates:
        return []
    reachable = Q(pk__in=[])
    for channel in templates:
        reachable |= reachable_q(channel)
    rows = Contact.objects.filter(birthday_q(day)).filter(reachable).order_by("pk").values(*CONTACT_COLUMNS)
    occasion = f"birthday:{day.year}"
    drafts = []
    for row in rows:
        for channel in (Channel.SMS, Channel.EMAIL):
            if channel in templates and row[address_field(channel)]:
                drafts.append(draft_for(row, templates[channel], occasion=occasion, day=day))
                break
    return drafts


def holiday_drafts(day: datetime.date) -> list[Draft]:
    """For each holiday on `day` that has an active template: a greeting to the main
    contact of every customer who may be messaged on the template's channel."""
    drafts = []
    holidays = Holiday.objects.filter(date=day, template__active=True).select_related("template")
    for holiday in holidays:
        template = holiday.template
        rows = (
            Contact.objects.filter(reachable_q(template.channel), is_primary=True)
            .order_by("pk")
            .values(*CONTACT_COLUMNS)
        )
        occasion = f"holiday:{holiday.pk}"
        drafts += [draft_for(row, template, occasion=occasion, day=day, holiday=holiday.name) for row in rows]
    return drafts


def care_messages_send(*, day: datetime.date) -> dict:
    """The daily job: birthday and holiday greetings for `day`. Safe to run any number
    of times, at once or one after another: each greeting goes out once."""
    result = {
        "birthday": dict(deliver(birthday_drafts(day))),
        "holiday": dict(deliver(holiday_drafts(day))),
    }
    logger.info("care messages for %s: %s", day, result)
    return result
