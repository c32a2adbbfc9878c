"""The sales ledger: products, contracts (购销合同), monthly sales policies and special
prices (月度销售政策 / 特价), orders, payments (回款) and their allocation to orders,
after-sales requests (售后) and monthly targets.

Every model a user reaches has `visible_to(user)`, built on the customer's rule
(`Customer.visibility_q`), so sales follow the archive's visibility exactly. Money is
`DecimalField(14, 2)` in CNY; line amounts are computed by the database.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.models import CompanyWideQuerySet
from customers.models import Customer, CustomerChildQuerySet, ProductLine, customer_scope_q

MONEY = {"max_digits": 14, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
POSITIVE = [MinValueValidator(Decimal("0.01"))]


class Product(models.Model):
    Category = ProductLine

    name = models.CharField(_("name"), max_length=100)
    brand = models.CharField(_("brand"), max_length=50)
    spec = models.CharField(_("specification"), max_length=100, help_text=_("e.g. 100ml/瓶 or 8GB+256GB 黑色"))
    unit = models.CharField(_("unit"), max_length=10, help_text=_("e.g. 瓶, 箱, 台"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    industry = models.CharField(_("industry"), max_length=20, choices=Customer.Industry.choices)
    list_price = models.DecimalField(_("list price (CNY)"), validators=NON_NEGATIVE, **MONEY)
    active = models.BooleanField(_("active"), default=True)
    # Veterinary drugs
    approval_number = models.CharField(_("approval number (兽药批准文号)"), max_length=50, blank=True)
    prescription = models.BooleanField(_("prescription drug"), default=False)
    # Handsets: the spec says model, colour and memory; kept apart for filtering.
    model_name = models.CharField(_("model"), max_length=50, blank=True)
    colour = models.CharField(_("colour"), max_length=20, blank=True)
    memory = models.CharField(_("memory"), max_length=20, blank=True)

    objects = CompanyWideQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["brand", "name", "spec"]
        constraints = [models.UniqueConstraint(fields=["name", "brand", "spec"], name="unique_product")]

    def __str__(self):
        return f"{self.brand} {self.name} {self.spec}"


class SalesQuerySet(CustomerChildQuerySet):
    """Sales records follow their customer's visibility rule."""


class Contract(models.Model):
    """购销合同 following the standard template: subject, quality, delivery, acceptance,
    payment terms; approved by the customer's manager."""

    class Kind(models.TextChoices):
        FRAMEWORK = "framework", _("Annual framework")
        ONE_OFF = "one_off", _("One-off")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Pending approval")
        ACTIVE = "active", pgettext_lazy("contract status", "Active")
        EXPIRED = "expired", pgettext_lazy("contract status", "Expired")
        TERMINATED = "terminated", _("Terminated")

    class FreightPayer(models.TextChoices):
        SELLER = "seller", _("Seller")
        BUYER = "buyer", _("Buyer")

    number = models.CharField(_("contract number"), max_length=30, unique=True)
    customer = models.ForeignKey(Customer, models.PROTECT, related_name="contracts", verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ONE_OFF)
    signed_date = models.DateField(_("signed on"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    quality_terms = models.TextField(_("quality terms"), blank=True)
    delivery_time = models.CharField(_("delivery time"), max_length=100, blank=True)
    delivery_place = models.CharField(_("delivery place"), max_length=200, blank=True)
    transport = models.CharField(_("transport"), max_length=100, blank=True)
    freight_payer = models.CharField(
        _("freight paid by"), max_length=10, choices=FreightPayer.choices, default=FreightPayer.SELLER
    )
    acceptance_terms = models.TextField(_("acceptance terms"), blank=True)
    payment_term_days = models.PositiveSmallIntegerField(_("payment term (days)"), default=30)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    file = models.FileField(_("signed copy"), upload_to="contracts/%Y/%m/", blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = SalesQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["customer", "-valid_from"]), models.Index(fields=["status", "valid_to"])]
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__gte=F("valid_from")), name="contract_valid_period"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("sales:contract_detail", args=[self.pk])

    def is_in_force(self, on: datetime.date) -> bool:
        return self.status == self.Status.ACTIVE and self.valid_from <= on <= self.valid_to


class LineQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(customer_scope_q(user, f"{self.model.PARENT}__customer"))


