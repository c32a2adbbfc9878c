"""Demo data of communications and customer care: message templates (birthday, Spring
Festival, Mid-Autumn, other holidays, bulk), the holiday calendar of 2026 and 2027 with
each year's real dates, three months of communications of the demo customers, the
greetings of the past two weeks and a bulk message already sent, a draft one to preview,
and main contacts whose birthday is in the coming days.

Rows are bulk-created from one seeded generator (a second of work); loaded once, after
the archive demo, on its own marker (the templates' demo history events).
"""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from crm import audit
from crm.demo import DEMO_REASON, demo_loaded
from crm.models import AuditEvent, Region, User
from customers.models import Contact, Customer

from .models import Campaign, CareMessage, Communication, Holiday, MessageTemplate
from .models.care import Channel
from .services import care

SEED = 20240604
Occasion = MessageTemplate.Occasion
Kind = Communication.Kind

BIRTHDAY = "生日祝福（短信）"
BIRTHDAY_EMAIL = "生日祝福（邮件）"
SPRING_FESTIVAL = "春节问候"
MID_AUTUMN = "中秋问候"
HOLIDAY = "节日问候"
BULK_NEW_PRODUCT = "新品上市通知"
BULK_EPIDEMIC = "春季防疫提醒"

TEMPLATES = [
    (BIRTHDAY, Occasion.BIRTHDAY, Channel.SMS, "", "{contact}您好！今天是您的生日，{customer}的老朋友们祝您生日快乐、身体健康、生意兴隆！"),
    (BIRTHDAY_EMAIL, Occasion.BIRTHDAY, Channel.EMAIL, "{contact}，生日快乐！",
     "{contact}您好：\n\n{date}是您的生日，感谢您和{customer}一直以来的信任与支持，祝您生日快乐，阖家幸福！"),
    (SPRING_FESTIVAL, Occasion.HOLIDAY, Channel.SMS, "",
     "{contact}您好！{holiday}将至，感谢{customer}一年来的支持，恭祝新春快乐、六畜兴旺、财源广进！"),
    (MID_AUTUMN, Occasion.HOLIDAY, Channel.SMS, "", "{contact}您好！{date}{holiday}，月圆人团圆，祝您和家人中秋快乐，生意红火！"),
    (HOLIDAY, Occasion.HOLIDAY, Channel.SMS, "", "{contact}您好！{holiday}快乐！感谢{customer}的信任与支持，祝您节日愉快。"),
    (BULK_NEW_PRODUCT, Occasion.BULK, Channel.SMS, "",
     "{contact}您好！我司新品“华牧”复方阿莫西林可溶性粉已到货，欢迎{customer}咨询订购，详询您的业务员。"),
    (BULK_EPIDEMIC, Occasion.BULK, Channel.SMS, "",
     "{contact}您好！春季气温多变，请{customer}做好猪场消毒和口蹄疫、猪瘟免疫，疫苗库存不足请及时联系业务员。"),
]  # fmt: skip

# Lunar holidays are entered per year: Spring Festival 2026-02-17 and 2027-02-06,
# Dragon Boat 2026-06-19 and 2027-06-09, Mid-Autumn 2026-09-25 and 2027-09-15.
HOLIDAYS = [
    ("元旦", "2026-01-01", HOLIDAY), ("春节", "2026-02-17", SPRING_FESTIVAL), ("劳动节", "2026-05-01", HOLIDAY),
    ("端午节", "2026-06-19", HOLIDAY), ("中秋节", "2026-09-25", MID_AUTUMN), ("国庆节", "2026-10-01", HOLIDAY),
    ("元旦", "2027-01-01", HOLIDAY), ("春节", "2027-02-06", SPRING_FESTIVAL), ("劳动节", "2027-05-01", HOLIDAY),
    ("端午节", "2027-06-09", HOLIDAY), ("中秋节", "2027-09-15", MID_AUTUMN), ("国庆节", "2027-10-01", HOLIDAY),
]  # fmt: skip

