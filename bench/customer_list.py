"""The customer list at 100,000 customers: seeding, and the cases to time.

Data: four regions of five teams of ten reps (a rep holds ~500 customers, a manager's
team ~5,000), customers made by crm.demo.ArchiveMaker (so fragments such as 牧业 and
兽药 occur at realistic rates), ~2 contacts and ~1.5 qualification documents each,
verified facts on well-kept archives, and 1% of customers shared with a teammate.
"""

import datetime
import random

from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from crm.demo import CUSTOM_FIELDS, ArchiveMaker
from crm.models import Region, Team, User
from customers.filters import CustomerFilter
from customers.models import Contact, Customer, CustomerShare, CustomField, FactVerification, QualificationDocument
from customers.search import REFRESH_SQL
from customers.services import completeness_of, refresh_derived

from .loader import copy_rows, indexes_dropped, next_ids
from .runner import Case

CUSTOMERS = 100_000
SEED = 100_000
CODE_PREFIX = "BN"
REGIONS = {
    "B-华东大区": ["37", "32", "33", "34", "35", "36", "31"],
    "B-华北大区": ["11", "12", "13", "14", "15", "21", "22", "23"],
    "B-华中华南大区": ["41", "42", "43", "44", "45", "46"],
    "B-西部大区": ["50", "51", "52", "53", "61", "62", "64", "65"],
}
TEAMS_PER_REGION = 5
REPS_PER_TEAM = 10
# The list page shows this many rows when there is no page yet to measure.
FALLBACK_PAGE_SIZE = 50
REFRESH_CHUNK = 10_000


def _marker_code() -> str:
    return f"{CODE_PREFIX}{CUSTOMERS:07d}"


def seed(out) -> None:
    if Customer.objects.filter(code=_marker_code()).exists():
        out.write(f"customer_list: {CUSTOMERS:,} bench customers already loaded; not seeding.\n")
        return
    if Customer.objects.filter(code__startswith=CODE_PREFIX).exists():
        raise SystemExit(
            "customer_list: a partial bench data set is in this database; drop the database and run again."
        )
    clock = _Clock(out)
    with transaction.atomic():
        people = _people()
        clock.lap("people")
        # REFRESH_SQL reads contacts by customer: their indexes are back before it runs.
        with indexes_dropped(Customer):
            with indexes_dropped(Contact, QualificationDocument, FactVerification):
                ids = _customers(people, clock)
            clock.lap("child indexes rebuilt")
            for start in range(0, len(ids), REFRESH_CHUNK):
                with connection.cursor() as cursor:
                    cursor.execute(REFRESH_SQL, [ids[start : start + REFRESH_CHUNK]])
            clock.lap("search text (REFRESH_SQL)")
        clock.lap("customer indexes rebuilt")
        _check_completeness(ids)
        clock.lap("completeness check")
    with connection.cursor() as cursor:
        for model in (Customer, Contact, QualificationDocument, FactVerification, CustomerShare, User):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    clock.lap("VACUUM ANALYZE")
    out.write(f"customer_list: seeded {CUSTOMERS:,} customers in {clock.total():.1f} s.\n")


class _Clock:
    def __init__(self, out):
        self.out = out
        self.started = self.last = timezone.now()

    def lap(self, what: str) -> None:
        now = timezone.now()
        self.out.write(f"  {what}: {(now - self.last).total_seconds():.1f} s\n")
        self.last = now

    def total(self) -> float:
        return (timezone.now() - self.started).total_seconds()


def _people() -> dict:
    for definition in CUSTOM_FIELDS:
        CustomField.objects.get_or_create(key=definition["key"], defaults=definition)
    reps, managers = [], []
    for region_index, region_name in enumerate(REGIONS):
        region = Region.objects.create(name=region_name)
        for team_index in range(TEAMS_PER_REGION):
            number = region_index * TEAMS_PER_REGION + team_index + 1
            team = Team.objects.create(name=f"B-{region_name[2:4]}{team_index + 1}组", region=region)
            managers.append(User(username=f"bench_manager_{number:02d}", role=User.Role.MANAGER, team=team))
            reps += [
                User(username=f"bench_rep_{(number - 1) * REPS_PER_TEAM + i + 1:03d}", role=User.Role.REP, team=team)
                for i in range(REPS_PER_TEAM)
            ]
    clerk = User(username="bench_clerk", role=User.Role.CLIENT_SERVICE)
    for user in [*reps, *managers, clerk]:
        user.last_name, user.first_name = "测", user.username.rsplit("_", 1)[-1]
        user.set_unusable_password()
    User.objects.bulk_create([*reps, *managers, clerk])
    reps = list(User.objects.filter(username__startswith="bench_rep_").select_related("team__region"))
    return {"reps": reps, "clerk": User.objects.get(username="bench_clerk")}


