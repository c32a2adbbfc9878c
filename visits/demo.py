"""Visit demo data: frequency standards, and for the demo reps three months of visits
(most from plans, some agreeing a follow-up), plans missed and cancelled, and the plans
of the coming two weeks; most customers are visited on time, some are overdue.

Rows are made from one seeded generator (the same run makes the same data) and follow
the services' rules without calling them: a done plan has its visit, a follow-up plan
points at the visit that agreed it, a located visit lies near its customer with the
distance the check-in would have measured, and the first located visit gave a customer
its location. `load_visits_demo()` writes them with bulk_create, records one "created"
event per plan and visit, and computes every customer's visit status once.
"""

import datetime
import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from crm import audit
from crm.demo import DEMO_ADMIN, DEMO_REASON, DEMO_USERS, demo_loaded
from crm.models import AuditEvent, User
from customers.models import Contact, Customer

from .models import Visit, VisitFrequency, VisitLevel, VisitPlan
from .services import cadence
from .services.visits import AUDITED_FIELDS, distance_m

SEED = 20240604
HISTORY_DAYS = 90
AHEAD_DAYS = 14
# Share of customers a rep has let slide (dormant ones more often): overdue today.
NEGLECTED = 0.12
NEGLECTED_DORMANT = 0.5
LOCATED_CUSTOMERS = 0.7
SIX = Decimal("0.000001")

# (customer type, every n days, note); "" is any other type.
STANDARDS = [
    ("", 30, "其余客户每月至少拜访一次"),
    ("dealer", 14, "经销商两周一次"),
    ("chain", 14, "连锁两周一次"),
    ("store", 14, "门店两周一次，检查陈列"),
    ("sub_dealer", 30, ""),
    ("farm", 30, "规模场每月技术回访"),
]

# Rough centres of the demo's provinces (WGS-84); customers lie around them.
PROVINCE_CENTRES = {
    "11": (39.90, 116.40), "12": (39.13, 117.20), "13": (38.04, 114.51), "14": (37.87, 112.55),
    "15": (40.84, 111.75), "21": (41.80, 123.43), "22": (43.82, 125.32), "23": (45.80, 126.53),
    "31": (31.23, 121.47), "32": (32.06, 118.80), "33": (30.27, 120.16), "34": (31.82, 117.23),
    "35": (26.07, 119.30), "36": (28.68, 115.86), "37": (36.65, 117.12), "41": (34.75, 113.63),
}  # fmt: skip

PURPOSES = {
    VisitLevel.BUSINESS: ["月度回访，了解库存", "推介本月特价政策", "对账催款", "送货后回访", "新品铺货", "签订年度购销合同"],
    VisitLevel.TECHNICAL: ["技术服务：免疫程序指导", "疫病诊断与用药指导", "养殖户技术讲座", "检查疫苗冷链储存"],
    VisitLevel.LEADERSHIP: ["拜访老板，谈年度合作", "区域经理陪访，商谈返利", "邀请参加公司订货会"],
}  # fmt: skip
SUMMARIES = [
    "老板在店，沟通了本月销售情况，库存偏低。",
    "与采购负责人核对了上月订单和回款。",
    "现场查看了仓库和冷链，储存条件合格。",
    "客户反馈近期猪价回升，补栏意愿增强。",
    "介绍了新品和本月特价，客户有兴趣。",
    "客户抱怨竞品降价，希望我们给出支持政策。",
    "与兽医讨论了圆环和蓝耳的免疫程序。",
]
NEEDS = ["", "", "需要圆环疫苗50瓶", "希望账期延长到45天", "需要技术员到场讲课", "要求增加宣传物料", "需要小包装产品"]
PROBLEMS = ["", "", "", "上批货有两箱外包装破损", "竞品在当地降价10%", "回款比约定晚了两周", "门店陈列位置不佳"]
NEXT_STEPS = [
    "带合同草稿再访",
    "送样品并回访使用效果",
    "安排技术员现场指导",
    "确认订单数量",
    "跟进回款",
    "邀请老板参加订货会",
]
CANCEL_REASONS = ["客户临时外出", "改为电话沟通", "公司会议冲突"]


@dataclass
class Rows:
    plans: list[dict] = field(default_factory=list)
    visits: list[dict] = field(default_factory=list)
    located: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)


def workday(day: datetime.date, latest: datetime.date | None = None) -> datetime.date:
    """The day moved off a weekend (Saturday back to Friday, Sunday on to Monday), never
    past `latest`."""
    if day.weekday() == 5:
        day -= datetime.timedelta(days=1)
    elif day.weekday() == 6:
        day += datetime.timedelta(days=1)
        if latest is not None and day > latest:
            day -= datetime.timedelta(days=2)
    return day


