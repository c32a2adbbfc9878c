"""Communication records and customer care: templates, the holiday calendar, bulk
campaigns and the record of every message sent."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import CompanyWideQuerySet
from customers.models import Contact, Customer, CustomerChildQuerySet


class Channel(models.TextChoices):
    """How a message is sent by the system."""

    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


def communication_attachment_path(record, filename: str) -> str:
    return f"communications/{timezone.localdate():%Y/%m}/{record.customer_id}-{filename}"


class Communication(models.Model):
    """沟通记录: one call, message, e-mail, WeChat chat, fax or meeting with a customer,
    kept so whoever takes the customer over knows what was said."""

    class Kind(models.TextChoices):
        CALL = "call", _("Phone call")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        FAX = "fax", _("Fax")
        MEETING = "meeting", _("Meeting")

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outgoing")
        INBOUND = "inbound", _("Incoming")

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="communications", verbose_name=_("customer"))
    contact = models.ForeignKey(
        Contact, models.SET_NULL, null=True, blank=True, related_name="communications", verbose_name=_("contact")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    direction = models.CharField(_("direction"), max_length=20, choices=Direction.choices, default=Direction.OUTBOUND)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    summary = models.TextField(_("summary"))
    attachment = models.FileField(_("attachment"), upload_to=communication_attachment_path, blank=True)
    # Who talked to the customer; empty for messages the system sent.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    # Set when the record is a care or bulk message the system sent.
    message = models.OneToOneField(
        "CareMessage", models.SET_NULL, null=True, blank=True, related_name="communication", verbose_name=_("message")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CustomerChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("communication")
        verbose_name_plural = _("communications")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.customer}"


class MessageTemplate(models.Model):
    """A care or bulk message with placeholders: {customer}, {contact}, {date}, {holiday}."""

    class Occasion(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday")
        HOLIDAY = "holiday", _("Holiday")
        BULK = "bulk", _("Bulk message")

    PLACEHOLDERS = ("customer", "contact", "date", "holiday")

    name = models.CharField(_("name"), max_length=100, unique=True)
    occasion = models.CharField(_("occasion"), max_length=20, choices=Occasion.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.SMS)
    subject = models.CharField(_("subject"), max_length=200, blank=True, help_text=_("For e-mail."))
    body = models.TextField(_("text"))
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CompanyWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["occasion", "name"]

    def __str__(self):
        return self.name


class Holiday(models.Model):
    """A day greetings go out on. Lunar holidays (Spring Festival, Mid-Autumn) move, so
    each year's date is entered as a date."""

    name = models.CharField(_("name"), max_length=50)
    date = models.DateField(_("date"))
    template = models.ForeignKey(
        MessageTemplate,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="holidays",
        verbose_name=_("template"),
        limit_choices_to={"occasion": MessageTemplate.Occasion.HOLIDAY},
    )

    objects = CompanyWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holiday calendar")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["name", "date"], name="unique_holiday_date")]

    def __str__(self):
        return f"{self.name} {self.date}"


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Bulk messages are sent by client service and admins; managers and reps see
        the ones they sent."""
        if not user.is_authenticated:
            return self.none()
        if user.edits_all_customers:
            return self
        return self.filter(created_by=user)


class Campaign(models.Model):
    """A bulk message (群发) to the contacts of a selection of customers."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    name = models.CharField(_("name"), max_length=100)
    template = models.ForeignKey(MessageTemplate, models.PROTECT, related_name="campaigns", verbose_name=_("template"))
    # The selection as chosen: {"region": id, "type": "...", "tag": id, "owner": id}.
    criteria = models.JSONField(_("selection"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    sent = models.PositiveIntegerField(_("sent"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("bulk message")
        verbose_name_plural = _("bulk messages")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("visits:campaign_detail", args=[self.pk])


class CareMessage(models.Model):
    """One message to one contact. `occasion` names what it was sent for
    ("birthday:2026", "holiday:<id>", "campaign:<id>"); the unique constraint on
    (contact, occasion) is what makes a greeting go out once, however often the job
    runs and however many workers run it.

    A message is claimed (inserted as pending, committed) before it is sent, then marked
    sent or failed: one still pending later was claimed by a run that stopped before
    finishing, and is never sent again (at most once, rather than twice)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="care_messages", verbose_name=_("customer"))
    contact = models.ForeignKey(Contact, models.CASCADE, related_name="care_messages", verbose_name=_("contact"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    occasion = models.CharField(_("occasion"), max_length=50)
    template = models.ForeignKey(
        MessageTemplate, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("template")
    )
    campaign = models.ForeignKey(
        Campaign, models.CASCADE, null=True, blank=True, related_name="messages", verbose_name=_("bulk message")
    )
    recipient = models.CharField(_("sent to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENT)
    error = models.CharField(_("error"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    objects = CustomerChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("care message")
        verbose_name_plural = _("care messages")
        ordering = ["-sent_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["contact", "occasion"], name="unique_message_per_occasion")]
        indexes = [models.Index(fields=["customer", "-sent_at"])]

    def __str__(self):
        return f"{self.occasion} → {self.contact}"