def _customers(people: dict, clock: "_Clock") -> list[int]:
    rng = random.Random(SEED)
    maker = ArchiveMaker(SEED, timezone.localdate())
    reps, clerk = people["reps"], people["clerk"]
    # Some reps hold three times as many customers as others.
    owners = rng.choices(reps, weights=[rng.uniform(0.5, 1.5) for _ in reps], k=CUSTOMERS)
    by_team: dict[int, list[User]] = {}
    for rep in reps:
        by_team.setdefault(rep.team_id, []).append(rep)
    now = timezone.now()
    customer_ids = list(next_ids(Customer, CUSTOMERS))
    customers, contacts, documents, checks, shares = [], [], [], [], []
    for index, (pk, owner) in enumerate(zip(customer_ids, owners, strict=True)):
        province = rng.choice(REGIONS[owner.team.region.name])
        row = maker.customer(province=province, owner_id=owner.pk, code=f"{CODE_PREFIX}{index + 1:07d}")
        created = now - datetime.timedelta(days=rng.uniform(0, 3 * 365))
        row.update(id=pk, created_at=created, updated_at=created + (now - created) * rng.random())
        row_contacts = maker.contacts(row, count=rng.choices([1, 2, 3], weights=[30, 40, 30])[0])
        for contact in row_contacts:
            contact.update(customer_id=pk, created_at=created, updated_at=created)
        row_documents = maker.documents(row)
        for document in row_documents:
            document["customer_id"] = pk
        verified = [check for check in maker.fact_checks(row) if check["_verified"]]
        for check in verified:
            check.update(customer_id=pk, verified_by_id=clerk.pk, verified_at=now)
        row["completeness"] = completeness_of(
            row, {check["fact"] for check in verified}, bool(row_contacts), bool(row_documents)
        )
        if rng.random() < 0.01:
            teammates = [rep for rep in by_team[owner.team_id] if rep.pk != owner.pk]
            shares.append({"customer_id": pk, "user_id": rng.choice(teammates).pk, "created_at": now})
        customers.append(row)
        contacts += row_contacts
        documents += row_documents
        checks += verified
    clock.lap(f"generate {len(customers):,} customers, {len(contacts):,} contacts, {len(documents):,} documents")
    for model, rows in (
        (Customer, customers),
        (Contact, contacts),
        (QualificationDocument, documents),
        (FactVerification, checks),
        (CustomerShare, shares),
    ):
        for row, pk in zip(rows, next_ids(model, len(rows)), strict=True):
            row.setdefault("id", pk)
        copy_rows(model, rows)
        clock.lap(f"COPY {len(rows):,} {model._meta.verbose_name_plural}")
    return customer_ids


def _check_completeness(ids: list[int]) -> None:
    """Completeness was computed while generating, with the service's own formula;
    make sure the service agrees on a sample."""
    sample = random.Random(SEED).sample(ids, 1000)
    before = dict(Customer.objects.filter(pk__in=sample).values_list("pk", "completeness"))
    refresh_derived(sample)
    after = dict(Customer.objects.filter(pk__in=sample).values_list("pk", "completeness"))
    wrong = [pk for pk in sample if before[pk] != after[pk]]
    if wrong:
        raise SystemExit(f"customer_list: generated completeness differs from the service for {len(wrong)} customers")


# -- Cases ------------------------------------------------------------------------------


def cases() -> list[Case]:
    rep = User.objects.get(username="bench_rep_001")
    manager = User.objects.get(username="bench_manager_01")
    clerk = User.objects.get(username="bench_clerk")
    own_name = Customer.objects.filter(owner=rep).order_by("code").values_list("name", flat=True).first()
    params = [
        ("default list", {}),
        ("q=牧业", {"q": "牧业"}),
        ("q=兽药", {"q": "兽药"}),
        ("q=牧业有限公司", {"q": "牧业有限公司"}),
        (f"q={own_name}", {"q": own_name}),
        ("province=37&type=dealer", {"province": "37", "type": "dealer"}),
        ("completeness=high", {"completeness": "high"}),
    ]
    url = _list_url()
    result = []
    for user in (rep, manager, clerk):
        for name, query in params:
            runner = _page_runner(url, user, query) if url else _queryset_runner(user, query)
            role = f"{user.get_role_display()} ({_visible(user):,})"
            result.append(Case(name, role, runner, matches=_matches(user, query)))
    return result


def mode() -> str:
    if _list_url():
        return "page: GET customers:list through the test client"
    return (
        "queryset: the customers:list page does not exist yet; timing CustomerFilter(...).qs "
        f"count() + first {FALLBACK_PAGE_SIZE} rows instead"
    )


def _list_url() -> str | None:
    try:
        return reverse("customers:list")
    except (NoReverseMatch, ImportError):
        return None


def _visible(user: User) -> int:
    return Customer.objects.visible_to(User.objects.get(pk=user.pk)).count()


def _filtered(user: User, query: dict):
    request = RequestFactory().get("/customers/", query)
    request.user = user
    scoped = Customer.objects.visible_to(user).select_related("owner")
    return CustomerFilter(request.GET, queryset=scoped, request=request).qs


def _matches(user: User, query: dict) -> int:
    return _filtered(User.objects.get(pk=user.pk), query).count()


def _page_runner(url: str, user: User, query: dict):
    client = Client()
    client.force_login(user)

    def run():
        response = client.get(url, query)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} {query} as {user.username} answered {response.status_code}")
        return response

    return run


def _queryset_runner(user: User, query: dict):
    def run():
        # A request loads its user afresh (and with it the rep's shared ids).
        fresh = User.objects.get(pk=user.pk)
        qs = _filtered(fresh, query)
        return qs.count(), list(qs[:FALLBACK_PAGE_SIZE])

    return run