class ContractLine(models.Model):
    PARENT = "contract"

    contract = models.ForeignKey(Contract, models.CASCADE, related_name="lines", verbose_name=_("contract"))
    product = models.ForeignKey(Product, models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, validators=POSITIVE)
    unit_price = models.DecimalField(_("unit price"), validators=NON_NEGATIVE, **MONEY)
    amount = models.GeneratedField(
        expression=F("quantity") * F("unit_price"),
        output_field=models.DecimalField(**MONEY),
        db_persist=True,
        verbose_name=_("amount"),
    )

    objects = LineQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract line")
        verbose_name_plural = _("contract lines")
        ordering = ["id"]

    def __str__(self):
        return f"{self.product} × {self.quantity}"


class PolicyQuerySet(CompanyWideQuerySet):
    def in_force(self, on: datetime.date):
        return self.filter(active=True, start__lte=on, end__gte=on)


class SalesPolicy(models.Model):
    """A monthly sales policy (月度销售政策): special prices or discounts for eligible
    customer types during a period."""

    name = models.CharField(_("name"), max_length=100)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    customer_types = ArrayField(
        models.CharField(max_length=20, choices=Customer.Type.choices),
        default=list,
        blank=True,
        verbose_name=_("eligible customer types"),
        help_text=_("Empty means every type."),
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("sales policy")
        verbose_name_plural = _("sales policies")
        ordering = ["-start", "name"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=F("start")), name="policy_period")]

    def __str__(self):
        return self.name

    def applies_to(self, customer: Customer, on: datetime.date) -> bool:
        return (
            self.active
            and self.start <= on <= self.end
            and (not self.customer_types or customer.type in self.customer_types)
        )


class PolicyItem(models.Model):
    """One product's special price (特价) or discount within a policy."""

    policy = models.ForeignKey(SalesPolicy, models.CASCADE, related_name="items", verbose_name=_("policy"))
    product = models.ForeignKey(Product, models.CASCADE, related_name="policy_items", verbose_name=_("product"))
    special_price = models.DecimalField(_("special price"), null=True, blank=True, validators=NON_NEGATIVE, **MONEY)
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        verbose_name = _("policy item")
        verbose_name_plural = _("policy items")
        constraints = [
            models.UniqueConstraint(fields=["policy", "product"], name="unique_policy_product"),
            models.CheckConstraint(
                condition=Q(special_price__isnull=False) | Q(discount_percent__isnull=False),
                name="policy_item_has_price",
            ),
        ]

    def __str__(self):
        return f"{self.policy}: {self.product}"

    def price_for(self, list_price: Decimal) -> Decimal:
        if self.special_price is not None:
            return self.special_price
        return (list_price * (Decimal(100) - self.discount_percent) / Decimal(100)).quantize(Decimal("0.01"))


UNPAID_OPEN = Q(status__in=["confirmed", "shipped", "completed"], paid_amount__lt=F("total"))


class OrderQuerySet(SalesQuerySet):
    def open(self):
        """Orders that count in the receivables: confirmed and not cancelled."""
        return self.filter(status__in=Order.RECEIVABLE_STATUSES)

    def outstanding(self):
        return self.open().filter(paid_amount__lt=F("total"))