def offset(lat: Decimal, lon: Decimal, metres: float, bearing: float) -> tuple[Decimal, Decimal]:
    """A point `metres` from (lat, lon) towards `bearing` (radians), on a flat local patch."""
    dlat = metres * math.cos(bearing) / 111_195
    dlon = metres * math.sin(bearing) / (111_195 * math.cos(math.radians(float(lat))))
    return (
        (lat + Decimal(str(dlat))).quantize(SIX),
        (lon + Decimal(str(dlon))).quantize(SIX),
    )


class VisitMaker:
    """Plans and visits of one customer after another, from one seeded generator."""

    def __init__(self, *, seed: int, today: datetime.date, intervals: dict[str, int], managers: dict[int, int]):
        self.rng = random.Random(seed)
        self.today = today
        self.intervals = intervals
        self.managers = managers  # team id -> manager id
        self.rows = Rows()

    def interval(self, customer_type: str) -> int:
        return self.intervals.get(customer_type, self.intervals.get("", 30))

    def locate(self, customer: dict) -> tuple[Decimal, Decimal] | None:
        if customer["latitude"] is not None:
            return customer["latitude"], customer["longitude"]
        if self.rng.random() > LOCATED_CUSTOMERS:
            return None
        lat, lon = PROVINCE_CENTRES.get(customer["province"], (35.0, 115.0))
        point = (
            Decimal(str(lat + self.rng.uniform(-0.8, 0.8))).quantize(SIX),
            Decimal(str(lon + self.rng.uniform(-0.8, 0.8))).quantize(SIX),
        )
        self.rows.located[customer["id"]] = point
        return point

    def customer(self, customer: dict, contacts: list[int], team_id: int | None) -> None:
        rng, today = self.rng, self.today
        yesterday = today - datetime.timedelta(days=1)
        every = self.interval(customer["type"])
        neglect = NEGLECTED_DORMANT if customer["status"] == Customer.Status.DORMANT else NEGLECTED
        neglected = rng.random() < neglect
        location = self.locate(customer)
        start = today - datetime.timedelta(days=HISTORY_DAYS)
        day = start + datetime.timedelta(days=rng.randrange(every))
        # A neglected customer's visits stop between 1 and 5 weeks before it fell due.
        stop = today - datetime.timedelta(days=every + rng.randint(7, 35)) if neglected else yesterday
        previous = None
        while True:
            visit_day = workday(day, yesterday)
            if visit_day > stop:
                break
            # The plan the last visit agreed, if it did.
            agreed = previous if previous is not None and previous["follow_up_date"] else None
            roll = rng.random()
            if roll < 0.06:  # planned, then missed or cancelled: visited a few days later
                status = VisitPlan.Status.MISSED if roll < 0.04 else VisitPlan.Status.CANCELLED
                self.plan(customer, visit_day, status=status, follow_up_of=agreed)
                agreed = None
                visit_day = workday(visit_day + datetime.timedelta(days=rng.randint(2, 4)), yesterday)
                if visit_day > stop:
                    previous = None
                    break
            planned = agreed is not None or rng.random() < 0.82
            previous = self.visit(customer, visit_day, contacts, location, follow_up_of=agreed, planned=planned)
            # The next visit is the agreed follow-up, else when the standard calls for it.
            day = previous["follow_up_date"] or visit_day + datetime.timedelta(days=every + rng.randint(-4, 1))
        if previous is not None and previous["follow_up_date"]:
            # The follow-up plan the last visit made: missed if its day has passed.
            due = previous["follow_up_date"]
            status = VisitPlan.Status.MISSED if due < today else VisitPlan.Status.PLANNED
            self.plan(customer, due, status=status, follow_up_of=previous)
            return
        if neglected:
            last = previous["visit_date"] if previous else start
            due = last + datetime.timedelta(days=every)
            if due < today:
                self.plan(customer, workday(due, yesterday), status=VisitPlan.Status.MISSED)
            return
        self.upcoming(customer, previous, every, team_id)

    def plan(
        self,
        customer: dict,
        day: datetime.date,
        *,
        status: str,
        level: str | None = None,
        follow_up_of: dict | None = None,
        **extra,
    ) -> dict:
        rng = self.rng
        level = level or rng.choices(list(PURPOSES), weights=[6, 3, 1])[0]
        row = {
            "customer_id": customer["id"],
            "rep_id": customer["owner_id"],
            "planned_date": day,
            "planned_time": datetime.time(rng.choice([9, 9, 10, 10, 11, 14, 14, 15, 16]), rng.choice([0, 30])),
            "level": level,
            "purpose": follow_up_of["next_step"][:200] if follow_up_of else rng.choice(PURPOSES[level]),
            "status": status,
            "cancel_reason": rng.choice(CANCEL_REASONS) if status == VisitPlan.Status.CANCELLED else "",
            "_follow_up_of": follow_up_of,
            **extra,
        }
        self.rows.plans.append(row)
        return row

    def visit(self, customer, day, contacts, location, *, follow_up_of: dict | None, planned: bool) -> dict:
        rng = self.rng
        level = follow_up_of["level"] if follow_up_of else rng.choices(list(PURPOSES), weights=[6, 3, 1])[0]
        plan = None
        if planned:
            plan = self.plan(customer, day, status=VisitPlan.Status.DONE, level=level, follow_up_of=follow_up_of)
        hour = plan["planned_time"].hour if plan else rng.randint(9, 16)
        checked_in = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, rng.randrange(60))))
        row = {
            "customer_id": customer["id"],
            "rep_id": customer["owner_id"],
            "level": level,
            "visit_date": day,
            "checked_in_at": checked_in,
            "checked_out_at": checked_in + datetime.timedelta(minutes=rng.randint(20, 95)),
            "summary": rng.choice(SUMMARIES),
            "needs": rng.choice(NEEDS),
            "problems": rng.choice(PROBLEMS),
            "next_step": "",
            "follow_up_date": None,
            "_plan": plan,
            "_contacts": rng.sample(contacts, k=min(len(contacts), rng.choice([1, 1, 2]))) if contacts else [],
        }
        if location is not None and rng.random() < 0.85:
            metres = rng.uniform(15, 350) if rng.random() < 0.94 else rng.uniform(1200, 3000)
            row["latitude"], row["longitude"] = offset(*location, metres, rng.uniform(0, 2 * math.pi))
            row["accuracy_m"] = rng.choice([5, 10, 15, 30, 65])
            row["distance_m"] = distance_m(row["latitude"], row["longitude"], *location)
        every = self.interval(customer["type"])
        if rng.random() < 0.5:
            # The next visit, agreed now: it becomes the follow-up plan.
            row["next_step"] = rng.choice(NEXT_STEPS)
            row["follow_up_date"] = workday(day + datetime.timedelta(days=max(3, every - rng.randint(0, 4))))
        self.rows.visits.append(row)
        return row

    def upcoming(self, customer: dict, previous: dict | None, every: int, team_id: int | None) -> None:
        """The next visit the standard calls for, planned if it falls in the coming two
        weeks (never before today); now and then one the manager assigned."""
        today, rng = self.today, self.rng
        due = (previous["visit_date"] if previous else today) + datetime.timedelta(days=every)
        day = max(workday(due - datetime.timedelta(days=rng.randint(0, 2))), today)
        if day <= today + datetime.timedelta(days=AHEAD_DAYS):
            extra = {}
            if team_id in self.managers and rng.random() < 0.1:
                extra["assigned_by_id"] = self.managers[team_id]
            self.plan(customer, day, status=VisitPlan.Status.PLANNED, **extra)