SUMMARIES = {
    Kind.CALL: [
        "电话沟通下月进货计划，客户准备补货阿莫西林可溶性粉50袋，等月底政策。",
        "回访上次技术服务效果，客户反馈猪群腹泻已基本控制，想再要一批电解多维。",
        "催收上月货款，客户承诺本周五前转账。",
        "客户来电询问口蹄疫疫苗到货时间，已答复下周二配送。",
        "电话了解竞品降价情况，对方老板说某品牌阿莫西林降了8%，需要报经理。",
    ],
    Kind.WECHAT: [
        "微信发送新品资料和本月特价表，客户说看完再定。",
        "客户微信发来鸡群发病照片，已转技术员判断，建议先做药敏。",
        "微信确认发货单和物流单号。",
        "客户微信询问能否延长账期到60天，答复需申请。",
    ],
    Kind.SMS: ["短信提醒对账，请客户核对上月往来。", "短信告知业务员下周一上门拜访。"],
    Kind.EMAIL: ["邮件发送三月对账单和增值税发票信息。", "邮件发送年度合作协议草稿，请客户审阅。"],
    Kind.FAX: ["传真回签购销合同第二页。", "客户传真来GSP证书复印件。"],
    Kind.MEETING: [
        "在客户门店洽谈年度合作，老板希望增加疫苗品种并要求技术培训。",
        "参加客户组织的养殖户技术讲座，现场介绍了春季防疫方案。",
    ],
}
KIND_WEIGHTS = {Kind.CALL: 40, Kind.WECHAT: 30, Kind.SMS: 8, Kind.EMAIL: 6, Kind.FAX: 4, Kind.MEETING: 12}
SUBJECTS = {Kind.EMAIL: "对账与合同", Kind.MEETING: "年度合作洽谈", Kind.FAX: "合同回签"}


def care_demo_loaded() -> bool:
    return AuditEvent.objects.filter(object_type="messagetemplate", reason=DEMO_REASON).exists()


@transaction.atomic
def load_care_demo(today: datetime.date | None = None) -> bool:
    """Load the care demo once; False (and nothing written) when it is there already or
    the archive demo is not."""
    if not demo_loaded() or care_demo_loaded():
        return False
    today = today or timezone.localdate()
    rng = random.Random(SEED)
    admin, clerk = User.objects.get(username="admin"), User.objects.get(username="clerk")
    templates = _templates(admin)
    _holidays(admin, templates)
    customers = list(Customer.objects.select_related("owner").order_by("pk"))
    contacts = {}
    for contact in Contact.objects.order_by("pk").values("pk", "customer_id", "is_primary"):
        contacts.setdefault(contact["customer_id"], []).append(contact)
    _communications(rng, customers, contacts, today)
    _birthdays_ahead(rng, today)
    _past_greetings(today)
    _campaigns(clerk, templates, today)
    return True


def _templates(admin: User) -> dict[str, MessageTemplate]:
    templates = MessageTemplate.objects.bulk_create(
        [
            MessageTemplate(name=name, occasion=occasion, channel=channel, subject=subject, body=body)
            for name, occasion, channel, subject, body in TEMPLATES
        ]
    )
    _record(admin, templates)
    return {t.name: t for t in templates}


def _holidays(admin: User, templates: dict[str, MessageTemplate]) -> None:
    holidays = Holiday.objects.bulk_create(
        [
            Holiday(name=name, date=datetime.date.fromisoformat(day), template=templates[template])
            for name, day, template in HOLIDAYS
        ]
    )
    _record(admin, holidays)


def _record(admin: User, objects: list) -> None:
    AuditEvent.objects.bulk_create(
        [
            audit.event(
                actor=admin,
                action=AuditEvent.Action.CREATE,
                obj=obj,
                customer_id=None,
                changes={k: [None, v] for k, v in audit.snapshot(obj).items() if v not in (None, "")},
                reason=DEMO_REASON,
            )
            for obj in objects
        ]
    )