class Order(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        SHIPPED = "shipped", _("Shipped")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    RECEIVABLE_STATUSES = [Status.CONFIRMED, Status.SHIPPED, Status.COMPLETED]

    number = models.CharField(_("order number"), max_length=30, unique=True)
    customer = models.ForeignKey(Customer, models.PROTECT, related_name="orders", verbose_name=_("customer"))
    contract = models.ForeignKey(
        Contract, models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("contract")
    )
    order_date = models.DateField(_("order date"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    payment_term_days = models.PositiveSmallIntegerField(_("payment term (days)"), default=30)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    # Maintained by services from the lines and the allocations, never taken from input.
    total = models.DecimalField(_("total"), default=0, **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=0, **MONEY)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-order_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "-order_date"]),
            models.Index(fields=["-order_date", "-id"]),
            # Collection rates sum what fell due in a period: served from the index alone.
            models.Index(
                fields=["due_date"],
                include=["customer", "total", "paid_amount"],
                condition=Q(status__in=["confirmed", "shipped", "completed"]),
                name="order_due_collection",
            ),
            # ... and those of a set of customers (a team's, a region's), customer by customer.
            models.Index(
                fields=["customer", "due_date"],
                include=["total", "paid_amount"],
                condition=Q(status__in=["confirmed", "shipped", "completed"]),
                name="order_customer_collection",
            ),
            # Receivables read only unpaid open orders: a few percent of all orders.
            models.Index(fields=["due_date", "id"], condition=UNPAID_OPEN, name="order_unpaid_due"),
            models.Index(
                fields=["customer", "due_date"],
                include=["total", "paid_amount"],
                condition=UNPAID_OPEN,
                name="order_unpaid_customer",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(paid_amount__lte=F("total")), name="order_not_overpaid"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="order_paid_non_negative"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("sales:order_detail", args=[self.pk])

    @property
    def outstanding(self) -> Decimal:
        if self.status not in self.RECEIVABLE_STATUSES:
            return Decimal("0")
        return self.total - self.paid_amount

    def days_overdue(self, today: datetime.date | None = None) -> int:
        today = today or timezone.localdate()
        if self.outstanding <= 0 or self.due_date is None or self.due_date >= today:
            return 0
        return (today - self.due_date).days


class OrderLine(models.Model):
    PARENT = "order"

    order = models.ForeignKey(Order, models.CASCADE, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(Product, models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, validators=POSITIVE)
    list_price = models.DecimalField(_("list price"), **MONEY)
    unit_price = models.DecimalField(_("unit price"), validators=NON_NEGATIVE, **MONEY)
    # The policy whose price this line took, if any.
    policy = models.ForeignKey(
        SalesPolicy, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("policy applied")
    )
    amount = models.GeneratedField(
        expression=F("quantity") * F("unit_price"),
        output_field=models.DecimalField(**MONEY),
        db_persist=True,
        verbose_name=_("amount"),
    )

    objects = LineQuerySet.as_manager()

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        indexes = [models.Index(fields=["product"])]

    def __str__(self):
        return f"{self.product} × {self.quantity}"


class Payment(models.Model):
    """回款: money received from a customer, allocated to its orders; what is not
    allocated is the customer's prepayment, used by its next orders."""

    class Method(models.TextChoices):
        TRANSFER = "transfer", _("Bank transfer")
        CASH = "cash", _("Cash")
        BILL = "bill", _("Acceptance bill")
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")
        OTHER = "other", _("Other")

    number = models.CharField(_("payment number"), max_length=30, unique=True)
    customer = models.ForeignKey(Customer, models.PROTECT, related_name="payments", verbose_name=_("customer"))
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices, default=Method.TRANSFER)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    # Maintained by services: amount less what is allocated to orders.
    unallocated = models.DecimalField(_("unallocated"), default=0, **MONEY)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = SalesQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["customer", "-date"]),
            models.Index(fields=["-date", "-id"]),
            models.Index(fields=["customer", "date"], condition=Q(unallocated__gt=0), name="payment_prepaid"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(unallocated__gte=0) & Q(unallocated__lte=F("amount")), name="payment_unallocated_range"
            ),
        ]

    def __str__(self):
        return self.number


class Allocation(models.Model):
    """Part of a payment applied to an order."""

    PARENT = "payment"

    payment = models.ForeignKey(Payment, models.CASCADE, related_name="allocations", verbose_name=_("payment"))
    order = models.ForeignKey(Order, models.PROTECT, related_name="allocations", verbose_name=_("order"))
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LineQuerySet.as_manager()

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "order"], name="unique_allocation"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_positive"),
        ]

    def __str__(self):
        return f"{self.payment} → {self.order}: {self.amount}"


class AfterSalesRequest(models.Model):
    """售后: a customer's complaint or service request about a product or an order."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", pgettext_lazy("after-sales status", "Closed")

    customer = models.ForeignKey(Customer, models.PROTECT, related_name="after_sales", verbose_name=_("customer"))
    order = models.ForeignKey(Order, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("order"))
    product = models.ForeignKey(
        Product, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    issue = models.TextField(_("issue"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("assignee")
    )
    resolution = models.TextField(_("resolution"), blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )

    objects = SalesQuerySet.as_manager()

    class Meta:
        verbose_name = _("after-sales request")
        verbose_name_plural = _("after-sales requests")
        ordering = ["-opened_at"]

    def __str__(self):
        return f"{self.customer}: {self.issue[:30]}"

    def time_to_resolve(self) -> datetime.timedelta | None:
        return self.resolved_at - self.opened_at if self.resolved_at else None


class TargetQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.sees_all_customers:
            return self
        if user.is_manager and user.team_id:
            return self.filter(rep__team_id=user.team_id)
        return self.filter(rep=user)


class SalesTarget(models.Model):
    """A rep's monthly target: order amount and collected amount."""

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="sales_targets", verbose_name=_("rep")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    order_target = models.DecimalField(_("order target"), validators=NON_NEGATIVE, **MONEY)
    collection_target = models.DecimalField(_("collection target"), validators=NON_NEGATIVE, **MONEY)

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["-month", "rep"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "month"], name="unique_target_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="target_month_first_day"),
        ]

    def __str__(self):
        return f"{self.rep} {self.month:%Y-%m}"