def visits_demo_loaded() -> bool:
    return AuditEvent.objects.filter(object_type="visitfrequency", reason=DEMO_REASON).exists()


@transaction.atomic
def load_visits_demo(today: datetime.date | None = None) -> bool:
    """Load the visit demo for the archive demo's reps, once; False (and nothing written)
    when it is there already or the archive demo is not."""
    if not demo_loaded() or visits_demo_loaded():
        return False
    today = today or timezone.localdate()
    users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])}
    admin = users[DEMO_ADMIN]
    standards = _standards(admin)
    reps = {u.pk: u for u in users.values() if u.role == User.Role.REP}
    managers = {u.team_id: u.pk for u in users.values() if u.role == User.Role.MANAGER}
    maker = VisitMaker(
        seed=SEED, today=today, intervals={s.customer_type: s.interval_days for s in standards}, managers=managers
    )
    customers = list(
        Customer.objects.filter(owner__in=reps.values())
        .order_by("pk")
        .values("id", "type", "status", "owner_id", "province", "latitude", "longitude")
    )
    contacts = defaultdict(list)
    for contact_id, customer_id in Contact.objects.filter(customer__owner__in=reps.values()).values_list(
        "pk", "customer_id"
    ):
        contacts[customer_id].append(contact_id)
    for customer in customers:
        maker.customer(customer, contacts[customer["id"]], reps[customer["owner_id"]].team_id)
    _save(maker.rows)
    _history(admin, maker.rows, users)
    cadence.refresh(today=today)
    return True


