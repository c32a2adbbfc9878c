"""Visit plans, visit logs and how often each customer must be visited."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.models import CompanyWideQuerySet
from customers.models import Contact, Customer, CustomerChildQuerySet


class VisitLevel(models.TextChoices):
    """The three levels a visit works at (seed 002)."""

    LEADERSHIP = "leadership", _("Leadership")
    TECHNICAL = "technical", _("Technical")
    BUSINESS = "business", _("Business")


class VisitPlanQuerySet(CustomerChildQuerySet):
    def open(self):
        return self.filter(status=VisitPlan.Status.PLANNED)

    def missed_by(self, today: datetime.date):
        """Planned for a day before `today` and neither done nor cancelled."""
        return self.open().filter(planned_date__lt=today)


class VisitPlan(models.Model):
    """A visit a rep means to make: planned by the rep, assigned by their manager, or
    created as the follow-up a logged visit agreed."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", pgettext_lazy("visit plan status", "Done")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="visit_plans", verbose_name=_("customer"))
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="visit_plans", verbose_name=_("sales rep")
    )
    planned_date = models.DateField(_("planned date"))
    planned_time = models.TimeField(_("planned time"), null=True, blank=True)
    level = models.CharField(_("level"), max_length=20, choices=VisitLevel.choices, default=VisitLevel.BUSINESS)
    purpose = models.CharField(_("purpose"), max_length=200)
    project = models.CharField(_("project"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    # The visit whose agreed next step created this plan.
    follow_up_of = models.ForeignKey(
        "Visit", models.SET_NULL, null=True, blank=True, related_name="follow_ups", verbose_name=_("follow-up of")
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = VisitPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")
        ordering = ["planned_date", "planned_time", "id"]
        indexes = [
            models.Index(fields=["rep", "planned_date"]),
            models.Index(fields=["customer", "planned_date"]),
            models.Index(fields=["planned_date"], condition=Q(status="planned"), name="visitplan_open_date"),
        ]

    def __str__(self):
        return f"{self.planned_date} {self.customer}"

    def get_absolute_url(self):
        return reverse("visits:plan_detail", args=[self.pk])


class Visit(models.Model):
    """One visit as logged: check-in (and, with the rep's permission, where), whom
    they met, what was found and agreed, check-out."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="visits", verbose_name=_("customer"))
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="visits", verbose_name=_("sales rep")
    )
    plan = models.OneToOneField(
        VisitPlan, models.SET_NULL, null=True, blank=True, related_name="visit", verbose_name=_("plan")
    )
    level = models.CharField(_("level"), max_length=20, choices=VisitLevel.choices, default=VisitLevel.BUSINESS)
    # The local date of the check-in: what frequency standards and calendars count.
    visit_date = models.DateField(_("visit date"))
    checked_in_at = models.DateTimeField(_("checked in"), default=timezone.now)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    # WGS-84, as the browser's Geolocation API gives it; only taken at check-in.
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    accuracy_m = models.PositiveIntegerField(_("accuracy (m)"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("distance to the customer (m)"), null=True, blank=True)
    contacts = models.ManyToManyField(Contact, related_name="visits", blank=True, verbose_name=_("contacts met"))
    summary = models.TextField(_("summary"), blank=True)
    needs = models.TextField(_("customer needs"), blank=True)
    problems = models.TextField(_("problems found"), blank=True)
    next_step = models.TextField(_("agreed next step"), blank=True)
    follow_up_date = models.DateField(_("follow-up date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CustomerChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visit_date", "-checked_in_at", "-id"]
        indexes = [
            models.Index(fields=["rep", "-visit_date"]),
            models.Index(fields=["customer", "-visit_date"]),
        ]

    def __str__(self):
        return f"{self.visit_date} {self.customer}"

    def get_absolute_url(self):
        return reverse("visits:visit_detail", args=[self.pk])

    @property
    def duration(self) -> datetime.timedelta | None:
        return self.checked_out_at - self.checked_in_at if self.checked_out_at else None

    @property
    def is_located(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def location_visible_to(self, user) -> bool:
        """Where a rep was is sensitive personal information (PIPL art. 28): only the
        rep, the manager of the rep's team and admins see it."""
        if not user.is_authenticated:
            return False
        if user.is_admin_role or user.pk == self.rep_id:
            return True
        return user.is_manager and user.team_id is not None and user.team_id == self.rep.team_id


def visit_photo_path(photo, filename: str) -> str:
    return f"visits/{timezone.localdate():%Y/%m}/{photo.visit_id}-{filename}"


class VisitPhotoQuerySet(models.QuerySet):
    def visible_to(self, user):
        from customers.models import customer_scope_q

        return self.filter(customer_scope_q(user, "visit__customer"))

    def editable_by(self, user):
        from customers.models import customer_scope_q

        return self.filter(customer_scope_q(user, "visit__customer", write=True))


class VisitPhoto(models.Model):
    """A photo taken on a visit, stored resized (the original from a phone is several MB)."""

    visit = models.ForeignKey(Visit, models.CASCADE, related_name="photos", verbose_name=_("visit"))
    image = models.ImageField(_("photo"), upload_to=visit_photo_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(null=True, editable=False)
    height = models.PositiveIntegerField(null=True, editable=False)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = VisitPhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.caption or self.image.name


class VisitFrequency(models.Model):
    """How often customers must be visited (拜访频率标准), set by an admin.

    A standard matches customers by its criteria; a blank criterion matches any value.
    The most specific matching standard wins (most criteria set, then the shortest
    interval). Tiers, grades and strategic classes arrive with classification: they
    become further criteria columns here, matched the same way.
    """

    customer_type = models.CharField(
        _("customer type"), max_length=20, choices=Customer.Type.choices, blank=True, help_text=_("Blank: any type.")
    )
    interval_days = models.PositiveSmallIntegerField(
        _("visit every (days)"), validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CompanyWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit frequency standard")
        verbose_name_plural = _("visit frequency standards")
        ordering = ["customer_type", "interval_days"]
        constraints = [models.UniqueConstraint(fields=["customer_type"], name="unique_visit_frequency")]

    def __str__(self):
        return f"{self.get_customer_type_display() or _('Any type')}: {self.interval_days}"


class CustomerVisitsQuerySet(CustomerChildQuerySet):
    def overdue(self, today: datetime.date):
        return self.filter(next_due_date__lt=today)


class CustomerVisits(models.Model):
    """Stored visit status per customer: the last visit, the interval its standard
    sets and the next due date. Kept by `visits.cadence.refresh` (for one customer when
    a visit is logged, for all when standards change and nightly), so overdue lists
    filter an index instead of computing per request."""

    customer = models.OneToOneField(
        Customer, models.CASCADE, primary_key=True, related_name="visit_status", verbose_name=_("customer")
    )
    last_visit_date = models.DateField(_("last visit"), null=True, blank=True)
    interval_days = models.PositiveSmallIntegerField(_("visit every (days)"), null=True, blank=True)
    next_due_date = models.DateField(_("next visit due"), null=True, blank=True)
    refreshed_on = models.DateField(_("as of"))

    objects = CustomerVisitsQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer visit status")
        verbose_name_plural = _("customer visit status")
        indexes = [models.Index(fields=["next_due_date"])]

    def __str__(self):
        return f"{self.customer_id}: {self.next_due_date}"

    def days_overdue(self, today: datetime.date | None = None) -> int:
        today = today or timezone.localdate()
        if self.next_due_date is None or self.next_due_date >= today:
            return 0
        return (today - self.next_due_date).days
