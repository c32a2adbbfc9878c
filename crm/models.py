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
    def sees_personal_profile(self):
        """The owner as a person (Customer.PERSONAL_PROFILE_FIELDS) and the owner's
        family and social relations serve judging and developing a customer; finance's
        job (payments, receivables, credit) does not need them (PIPL Art. 6), so finance
        does not see them. Every other role does."""
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

    # The history is append-only and written in the transaction of the change it
    # records, so its references are right by construction and the database does not
    # check them (as django-simple-history's user_db_constraint=False). A checked
    # reference locks the referenced row for every event: the actor's user row is a hot
    # one (concurrent writers by one person share the lock through a MultiXact), and
    # the checks were a tenth of the database's work in an import of 100,000 customers.
    # Deleting a customer or a user still cascades or nulls through the ORM (on_delete).
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
        db_constraint=False,
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
        # Served by the (customer, -at) index.
        db_index=False,
        db_constraint=False,
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


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Imports are an admin's tool: only admins see them."""
        return self if user.is_authenticated and user.is_admin_role else self.none()


class ImportJob(models.Model):
    """One spreadsheet import: the file, the confirmed column mapping, the options,
    the outcome of its dry run or commit, and how to undo it (see crm/imports)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Uploaded")
        PREVIEWED = "previewed", _("Checked (dry run)")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Nothing imported")
        UNDONE = "undone", _("Undone")

    class Mode(models.TextChoices):
        ALL_VALID = "all_valid", _("Import the valid rows, report the rejected ones")
        ALL_OR_NOTHING = "all_or_nothing", _("Import nothing unless every row is valid")

    class Destroyed(models.TextChoices):
        REJECT = "reject", _("Reject the row")
        SKIP_FIELD = "skip_field", _("Import the row without that value, with a warning")

    kind = models.CharField(_("kind"), max_length=30)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    file_type = models.CharField(_("file type"), max_length=10)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    header_row = models.PositiveIntegerField(_("header row"), default=1)
    headers = models.JSONField(_("headers"), default=list)
    # A few values of each column from the first rows, for the mapping page.
    samples = models.JSONField(_("sample values"), default=list, blank=True, editable=False)
    # The language of the admin who started the last run: its report (rejects and
    # warnings) is written in it, also by a worker that speaks another.
    language = models.CharField(_("report language"), max_length=10, blank=True, editable=False)
    # The field of each column ("" = not imported), as confirmed by the admin.
    mapping = models.JSONField(_("column mapping"), default=list)
    mapping_confirmed = models.BooleanField(_("mapping confirmed"), default=False)
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices, default=Mode.ALL_VALID)
    destroyed = models.CharField(
        _("values destroyed by Excel"), max_length=20, choices=Destroyed.choices, default=Destroyed.REJECT
    )
    # Values for new records where the file has none: {"field": "raw value"}.
    defaults = models.JSONField(_("defaults for new records"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    # {"rejects": [{"row", "column", "field", "value", "message"}], "warnings": [...], "truncated": bool}
    report = models.JSONField(_("report"), default=dict, blank=True)
    # What undo needs: ids created and old values of rows updated, per model.
    undo_log = models.JSONField(default=dict, blank=True, editable=False)
    # Shared by every audit event the import wrote (and, for an undo, undo_batch).
    batch = models.UUIDField(unique=True, editable=False)
    undo_batch = models.UUIDField(null=True, blank=True, editable=False)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="import_jobs", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("undone by")
    )

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind}: {self.original_name}"

    @property
    def counts(self) -> dict:
        return {
            "created": self.created_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "rejected": self.rejected_count,
        }


class ImportMapping(models.Model):
    """A confirmed column mapping, remembered for files of a kind with the same headers."""

    kind = models.CharField(_("kind"), max_length=30)
    signature = models.CharField(_("header signature"), max_length=64)
    headers = models.JSONField(_("headers"), default=list)
    columns = models.JSONField(_("column mapping"), default=list)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        constraints = [models.UniqueConstraint(fields=["kind", "signature"], name="unique_import_mapping")]

    def __str__(self):
        return f"{self.kind}: {', '.join(h for h in self.headers if h)[:80]}"