def _communications(rng: random.Random, customers: list[Customer], contacts: dict, today: datetime.date) -> None:
    """Up to six calls, chats and meetings per customer over the last three months, by its owner."""
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    now = timezone.localtime()
    rows = []
    for customer in customers:
        people = contacts.get(customer.pk, [])
        for _ in range(rng.choices([0, 1, 2, 3, 4, 6], weights=[10, 20, 25, 20, 15, 10])[0]):
            kind = rng.choices(kinds, weights=weights)[0]
            days_ago = rng.randint(0, 90)
            at = now.replace(hour=rng.randint(8, 18), minute=rng.choice([0, 10, 20, 30, 40, 50]), second=0)
            at -= datetime.timedelta(days=days_ago)
            if at > now:
                at -= datetime.timedelta(days=1)
            rows.append(
                Communication(
                    customer=customer,
                    contact_id=rng.choice(people)["pk"] if people and rng.random() < 0.85 else None,
                    kind=kind,
                    direction=Communication.Direction.INBOUND
                    if rng.random() < 0.3 and kind != Kind.MEETING
                    else Communication.Direction.OUTBOUND,
                    occurred_at=at,
                    subject=SUBJECTS.get(kind, ""),
                    summary=rng.choice(SUMMARIES[kind]),
                    user_id=customer.owner_id,
                )
            )
    Communication.objects.bulk_create(rows, batch_size=1000)


def _birthdays_ahead(rng: random.Random, today: datetime.date) -> None:
    """A dozen main contacts with a mobile have their birthday today or in the next seven days."""
    chosen = list(
        Contact.objects.filter(is_primary=True, opted_out=False)
        .exclude(mobile="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rng.shuffle(chosen)
    updates = []
    for index, pk in enumerate(chosen[:12]):
        day = today + datetime.timedelta(days=index % 8)
        year = rng.randint(1965, 1995)
        if day.month == 2 and day.day == 29:
            year -= year % 4
        updates.append(Contact(pk=pk, birthday=day.replace(year=year)))
    Contact.objects.bulk_update(updates, ["birthday"])


def _save_sent(drafts: list, at: datetime.datetime) -> None:
    """Drafts recorded as sent at `at` (the demo's history: nothing goes to a gateway)."""
    messages = CareMessage.objects.bulk_create(
        [
            CareMessage(
                customer_id=d.customer_id,
                contact_id=d.contact_id,
                channel=d.channel,
                occasion=d.occasion,
                template_id=d.template_id,
                campaign_id=d.campaign_id,
                recipient=d.recipient,
                subject=d.subject,
                body=d.body,
                status=CareMessage.Status.SENT,
                sent_at=at,
            )
            for d in drafts
        ],
        batch_size=1000,
    )
    Communication.objects.bulk_create(
        [
            Communication(
                customer_id=m.customer_id,
                contact_id=m.contact_id,
                kind=m.channel,
                direction=Communication.Direction.OUTBOUND,
                occurred_at=at,
                subject=m.subject,
                summary=m.body,
                message=m,
            )
            for m in messages
        ],
        batch_size=1000,
    )


def _past_greetings(today: datetime.date) -> None:
    """The birthday greetings of the past fourteen days, as the morning job sent them."""
    for days_ago in range(14, 0, -1):
        day = today - datetime.timedelta(days=days_ago)
        at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0, 5)))
        _save_sent(care.birthday_drafts(day), at)


def _campaigns(clerk: User, templates: dict[str, MessageTemplate], today: datetime.date) -> None:
    """A bulk message sent three weeks ago to the main contacts in 华东, and a draft."""
    from .services.campaigns import Selection, campaign_recipients

    east = Region.objects.filter(name="华东大区").first()
    sent_on = today - datetime.timedelta(days=21)
    at = timezone.make_aware(datetime.datetime.combine(sent_on, datetime.time(10, 30)))
    sent = Campaign.objects.create(
        name="春季防疫提醒（华东）",
        template=templates[BULK_EPIDEMIC],
        criteria=Selection(region_id=east.pk if east else None).as_criteria(),
        status=Campaign.Status.SENT,
        created_by=clerk,
        sent_at=at,
    )
    rows = campaign_recipients(sent).order_by("pk").values(*care.CONTACT_COLUMNS)
    drafts = [
        care.draft_for(row, sent.template, occasion=f"campaign:{sent.pk}", day=sent_on, campaign_id=sent.pk)
        for row in rows
    ]
    _save_sent(drafts, at)
    Campaign.objects.filter(pk=sent.pk).update(recipients=len(drafts), sent=len(drafts))
    Campaign.objects.filter(pk=sent.pk).update(created_at=at)
    Campaign.objects.create(
        name="新品上市通知（猪场）",
        template=templates[BULK_NEW_PRODUCT],
        criteria=Selection(customer_type=Customer.Type.FARM).as_criteria(),
        created_by=clerk,
    )