def _standards(admin: User) -> list[VisitFrequency]:
    standards = VisitFrequency.objects.bulk_create(
        [VisitFrequency(customer_type=kind, interval_days=days, note=note) for kind, days, note in STANDARDS]
    )
    AuditEvent.objects.bulk_create(
        [
            audit.event(
                actor=admin,
                action=AuditEvent.Action.CREATE,
                obj=standard,
                customer_id=None,
                changes=audit.diff({}, audit.snapshot(standard)),
                reason=DEMO_REASON,
            )
            for standard in standards
        ]
    )
    return standards


def _columns(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _save(rows: Rows) -> None:
    """Plans, then the visits made from them, then the follow-up links, contacts met and
    the customers' locations."""
    plans = VisitPlan.objects.bulk_create([VisitPlan(**_columns(p)) for p in rows.plans], batch_size=2000)
    for row, obj in zip(rows.plans, plans, strict=True):
        row["id"] = obj.pk
    visits = Visit.objects.bulk_create(
        [Visit(plan_id=v["_plan"]["id"] if v["_plan"] else None, **_columns(v)) for v in rows.visits],
        batch_size=2000,
    )
    for row, obj in zip(rows.visits, visits, strict=True):
        row["id"] = obj.pk
    VisitPlan.objects.bulk_update(
        [VisitPlan(pk=p["id"], follow_up_of_id=p["_follow_up_of"]["id"]) for p in rows.plans if p["_follow_up_of"]],
        ["follow_up_of"],
        batch_size=2000,
    )
    Visit.contacts.through.objects.bulk_create(
        [Visit.contacts.through(visit_id=v["id"], contact_id=c) for v in rows.visits for c in v["_contacts"]],
        batch_size=5000,
    )
    Customer.objects.bulk_update(
        [Customer(pk=pk, latitude=lat, longitude=lon) for pk, (lat, lon) in rows.located.items()],
        ["latitude", "longitude"],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        # Timestamps say when things happened: a visit when it was checked in, a plan a few
        # days before its date (a follow-up when its visit agreed it).
        cursor.execute(
            "UPDATE visits_visit SET created_at = checked_in_at, updated_at = coalesce(checked_out_at, checked_in_at) "
            "WHERE id = ANY(%s)",
            [[v["id"] for v in rows.visits]],
        )
        cursor.execute(
            """
            UPDATE visits_visitplan p
            SET created_at = least(now(), coalesce(v.checked_out_at, (p.planned_date - 3 - (p.id %% 4)::int) + time '08:30')),
                updated_at = least(now(), coalesce(v.checked_out_at, (p.planned_date - 3 - (p.id %% 4)::int) + time '08:30'))
            FROM visits_visitplan q LEFT JOIN visits_visit v ON v.id = q.follow_up_of_id
            WHERE p.id = q.id AND p.id = ANY(%s)
            """,
            [[p["id"] for p in rows.plans]],
        )


def _history(admin: User, rows: Rows, users: dict) -> None:
    """One "created" event per plan and visit, dated when it happened (where the rep was
    is not in it, as with the services)."""
    names = {u.pk: u for u in users.values()}
    customers = {c.pk: c for c in Customer.objects.filter(pk__in={p["customer_id"] for p in rows.plans})}
    events = []
    for row in rows.plans:
        plan = VisitPlan(**_columns(row))
        plan.customer, plan.rep = customers[row["customer_id"]], names[row["rep_id"]]
        plan.assigned_by = names.get(row.get("assigned_by_id"))
        plan.follow_up_of = None
        values = audit.snapshot(plan)
        if row["_follow_up_of"]:
            values["follow_up_of"] = f"{row['_follow_up_of']['visit_date']} {plan.customer}"
        events.append(("visitplan", plan, values, row["customer_id"]))
    for row in rows.visits:
        visit = Visit(**_columns(row))
        visit.customer, visit.rep, visit.plan = customers[row["customer_id"]], names[row["rep_id"]], None
        values = audit.snapshot(visit, [f for f in AUDITED_FIELDS if f != "plan"])
        events.append(("visit", visit, values, row["customer_id"]))
    batch = uuid.uuid4()
    AuditEvent.objects.bulk_create(
        [
            audit.event(
                actor=admin,
                action=AuditEvent.Action.CREATE,
                obj=obj,
                customer_id=customer_id,
                changes=audit.diff({}, values),
                reason=DEMO_REASON,
                batch=batch,
            )
            for _kind, obj, values, customer_id in events
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        for table, model in (("visits_visit", "visit"), ("visits_visitplan", "visitplan")):
            cursor.execute(
                f"""
                UPDATE crm_auditevent e SET at = t.created_at FROM {table} t
                WHERE e.object_type = %s AND e.object_id = t.id AND e.reason = %s""",
                [model, DEMO_REASON],
            )
