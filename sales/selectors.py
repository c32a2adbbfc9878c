"""Reads of the sales ledger that pages and the API share: a customer's sales overview
(the customer page's sales tab) and monthly target achievement per rep.

Callers pass querysets or objects already scoped to the user; every figure is computed
by the database in a fixed number of queries, whatever the number of orders or reps.
"""

import datetime
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.models import User
from customers.models import Customer

from . import receivables
from .models import Contract, CustomerSales, Order, Payment, SalesTarget

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)
SALES_TAB_ORDERS = 10
SALES_TAB_CONTRACTS = 5
SALES_TAB_PAYMENTS = 10


def customer_sales_overview(*, customer: Customer, today: datetime.date | None = None) -> dict:
    """The customer page's sales tab: latest orders, contracts and payments, the
    receivable balance by age (from the orders) and the stored figures (CustomerSales,
    None before the first refresh). Five queries."""
    today = today or timezone.localdate()
    return {
        "orders": list(Order.objects.filter(customer=customer)[:SALES_TAB_ORDERS]),
        "contracts": list(Contract.objects.filter(customer=customer)[:SALES_TAB_CONTRACTS]),
        "payments": list(Payment.objects.filter(customer=customer)[:SALES_TAB_PAYMENTS]),
        "receivable": receivables.totals(Order.objects.filter(customer=customer), today),
        "figures": CustomerSales.objects.filter(customer=customer).first(),
    }


# -- Targets ------------------------------------------------------------------------------


def target_reps(user: User) -> QuerySet:
    """The reps whose targets `user` sees; the same rule as SalesTarget.visible_to:
    everyone for the back office, the team for a manager, themselves for a rep."""
    reps = User.objects.filter(role=User.Role.REP, is_active=True)
    if user.sees_all_customers:
        return reps
    if user.is_manager and user.team_id:
        return reps.filter(team_id=user.team_id)
    if user.is_rep:
        return reps.filter(pk=user.pk)
    return reps.none()


def target_setter_reps(user: User) -> QuerySet:
    """The reps whose targets `user` sets: admins all, a manager their team's."""
    if user.is_admin_role:
        return User.objects.filter(role=User.Role.REP, is_active=True)
    if user.is_manager and user.team_id:
        return target_reps(user)
    return User.objects.none()


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of `month` and the first day of the next."""
    start = month.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, end


def _percent(done: Decimal, target: Decimal | None) -> Decimal | None:
    if not target:
        return None
    return (done / target * 100).quantize(Decimal("0.1"))


def target_achievement(*, reps: QuerySet, month: datetime.date) -> list[dict]:
    """For each rep of `reps` (already scoped to the viewer): the month's order and
    collection targets against the confirmed order amount (orders counting in the
    receivables, dated in the month, of the customers the rep owns now) and the amount
    collected (payments dated in the month from those customers), with percentages.

    One query: each measure is a grouped subquery correlated on the rep.
    """
    start, end = month_bounds(month)
    target = SalesTarget.objects.filter(rep=OuterRef("pk"), month=start)
    ordered = (
        Order.objects.filter(
            customer__owner=OuterRef("pk"),
            status__in=Order.RECEIVABLE_STATUSES,
            order_date__gte=start,
            order_date__lt=end,
        )
        .order_by()
        .values("customer__owner")
        .annotate(amount=Sum("total"))
        .values("amount")
    )
    collected = (
        Payment.objects.filter(customer__owner=OuterRef("pk"), date__gte=start, date__lt=end)
        .order_by()
        .values("customer__owner")
        .annotate(amount=Sum("amount"))
        .values("amount")
    )
    rows = (
        reps.select_related("team")
        .annotate(
            order_target=Subquery(target.values("order_target")),
            collection_target=Subquery(target.values("collection_target")),
            ordered=Coalesce(Subquery(ordered, output_field=MONEY), ZERO, output_field=MONEY),
            collected=Coalesce(Subquery(collected, output_field=MONEY), ZERO, output_field=MONEY),
        )
        .order_by("team__name", "last_name", "first_name", "username")
    )
    return [
        {
            "rep": rep,
            "order_target": rep.order_target,
            "ordered": rep.ordered,
            "order_percent": _percent(rep.ordered, rep.order_target),
            "collection_target": rep.collection_target,
            "collected": rep.collected,
            "collection_percent": _percent(rep.collected, rep.collection_target),
        }
        for rep in rows
    ]