class CustomerSalesQuerySet(CustomerChildQuerySet):
    pass


class CustomerSales(models.Model):
    """Stored sales figures per customer, refreshed set-based by
    `sales.metrics.refresh` (after each order or payment of the customer, and nightly
    for all): lists filter and sort on them without summing orders per request."""

    customer = models.OneToOneField(
        Customer, models.CASCADE, primary_key=True, related_name="sales", verbose_name=_("customer")
    )
    first_order_date = models.DateField(_("first order"), null=True, blank=True)
    last_order_date = models.DateField(_("last order"), null=True, blank=True)
    orders_12m = models.PositiveIntegerField(_("orders in 12 months"), default=0)
    amount_12m = models.DecimalField(_("amount in 12 months"), default=0, **MONEY)
    receivable = models.DecimalField(_("receivable"), default=0, **MONEY)
    overdue = models.DecimalField(_("overdue"), default=0, **MONEY)
    prepayment = models.DecimalField(_("prepayment"), default=0, **MONEY)
    refreshed_on = models.DateField(_("as of"))
    # How many times the services refreshed the row: the nightly run leaves a row
    # alone when a service refreshed it after the run read the orders.
    revision = models.PositiveBigIntegerField(default=0, editable=False)

    objects = CustomerSalesQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer sales figures")
        verbose_name_plural = _("customer sales figures")
        indexes = [
            models.Index(fields=["-amount_12m"]),
            models.Index(fields=["-last_order_date"]),
            models.Index(fields=["-overdue"]),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.amount_12m}"


class CustomerReceivable(models.Model):
    """What a customer owes on its open orders, in all and by age (the buckets of
    sales.receivables), and what fell due and was paid this month and this year, as of
    the day `as_of`: stored, so the receivables page sums, sorts and counts customers
    without grouping their orders on each request.

    Written only by `sales.metrics.refresh`, from the expressions the live figures use
    (`sales.receivables.age_sums`, `due_and_paid`): nightly for every customer, and by
    the services in the transaction that changes a customer's orders or payments. Ages
    and periods to date move with the calendar, so the rows hold on their `as_of` day
    only; readers use them when every row is as of today
    (`sales.receivables.stored_is_current`) and sum the orders otherwise. A customer
    without a row has no confirmed order."""

    customer = models.OneToOneField(
        Customer, models.CASCADE, primary_key=True, related_name="receivables", verbose_name=_("customer")
    )
    owed = models.DecimalField(_("outstanding"), default=0, **MONEY)
    owed_not_due = models.DecimalField(_("not yet due"), default=0, **MONEY)
    owed_1_30 = models.DecimalField(_("1–30 days overdue"), default=0, **MONEY)
    owed_31_60 = models.DecimalField(_("31–60 days overdue"), default=0, **MONEY)
    owed_61_90 = models.DecimalField(_("61–90 days overdue"), default=0, **MONEY)
    owed_over_90 = models.DecimalField(_("over 90 days overdue"), default=0, **MONEY)
    # What fell due from the first of the month, and of the year, to `as_of`, and what
    # of it is paid: the page's collection rates (回款率) to date.
    month_due = models.DecimalField(_("due this month"), default=0, **MONEY)
    month_paid = models.DecimalField(_("paid of what fell due this month"), default=0, **MONEY)
    year_due = models.DecimalField(_("due this year"), default=0, **MONEY)
    year_paid = models.DecimalField(_("paid of what fell due this year"), default=0, **MONEY)
    as_of = models.DateField(_("as of"))
    # As CustomerSales.revision: counts the services' refreshes of the row.
    revision = models.PositiveBigIntegerField(default=0, editable=False)

    objects = CustomerSalesQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer receivables")
        verbose_name_plural = _("customer receivables")
        indexes = [
            # The per-customer view: the customers who owe, most first.
            models.Index(fields=["-owed", "customer"], condition=Q(owed__gt=0), name="receivable_owed"),
            # Finding a row not computed for today.
            models.Index(fields=["as_of"], name="receivable_as_of"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    owed=F("owed_not_due") + F("owed_1_30") + F("owed_31_60") + F("owed_61_90") + F("owed_over_90")
                ),
                name="receivable_ages_add_up",
            ),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.owed}"
