"""The sales ledger at benchmark size: ~700,000 orders with ~2,000,000 lines and
~1,000,000 payments with their allocations, for the 100,000 bench customers; then the
receivables page (each filter, per order and per customer), a customer's sales tab and
the order list, as a rep, a manager and finance.

The rows come from sales.demo.SalesMaker (the demo's generator, with the same money
rules: totals from lines, allocation oldest due first, paid ≤ total), loaded with COPY
in chunks of customers, with the tables' indexes and foreign keys dropped during the
load and rebuilt once after it.
"""

import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from crm.models import Region, Team, User
from customers.models import Customer
from sales import metrics, receivables
from sales.demo import PriceBook, SalesMaker, catalogue_load, finish_rows, policies_load
from sales.models import (
    Allocation,
    Contract,
    ContractLine,
    CustomerReceivable,
    CustomerSales,
    Order,
    OrderLine,
    Payment,
)

from . import customer_list
from .customer_list import CODE_PREFIX, _Clock
from .loader import copy_rows, foreign_keys_dropped, indexes_dropped, next_ids
from .runner import Case

SEED = 700_000
# Tuned so the 100,000 customers make about 700,000 orders and 1,000,000 payments.
ORDER_RATE = 0.305
INSTALMENTS = ([1, 2, 3], [50, 35, 15])
CHUNK = 10_000
TARGET_MS = 200.0
FINANCE = "bench_finance"
TABLES = (Contract, ContractLine, Order, OrderLine, Payment, Allocation)


def seed(out) -> None:
    customer_list.seed(out)
    if Order.objects.filter(customer__code__startswith=CODE_PREFIX).exists():
        out.write("sales: bench orders already loaded; not seeding.\n")
        return
    clock = _Clock(out)
    today = timezone.localdate()
    finance, _ = User.objects.get_or_create(
        username=FINANCE, defaults={"role": User.Role.FINANCE, "last_name": "测", "first_name": "finance"}
    )
    with transaction.atomic():
        products = catalogue_load()
        maker = SalesMaker(
            seed=SEED,
            today=today,
            products=products,
            price_book=PriceBook(products, policies_load(products, today)),
            order_rate=ORDER_RATE,
            instalments=INSTALMENTS,
            finance_id=finance.pk,
        )
        customers = _customers()
        weights = maker.weights([c["type"] for c in customers])
        clock.lap(f"{len(customers):,} customers read")
        counts = dict.fromkeys(("contracts", "orders", "lines", "payments", "allocations"), 0)
        with indexes_dropped(*TABLES), foreign_keys_dropped(*TABLES):
            for start in range(0, len(customers), CHUNK):
                chunk = range(start, min(start + CHUNK, len(customers)))
                histories = [maker.history(customers[i], weights[i]) for i in chunk]
                for key, value in _copy(finish_rows(histories)).items():
                    counts[key] += value
            clock.lap(", ".join(f"{value:,} {key}" for key, value in counts.items()) + " generated and copied")
        clock.lap("indexes and foreign keys rebuilt")
        metrics.refresh(today=today)
        clock.lap("sales.metrics.refresh")
    with connection.cursor() as cursor:
        for model in (*TABLES, CustomerSales, CustomerReceivable):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    clock.lap("VACUUM ANALYZE")
    out.write(f"sales: seeded in {clock.total():.1f} s.\n")


def _customers() -> list[dict]:
    managers = dict(User.objects.filter(role=User.Role.MANAGER).values_list("team_id", "pk"))
    rows = list(
        Customer.objects.filter(code__startswith=CODE_PREFIX)
        .order_by("pk")
        .values(
            "id", "type", "industry", "status", "name", "city", "owner_id", "owner__team_id",
            "payment_term_days", "cooperation_start",
        )
    )  # fmt: skip
    for row in rows:
        row["_manager_id"] = managers.get(row.pop("owner__team_id"))
    return rows


