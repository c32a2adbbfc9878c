"""The customer archive (客户档案): the company, its business strength, its owner as a
person, contacts, relations, qualification documents, livestock volumes, brands, tags,
custom fields, SWOT and the development plan.

Every model a user can reach has `visible_to(user)` on its QuerySet, all built on
`Customer.visibility_q`, the one rule of who sees which customer.
"""

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import CompanyWideQuerySet

from .validators import PROVINCES, validate_credit_code, validate_mobile, validate_province

MONEY = {"max_digits": 14, "decimal_places": 2, "validators": [MinValueValidator(0)]}


class FactSource(models.TextChoices):
    """Where a fact came from: the articles warn that much of what reps report is guessed."""

    CUSTOMER = "customer", _("Customer-provided")
    REP_ESTIMATE = "rep_estimate", _("Rep's estimate")
    PEER = "peer", _("Peer information")


class Level(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class ProductLine(models.TextChoices):
    """Product lines of the trade: the catalogue's categories and the lines of the
    brands a customer carries."""

    VACCINE = "vaccine", _("Vaccines")
    ANTIBIOTIC = "antibiotic", _("Antibiotics")
    TCM = "tcm", _("Traditional Chinese veterinary medicine")
    DISINFECTANT = "disinfectant", _("Disinfectants")
    FEED_ADDITIVE = "feed_additive", _("Feed additives")
    HANDSET = "handset", _("Handsets")
    ACCESSORY = "accessory", _("Accessories")
    OTHER = "other", _("Other")


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(Customer.visibility_q(user))

    def editable_by(self, user):
        return self.filter(Customer.visibility_q(user, write=True))

    def search(self, text: str):
        """Name, code, mobile, contact name or credit code containing `text`.

        Served by a GIN index on the 1- and 2-character n-grams of the search text, which
        (unlike pg_trgm) also answers the two-character fragments users type (牧业, 兽药);
        the ILIKE recheck drops rows whose n-grams match but are not contiguous. A
        single ASCII letter or digit, in nearly every row, is looked for in the text.
        """
        from .search import ngrams, normalize_search_text

        needle = normalize_search_text(text)
        if not needle:
            return self
        grams = ngrams(needle)
        qs = self.filter(search_tokens__contains=grams) if grams else self
        for term in needle.split():
            qs = qs.filter(search_text__contains=term)
        return qs

    def with_expiring_documents(self):
        return self.filter(pk__in=QualificationDocument.objects.expiring().values("customer_id"))

    def with_expired_documents(self):
        return self.filter(pk__in=QualificationDocument.objects.expired().values("customer_id"))


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Customer(models.Model):
    class Type(models.TextChoices):
        DEALER = "dealer", _("Dealer")
        SUB_DEALER = "sub_dealer", _("Sub-dealer")
        FARM = "farm", _("Farm")
        CLINIC = "clinic", _("Animal clinic")
        STORE = "store", _("Retail store")
        CHAIN = "chain", _("Chain")

    class Industry(models.TextChoices):
        VET_DRUGS = "vet_drugs", _("Veterinary drugs")
        HANDSETS = "handsets", _("Mobile handsets")

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        DORMANT = "dormant", _("Dormant")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    class Gender(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    class Education(models.TextChoices):
        PRIMARY = "primary", _("Primary school")
        MIDDLE = "middle", _("Middle school")
        HIGH = "high", _("High school / technical")
        COLLEGE = "college", _("College")
        BACHELOR = "bachelor", _("Bachelor")
        POSTGRADUATE = "postgraduate", _("Postgraduate")

    # Company
    code = models.CharField(_("customer code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices)
    province = models.CharField(_("province"), max_length=2, choices=PROVINCES, validators=[validate_province])
    city = models.CharField(_("city"), max_length=50)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Where the customer is (WGS-84): set by hand or by the first visit checked in with a location.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        null=True,
        blank=True,
        validators=[validate_credit_code],
    )
    phone = models.CharField(_("mobile"), max_length=11, blank=True, validators=[validate_mobile])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="owned_customers",
        verbose_name=_("owner rep"),
        # Served by the (owner, id) and (owner, -updated_at) indexes.
        db_index=False,
    )
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="CustomerShare",
        related_name="shared_customers",
        blank=True,
        verbose_name=_("shared with"),
    )
    cooperation_start = models.DateField(_("cooperation since"), null=True, blank=True)
    # 账期: days from the order date to the due date, unless a contract says otherwise.
    payment_term_days = models.PositiveSmallIntegerField(_("payment term (days)"), default=30)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    tags = models.ManyToManyField(Tag, related_name="customers", blank=True, verbose_name=_("tags"))

    # Business strength
    annual_sales = models.DecimalField(_("annual sales (CNY)"), null=True, blank=True, **MONEY)
    working_capital = models.DecimalField(_("working capital (CNY)"), null=True, blank=True, **MONEY)
    downstream_customers = models.PositiveIntegerField(_("downstream customers"), null=True, blank=True)
    coverage_area = models.CharField(_("coverage area"), max_length=200, blank=True)
    main_products = models.TextField(_("main products"), blank=True)
    hot_brand_count = models.PositiveIntegerField(_("hot brands held"), null=True, blank=True)
    warehouse_area = models.PositiveIntegerField(_("warehouse area (m²)"), null=True, blank=True)
    vehicles = models.PositiveIntegerField(_("vehicles"), null=True, blank=True)
    staff = models.PositiveIntegerField(_("staff"), null=True, blank=True)
    farming_level = models.CharField(_("local farming level"), max_length=10, choices=Level.choices, blank=True)
    growth_3y = models.DecimalField(
        _("sales growth over 3 years (%)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    technical_level = models.CharField(_("technical level"), max_length=10, choices=Level.choices, blank=True)
    local_influence = models.CharField(_("local influence"), max_length=10, choices=Level.choices, blank=True)
    cooperation_attitude = models.CharField(
        _("attitude to cooperation"), max_length=10, choices=Level.choices, blank=True
    )

    # The owner as a person (PIPL: optional, for judging the business, role-restricted).
    boss_name = models.CharField(_("owner's name"), max_length=50, blank=True)
    boss_gender = models.CharField(_("owner's gender"), max_length=10, choices=Gender.choices, blank=True)
    boss_birth_year = models.PositiveIntegerField(_("owner's year of birth"), null=True, blank=True)
    boss_education = models.CharField(_("owner's education"), max_length=20, choices=Education.choices, blank=True)
    boss_phone = models.CharField(_("owner's mobile"), max_length=11, blank=True, validators=[validate_mobile])
    boss_work_history = models.TextField(_("owner's work history"), blank=True)
    boss_economic_situation = models.TextField(_("owner's economic situation"), blank=True)
    boss_reputation = models.TextField(_("owner's reputation"), blank=True)

    # SWOT
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)
    opportunities = models.TextField(_("opportunities"), blank=True)
    threats = models.TextField(_("threats"), blank=True)
    # The development plan: the article's five questions.
    plan_who = models.TextField(_("Who am I?"), blank=True)
    plan_what = models.TextField(_("What can I do?"), blank=True)
    plan_how = models.TextField(_("How should I do it?"), blank=True)
    plan_goal = models.TextField(_("How far do I aim?"), blank=True)
    plan_help = models.TextField(_("What help do I need from the company?"), blank=True)

    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

    # Maintained by services.
    completeness = models.PositiveSmallIntegerField(_("completeness"), default=0)
    search_text = models.TextField(default="", editable=False)
    # Byte order ("C"): the GIN index compares its keys with memcmp instead of the
    # locale's rules, which are slower and, for equality, no different.
    search_tokens = ArrayField(models.CharField(max_length=2, db_collation="C"), default=list, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Who created the archive: a record, like the history's actor, and unchecked by the
    # database for the same reason (AuditEvent.actor): a checked reference locks the
    # creator's user row for every customer, and the checks were a twentieth of the
    # database's work in an import of 100,000 customers. Deleting a user still sets it
    # to NULL through the ORM (on_delete), served by its index.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        db_constraint=False,
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-updated_at", "-id"]
        indexes = [
            GinIndex(fields=["search_tokens"], name="customer_search_gin"),
            GinIndex(fields=["custom_fields"], name="customer_custom_gin"),
            models.Index(fields=["owner", "-updated_at"]),
            # Region, team and manager scopes are semi-joins on the owners' customer ids.
            models.Index(fields=["owner", "id"], name="customer_owner_id"),
            models.Index(fields=["-updated_at", "-id"]),
            models.Index(fields=["province", "type"]),
            models.Index(fields=["completeness"]),
            models.Index(fields=["name", "city"]),
            models.Index(fields=["phone"]),
        ]
        # Constraints rather than unique=True, which adds to each a second index, for
        # LIKE 'prefix%', that no query uses (searches go through search_tokens).
        constraints = [
            models.UniqueConstraint(fields=["code"], name="customer_code_unique"),
            models.UniqueConstraint(fields=["credit_code"], name="customer_credit_code_unique"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.pk])

    # Facts the articles call often false: each carries a source and a verification.
    VERIFIABLE_FACTS = [
        "annual_sales",
        "working_capital",
        "downstream_customers",
        "hot_brand_count",
        "warehouse_area",
        "vehicles",
        "staff",
        "growth_3y",
        "boss_economic_situation",
    ]
    # Facts a complete archive has; completeness counts these filled and the
    # verifiable ones verified.
    EXPECTED_FACTS = [
        "credit_code",
        "phone",
        "address",
        "cooperation_start",
        "main_products",
        "coverage_area",
        "boss_name",
        "farming_level",
        "technical_level",
        "local_influence",
        "cooperation_attitude",
        "strengths",
        "plan_goal",
        *VERIFIABLE_FACTS,
    ]

    # The archive's fields by section, in reading order: the form, the API and the
    # customer page all lay the archive out from these.
    COMPANY_FIELDS = [
        "name", "type", "industry", "province", "city", "address", "credit_code", "phone", "owner",
        "cooperation_start", "payment_term_days", "status", "tags",
    ]  # fmt: skip
    STRENGTH_FIELDS = [
        "annual_sales", "working_capital", "downstream_customers", "coverage_area", "main_products",
        "hot_brand_count", "warehouse_area", "vehicles", "staff", "farming_level", "growth_3y",
        "technical_level", "local_influence", "cooperation_attitude",
    ]  # fmt: skip
    BOSS_FIELDS = [
        "boss_name", "boss_gender", "boss_birth_year", "boss_education", "boss_phone", "boss_work_history",
        "boss_economic_situation", "boss_reputation",
    ]  # fmt: skip
    PLAN_FIELDS = [
        "strengths", "weaknesses", "opportunities", "threats",
        "plan_who", "plan_what", "plan_how", "plan_goal", "plan_help",
    ]  # fmt: skip
    ARCHIVE_FIELDS = [*COMPANY_FIELDS, *STRENGTH_FIELDS, *BOSS_FIELDS, *PLAN_FIELDS]
    # The owner's personal profile, shown only to users who `sees_personal_profile`
    # (pages, API, history). The owner's name and mobile are not in it: whoever sees the
    # customer may need to know whom to call, e.g. finance about an overdue payment.
    PERSONAL_PROFILE_FIELDS = [
        "boss_gender", "boss_birth_year", "boss_education", "boss_work_history", "boss_economic_situation",
        "boss_reputation",
    ]  # fmt: skip

    @classmethod
    def hidden_fields_for(cls, user) -> frozenset[str]:
        """The archive fields `user` may not read."""
        return frozenset() if user.sees_personal_profile else frozenset(cls.PERSONAL_PROFILE_FIELDS)

    @staticmethod
    def visibility_q(user, prefix: str = "", write: bool = False) -> Q:
        """The one rule of who sees (or, with write=True, edits) which customer.

        prefix is the path from another model to its customer ("customer__"), so every
        related model applies exactly this rule.
        """
        if not user.is_authenticated:
            return Q(pk__in=[])
        if user.edits_all_customers or (user.sees_all_customers and not write):
            return Q()
        if user.role == user.Role.MANAGER and user.team_id:
            return Q(**{f"{prefix}owner_id__in": _team_member_ids(user)})
        if user.role == user.Role.REP:
            own = Q(**{f"{prefix}owner_id": user.pk})
            shared = _shared_customer_ids(user)
            return own | Q(**{f"{prefix}id__in": shared}) if shared else own
        return Q(pk__in=[])

    def completeness_band(self):
        if self.completeness >= 70:
            return "high"
        if self.completeness >= 40:
            return "medium"
        return "low"


def _team_member_ids(user) -> list[int]:
    """The ids of a manager's team members, read once per user object (per request):
    a constant list gives the planner true row estimates, where a join to the user
    table misjudges a team's size by a thousand times under a search."""
    if not hasattr(user, "_team_member_ids"):
        user._team_member_ids = list(user.__class__.objects.filter(team_id=user.team_id).values_list("pk", flat=True))
    return user._team_member_ids


def _shared_customer_ids(user) -> list[int]:
    """The ids shared with a rep, read once per user object (i.e. per request).

    A constant list lets PostgreSQL combine the owner index and the primary key in
    one bitmap scan, where `owner_id = X OR id IN (subquery)` scans the table.
    """
    if not hasattr(user, "_shared_customer_ids"):
        user._shared_customer_ids = list(
            CustomerShare.objects.filter(user_id=user.pk).values_list("customer_id", flat=True)
        )
    return user._shared_customer_ids


def _verbose_name(model, name: str) -> str:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    # Reverse relations ("lines" of an order) have no verbose name of their own.
    return getattr(field, "verbose_name", None) or getattr(field.related_model._meta, "verbose_name_plural", name)


def history_field_label(object_type: str, name: str, custom_labels: dict | None = None) -> str:
    """A reader's label for a changed field of an AuditEvent about `object_type` (a
    model name): model fields, "custom_fields.<key>", "source:<fact>", "verified:<fact>".
    Pass `custom_labels` ({key: label}) when labelling many changes at once."""
    from crm import audit

    kind, _sep, base = name.rpartition(":")
    if base.startswith("custom_fields."):
        key = base.split(".", 1)[1]
        if custom_labels is None:
            custom_labels = dict(CustomField.objects.values_list("key", "label"))
        label = custom_labels.get(key, key)
    else:
        model = audit.model_for(object_type)
        label = _verbose_name(model, base) if model else base
    if kind == "source":
        return _("%(field)s (source)") % {"field": label}
    if kind == "verified":
        return _("%(field)s (verified)") % {"field": label}
    return str(label)


def customer_history(user, customer: "Customer"):
    """The change history of one customer as `user` may read it: without the events
    about the owner's relations unless they see the owner's personal profile. Each
    event's changes are then read through `history_changes`."""
    from crm.models import AuditEvent

    events = AuditEvent.objects.visible_to(user).filter(customer=customer)
    if not user.sees_personal_profile:
        events = events.exclude(object_type=Relation._meta.model_name)
        # An edit or a verification of the personal profile alone would show as an
        # entry naming no field: left out.
        table = AuditEvent._meta.db_table
        only_hidden = RawSQL(
            f"{table}.changes <> '{{}}'::jsonb AND {table}.changes - %s::text[] = '{{}}'::jsonb",
            [sorted(_hidden_change_keys(user))],
            output_field=models.BooleanField(),
        )
        events = events.alias(only_hidden=only_hidden).exclude(object_type=Customer._meta.model_name, only_hidden=True)
    return events


def _hidden_change_keys(user) -> frozenset[str]:
    """The keys of a customer event's changes `user` may not read: each hidden field,
    its source and its verification."""
    return frozenset(
        f"{prefix}{name}" for name in Customer.hidden_fields_for(user) for prefix in ("", "source:", "verified:")
    )


def history_changes(user, event) -> dict:
    """An event's {field: [old, new]} without the owner's personal profile (also its
    "source:" and "verified:" entries) for a user who does not see it."""
    hidden = _hidden_change_keys(user)
    if not hidden or event.object_type != Customer._meta.model_name:
        return event.changes
    return {name: pair for name, pair in event.changes.items() if name not in hidden}


class CustomerShare(models.Model):
    """A customer shared explicitly with another rep (who then sees and edits it)."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="customer_shares")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer share")
        verbose_name_plural = _("customer shares")
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="unique_customer_share")]

    def __str__(self):
        return f"{self.customer_id} → {self.user_id}"


class FactVerification(models.Model):
    """Source and verification of one archive fact of one customer."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="fact_checks")
    fact = models.CharField(_("fact"), max_length=50)
    source = models.CharField(_("source"), max_length=20, choices=FactSource.choices, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fact verification")
        verbose_name_plural = _("fact verifications")
        constraints = [models.UniqueConstraint(fields=["customer", "fact"], name="unique_fact_check")]

    def __str__(self):
        return f"{self.customer_id}:{self.fact}"


def customer_scope_q(user, path: str, *, write: bool = False) -> Q:
    """Objects reached from a customer through `path` ("customer", "order__customer")
    follow the customer's rule. For those who see every customer it adds nothing; for
    the rest it is a semi-join on the visible customers' ids, which PostgreSQL plans far
    better over millions of orders than the rule's OR spread across a join."""
    if user.is_authenticated and (user.edits_all_customers or (user.sees_all_customers and not write)):
        return Q()
    customers = Customer.objects.editable_by(user) if write else Customer.objects.visible_to(user)
    return Q(**{f"{path}__in": customers.values("pk")})


class CustomerChildQuerySet(models.QuerySet):
    """Objects that belong to one customer follow that customer's rule."""

    def visible_to(self, user):
        return self.filter(customer_scope_q(user, "customer"))

    def editable_by(self, user):
        return self.filter(customer_scope_q(user, "customer", write=True))


class Contact(models.Model):
    class Role(models.TextChoices):
        BOSS = "boss", _("Owner")
        DECISION_MAKER = "decision_maker", _("Decision maker")
        PURCHASER = "purchaser", _("Purchaser")
        FINANCE = "finance", _("Finance")
        TECHNICIAN = "technician", _("Vet / technician")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="contacts", verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=50)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OTHER)
    title = models.CharField(_("job title"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=11, blank=True, validators=[validate_mobile])
    phone = models.CharField(_("other phone"), max_length=30, blank=True)
    wechat = models.CharField(_("WeChat"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("main contact"), default=False)
    opted_out = models.BooleanField(
        _("no marketing messages"), default=False, help_text=_("Never send care or bulk messages.")
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name", "id"]
        indexes = [models.Index(fields=["mobile"])]

    def __str__(self):
        return self.name


class RelationQuerySet(CustomerChildQuerySet):
    """Relations follow their customer's rule, and only for users who see the owner's
    personal profile."""

    def visible_to(self, user):
        return super().visible_to(user) if user.is_authenticated and user.sees_personal_profile else self.none()

    def editable_by(self, user):
        return super().editable_by(user) if user.is_authenticated and user.sees_personal_profile else self.none()


class Relation(models.Model):
    """Family and social ties of the customer's owner (PIPL: optional, purpose-bound)."""

    class Kind(models.TextChoices):
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        SIBLING = "sibling", _("Sibling")
        PARTNER = "partner", _("Business partner")
        FRIEND = "friend", _("Friend")
        AUTHORITY = "authority", _("Tie to authorities")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="relations", verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("relation"), max_length=20, choices=Kind.choices)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    organisation = models.CharField(_("organisation"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    source = models.CharField(_("source"), max_length=20, choices=FactSource.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RelationQuerySet.as_manager()

    class Meta:
        verbose_name = _("relation")
        verbose_name_plural = _("relations")
        ordering = ["kind", "name", "id"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"


class DocumentQuerySet(CustomerChildQuerySet):
    def expired(self, today: datetime.date | None = None):
        today = today or timezone.localdate()
        return self.filter(expiry_date__lt=today)

    def expiring(self, today: datetime.date | None = None):
        """Not yet expired but inside the warning window of its type."""
        today = today or timezone.localdate()
        q = Q()
        for doc_type, days in QualificationDocument.WARNING_DAYS.items():
            q |= Q(doc_type=doc_type, expiry_date__lte=today + datetime.timedelta(days=days))
        return self.filter(q, expiry_date__gte=today)


class QualificationDocument(models.Model):
    """开户手续: business licence, drug operating permit, GSP certificate and others."""

    class Type(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        DRUG_PERMIT = "drug_permit", _("Veterinary drug operating permit")
        GSP = "gsp", _("GSP certificate")
        CLINIC_LICENCE = "clinic_licence", _("Animal clinic licence")
        OTHER = "other", _("Other")

    # Days before expiry from which a document is flagged. The drug operating permit
    # must be renewed six months before it expires (兽药管理条例 Art. 23).
    WARNING_DAYS = {
        Type.BUSINESS_LICENCE: 60,
        Type.DRUG_PERMIT: 183,
        Type.GSP: 90,
        Type.CLINIC_LICENCE: 90,
        Type.OTHER: 30,
    }

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="documents", verbose_name=_("customer"))
    doc_type = models.CharField(_("document type"), max_length=30, choices=Type.choices)
    number = models.CharField(_("number"), max_length=50, blank=True)
    issuer = models.CharField(_("issued by"), max_length=100, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True, help_text=_("Leave empty for “long-term”."))
    scope = models.TextField(_("business scope"), blank=True)
    biologics = models.BooleanField(_("includes biologics (vaccines)"), default=False)
    file = models.FileField(_("scanned file"), upload_to="documents/%Y/%m/", blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("qualification document")
        verbose_name_plural = _("qualification documents")
        ordering = ["doc_type", "-expiry_date"]
        indexes = [models.Index(fields=["expiry_date", "doc_type"])]

    def __str__(self):
        return f"{self.get_doc_type_display()} {self.number}".strip()

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.issue_date and self.expiry_date and self.expiry_date < self.issue_date:
            raise ValidationError({"expiry_date": _("The expiry date is before the issue date.")})

    def expiry_state(self, today: datetime.date | None = None) -> str:
        """'expired', 'expiring' or 'valid' (long-term documents are valid)."""
        if self.expiry_date is None:
            return "valid"
        today = today or timezone.localdate()
        if self.expiry_date < today:
            return "expired"
        if self.expiry_date <= today + datetime.timedelta(days=self.WARNING_DAYS[self.doc_type]):
            return "expiring"
        return "valid"

    def days_left(self):
        return (self.expiry_date - timezone.localdate()).days if self.expiry_date else None


class Livestock(models.Model):
    """存栏 / 出栏 by species, dated: volumes swing with disease and prices, so each
    reading is kept and the latest per species is the current one."""

    class Species(models.TextChoices):
        SOW = "sow", _("Breeding sows")
        FINISHER = "finisher", _("Finishing pigs")
        LAYER = "layer", _("Layers")
        BROILER = "broiler", _("Broilers")
        DUCK = "duck", _("Ducks")
        DAIRY = "dairy", _("Dairy cattle")
        BEEF = "beef", _("Beef cattle")
        SHEEP = "sheep", _("Sheep and goats")
        AQUA = "aqua", _("Aquaculture")
        OTHER = "other", _("Other")

    class Unit(models.TextChoices):
        HEAD = "head", _("head")
        BIRD = "bird", _("birds")
        TEN_K_BIRDS = "10k_birds", _("10k birds")
        MU = "mu", _("mu (water area)")

    class Kind(models.TextChoices):
        ON_HAND = "on_hand", _("On hand (存栏)")
        SOLD = "sold", _("Sold per year (出栏)")

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="livestock", verbose_name=_("customer"))
    species = models.CharField(_("species"), max_length=20, choices=Species.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ON_HAND)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    as_of = models.DateField(_("as of"))
    source = models.CharField(_("source"), max_length=20, choices=FactSource.choices, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    objects = CustomerChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("livestock volume")
        verbose_name_plural = _("livestock volumes")
        ordering = ["species", "-as_of", "-id"]

    def __str__(self):
        return f"{self.get_species_display()} {self.quantity} {self.get_unit_display()} ({self.as_of})"


class Brand(models.Model):
    """A brand the customer carries, ours or a competitor's."""

    # The product lines a brand is carried in are the catalogue's categories.
    Line = ProductLine

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="brands", verbose_name=_("customer"))
    name = models.CharField(_("brand"), max_length=50)
    product_line = models.CharField(_("product line"), max_length=20, choices=Line.choices, default=Line.OTHER)
    is_ours = models.BooleanField(_("our brand"), default=False)
    is_hot = models.BooleanField(_("hot seller"), default=False)

    objects = CustomerChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("brand carried")
        verbose_name_plural = _("brands carried")
        ordering = ["-is_ours", "name"]

    def __str__(self):
        return self.name


class ActionItem(models.Model):
    """An action of the customer's development plan."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="action_items", verbose_name=_("customer"))
    description = models.CharField(_("action"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="action_items", verbose_name=_("responsible")
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    objects = CustomerChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["done", "due_date", "id"]

    def __str__(self):
        return self.description

    def is_overdue(self):
        return not self.done and self.due_date is not None and self.due_date < timezone.localdate()


class CustomField(models.Model):
    """A field an admin adds to every customer archive without a code change."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Single choice")
        MULTI = "multi", _("Multiple choice")

    key = models.SlugField(
        _("key"), max_length=40, unique=True, help_text=_("Letters, digits and underscores; used in the API.")
    )
    label = models.CharField(_("label"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    choices = ArrayField(
        models.CharField(max_length=50),
        default=list,
        blank=True,
        verbose_name=_("choices"),
        help_text=_("For single and multiple choice: one option per line."),
    )
    required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = CompanyWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["position", "id"]

    def __str__(self):
        return self.label


class HandoverQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.sees_all_customers:
            return self
        if user.is_manager and user.team_id:
            return self.filter(Q(from_user__team_id=user.team_id) | Q(to_user__team_id=user.team_id))
        return self.filter(Q(from_user=user) | Q(to_user=user))


class Handover(models.Model):
    """One handover (客户交接): customers moved from one rep to another, with a reason."""

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="handovers_from", verbose_name=_("from")
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="handovers_to", verbose_name=_("to")
    )
    reason = models.CharField(_("reason"), max_length=500)
    customer_count = models.PositiveIntegerField(_("customers"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("time"), auto_now_add=True)
    # Shared with the audit events the handover wrote.
    batch = models.UUIDField(db_index=True)

    objects = HandoverQuerySet.as_manager()

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.from_user} → {self.to_user} ({self.customer_count})"
