"""People and the audit trail: regions, teams, users with one role each, and the
change history every business write records."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class CompanyWideQuerySet(models.QuerySet):
    """Company-wide configuration and catalogue (custom fields, products, sales
    policies): every signed-in user reads it; writes are for admins."""

    def visible_to(self, user):
        return self if user.is_authenticated else self.none()


class Region(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Team(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    region = models.ForeignKey(Region, models.PROTECT, related_name="teams", verbose_name=_("region"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    class Role(models.TextChoices):
        REP = "rep", _("Sales rep")
        MANAGER = "manager", _("Manager")
        CLIENT_SERVICE = "client_service", _("Client service")
        FINANCE = "finance", _("Finance")
        ADMIN = "admin", _("Admin")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REP)
    # A rep belongs to a team; a manager manages the team named here.
    team = models.ForeignKey(
        Team, models.PROTECT, null=True, blank=True, related_name="members", verbose_name=_("team")
    )
    phone = models.CharField(_("mobile"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username

    def get_full_name(self):
        # Chinese names read family name first, with no space.
        return f"{self.last_name}{self.first_name}".strip()

    @property
    def is_rep(self):
        return self.role == self.Role.REP

    @property
    def is_manager(self):
        return self.role == self.Role.MANAGER

    @property
    def is_admin_role(self):
        return self.role == self.Role.ADMIN or self.is_superuser

    @property
    def sees_all_customers(self):
        return self.is_superuser or self.role in (
            self.Role.ADMIN,
            self.Role.CLIENT_SERVICE,
            self.Role.FINANCE,
        )

    @property
    def writes_archive(self):
        """Finance reads every customer and writes none of the archive; every other
        role writes the customers it may edit."""
        return self.is_superuser or self.role != self.Role.FINANCE

    @property
    def edits_all_customers(self):
        return self.is_superuser or self.role in (self.Role.ADMIN, self.Role.CLIENT_SERVICE)


class AuditEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        from customers.models import Customer

        if not user.is_authenticated:
            return self.none()
        if user.sees_all_customers:
            return self
        # Events about a customer follow the customer's rule; others only admins see.
        return self.filter(Customer.visibility_q(user, prefix="customer__"))


class AuditEvent(models.Model):
    """One write by one person (or by an import or a nightly job): who, when, what
    object, and each changed field's old and new value."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")
        HANDOVER = "handover", _("handed over")
        VERIFY = "verify", _("verified")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # The customer the change belongs to, so history is shown and scoped per customer.
    customer = models.ForeignKey(
        "customers.Customer",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("customer"),
    )
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200)
    # {"field": [old, new]} with values rendered as JSON-safe primitives.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # The customer's version after this change, for naming the fields of an edit conflict.
    version = models.PositiveIntegerField(null=True, blank=True)
    # Events written together by one bulk action (a handover, an import) share a batch.
    batch = models.UUIDField(null=True, blank=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("change history")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-at"]),
            models.Index(fields=["object_type", "object_id"]),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr}"