def _copy(rows: tuple[list[dict], list[dict], list[dict]]) -> dict[str, int]:
    """Give the rows ids, point children at their parents, COPY them."""
    contracts, orders, payments = rows
    for row, pk in zip(contracts, next_ids(Contract, len(contracts)), strict=True):
        row["id"] = pk
    contract_lines = [{"contract_id": c["id"], **line} for c in contracts for line in c["_lines"]]
    for row, pk in zip(orders, next_ids(Order, len(orders)), strict=True):
        row["id"] = pk
        row["contract_id"] = row["_contract"]["id"] if row["_contract"] else None
    order_lines = [{"order_id": o["id"], **line} for o in orders for line in o["_lines"]]
    for row, pk in zip(payments, next_ids(Payment, len(payments)), strict=True):
        row["id"] = pk
    allocations = [
        {"payment_id": p["id"], "order_id": order["id"], "amount": Decimal(cents).scaleb(-2)}
        for p in payments
        for order, cents in p["_allocations"]
    ]
    for model, table_rows in (
        (Contract, contracts),
        (ContractLine, contract_lines),
        (Order, orders),
        (OrderLine, order_lines),
        (Payment, payments),
        (Allocation, allocations),
    ):
        if model not in (Contract, Order, Payment):
            for row, pk in zip(table_rows, next_ids(model, len(table_rows)), strict=True):
                row["id"] = pk
        copy_rows(model, table_rows)
    return {
        "contracts": len(contracts),
        "orders": len(orders),
        "lines": len(order_lines),
        "payments": len(payments),
        "allocations": len(allocations),
    }


# -- Cases ------------------------------------------------------------------------------


def mode() -> str:
    return "pages: GET sales:receivables, customers:detail?tab=sales, sales:order_list through the test client"


def cases() -> list[Case]:
    today = timezone.localdate()
    rep = User.objects.get(username="bench_rep_001")
    manager = User.objects.get(username="bench_manager_01")
    finance = User.objects.get(username=FINANCE)
    team = Team.objects.get(pk=manager.team_id)
    region = Region.objects.get(pk=team.region_id)
    teammate = User.objects.filter(team=team, role=User.Role.REP).exclude(pk=rep.pk).order_by("username").first()
    # The rep's customer with the most orders: the heaviest sales tab a rep opens.
    busiest = (
        Order.objects.filter(customer__owner=rep)
        .values("customer_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("customer_id", flat=True)
        .first()
    )
    receivables_url, orders_url = _url("sales:receivables"), _url("sales:order_list")
    result = []
    for user, who_rep in ((rep, rep), (manager, teammate), (finance, rep)):
        role = f"{user.get_role_display()} ({Order.objects.visible_to(_fresh(user)).count():,} orders)"
        filters = [
            ("receivables", {}),
            ("receivables region", {"region": region.pk}),
            ("receivables team", {"team": team.pk}),
            ("receivables rep", {"rep": who_rep.pk}),
            ("receivables bucket=over_90", {"bucket": "over_90"}),
            ("receivables bucket=1_30", {"bucket": "1_30"}),
            ("receivables per customer", {"view": "customers"}),
            ("receivables per customer, bucket=31_60", {"view": "customers", "bucket": "31_60"}),
        ]
        for name, query in filters:
            matches = _open_matches(user, query, today)
            result.append(Case(name, role, _page_runner(receivables_url, user, query), matches=matches))
        result.append(
            Case(
                "sales tab of the rep's busiest customer",
                role,
                _page_runner(reverse("customers:detail", args=[busiest]), user, {"tab": "sales"}),
                matches=Order.objects.filter(customer_id=busiest).count(),
            )
        )
        for name, query in (("order list", {}), ("order list status=confirmed", {"status": "confirmed"})):
            matches = Order.objects.visible_to(_fresh(user)).filter(**query).count()
            result.append(Case(name, role, _page_runner(orders_url, user, query), matches=matches))
    return result


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        raise SystemExit(f"sales: the page {name} does not exist yet") from None


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _open_matches(user: User, query: dict, today: datetime.date) -> int:
    orders = Order.objects.visible_to(_fresh(user))
    if "region" in query:
        orders = orders.filter(customer__owner__team__region=query["region"])
    if "team" in query:
        orders = orders.filter(customer__owner__team=query["team"])
    if "rep" in query:
        orders = orders.filter(customer__owner=query["rep"])
    if "bucket" in query:
        orders = receivables.in_bucket(orders, query["bucket"], today)
    return orders.outstanding().count()


def _page_runner(url: str, user: User, query: dict):
    client = Client()
    client.force_login(user)

    def run():
        response = client.get(url, query)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} {query} as {user.username} answered {response.status_code}")
        return response

    return run
