"""Sales demo data: a product catalogue, monthly sales policies, contracts, three years of
orders and payments, after-sales requests and monthly targets for the demo customers.

`SalesMaker` makes plain rows (dicts keyed by model attribute names; keys starting with
"_" link rows to each other and are not columns) from one seeded generator, so the same
run makes the same data; the benchmark (bench/sales.py) loads the same rows by the
million. The rows follow the services' rules without calling them, which would take
minutes: a line takes the price `services.price_for` would give (the lowest eligible
policy price, else the list price), its amount is quantity × unit price, an order's total
is the sum of its lines, a payment is allocated to the customer's open orders oldest due
first with paid ≤ total, and what is left is prepayment, used by the next order
confirmed. `load_sales_demo()` writes them with bulk_create and refreshes the stored
sales figures once.
"""

import datetime
import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

from django.db import connection, transaction
from django.utils import timezone

from crm import audit
from crm.demo import DEMO_ADMIN, DEMO_REASON, DEMO_USERS, demo_loaded
from crm.models import AuditEvent, User
from customers.models import Customer

from . import metrics
from .models import (
    AfterSalesRequest,
    Allocation,
    Contract,
    ContractLine,
    Order,
    OrderLine,
    Payment,
    PolicyItem,
    Product,
    SalesPolicy,
    SalesTarget,
)

SEED = 20240602
YEARS = 3
# The demo's customers order about twice a month on average; the benchmark passes less.
DEMO_ORDER_RATE = 0.75

C = Product.Category
VET = Customer.Industry.VET_DRUGS
HANDSETS = Customer.Industry.HANDSETS
T = Customer.Type
S = Order.Status

# (category, name, brand, spec, unit, list price, prescription, for pets)
VET_DRUGS = [
    (C.VACCINE, "猪瘟活疫苗（传代细胞源）", "中牧", "10头份/瓶", "瓶", "28.00", False, False),
    (C.VACCINE, "猪伪狂犬病活疫苗（Bartha-K61株）", "华牧", "10头份/瓶", "瓶", "32.00", False, False),
    (C.VACCINE, "猪圆环病毒2型灭活疫苗", "瑞普", "100ml/瓶", "瓶", "260.00", False, False),
    (C.VACCINE, "猪口蹄疫O型灭活疫苗", "金宇", "100ml/瓶", "瓶", "180.00", False, False),
    (C.VACCINE, "高致病性猪繁殖与呼吸综合征活疫苗", "普莱柯", "50头份/瓶", "瓶", "85.00", False, False),
    (C.VACCINE, "鸡新城疫、传染性支气管炎二联活疫苗", "华牧", "1000羽份/瓶", "瓶", "22.00", False, False),
    (C.VACCINE, "重组禽流感病毒（H5+H7）三价灭活疫苗", "海利", "500ml/瓶", "瓶", "120.00", False, False),
    (C.VACCINE, "鸡传染性法氏囊病活疫苗", "瑞普", "1000羽份/瓶", "瓶", "25.00", False, False),
    (C.VACCINE, "小反刍兽疫活疫苗", "中牧", "50头份/瓶", "瓶", "45.00", False, False),
    (C.VACCINE, "牛口蹄疫O型、A型二价灭活疫苗", "金宇", "100ml/瓶", "瓶", "220.00", False, False),
    (C.VACCINE, "犬瘟热、细小病毒病二联活疫苗", "华牧", "1头份/瓶", "瓶", "38.00", False, True),
    (C.VACCINE, "狂犬病灭活疫苗", "普莱柯", "1ml/瓶", "瓶", "26.00", False, True),
    (C.ANTIBIOTIC, "10%氟苯尼考粉", "回盛", "500g/袋", "袋", "68.00", True, False),
    (C.ANTIBIOTIC, "20%替米考星预混剂", "齐鲁动保", "1000g/袋", "袋", "158.00", True, False),
    (C.ANTIBIOTIC, "盐酸多西环素可溶性粉", "华牧", "500g/袋", "袋", "85.00", True, False),
    (C.ANTIBIOTIC, "阿莫西林可溶性粉", "鲁抗", "500g/袋", "袋", "72.00", True, False),
    (C.ANTIBIOTIC, "注射用头孢噻呋钠", "回盛", "1g/瓶", "瓶", "12.50", True, True),
    (C.ANTIBIOTIC, "酒石酸泰乐菌素可溶性粉", "齐鲁动保", "100g/袋", "袋", "45.00", True, False),
    (C.ANTIBIOTIC, "恩诺沙星注射液", "华牧", "100ml/瓶", "瓶", "18.00", True, False),
    (C.ANTIBIOTIC, "硫酸庆大霉素注射液", "鲁抗", "10ml×10支/盒", "盒", "15.00", True, False),
    (C.ANTIBIOTIC, "长效土霉素注射液", "硕腾", "100ml/瓶", "瓶", "35.00", True, False),
    (C.ANTIBIOTIC, "磺胺间甲氧嘧啶钠可溶性粉", "回盛", "500g/袋", "袋", "48.00", True, False),
    (C.ANTIBIOTIC, "乳酸环丙沙星注射液", "华牧", "100ml/瓶", "瓶", "16.00", True, False),
    (C.ANTIBIOTIC, "硫酸头孢喹肟注射液", "硕腾", "50ml/瓶", "瓶", "68.00", True, True),
    (C.TCM, "黄芪多糖注射液", "牧翔", "100ml/瓶", "瓶", "22.00", False, False),
    (C.TCM, "双黄连口服液", "绿都", "500ml/瓶", "瓶", "38.00", False, False),
    (C.TCM, "清瘟败毒散", "牧翔", "1000g/袋", "袋", "42.00", False, False),
    (C.TCM, "板青颗粒", "绿都", "500g/袋", "袋", "36.00", False, False),
    (C.TCM, "麻杏石甘散", "牧翔", "1000g/袋", "袋", "32.00", False, False),
    (C.TCM, "银翘散", "绿都", "500g/袋", "袋", "26.00", False, False),
    (C.DISINFECTANT, "聚维酮碘溶液", "威龙", "1000ml/瓶", "瓶", "45.00", False, True),
    (C.DISINFECTANT, "戊二醛癸甲溴铵溶液", "利尔康", "5L/桶", "桶", "168.00", False, False),
    (C.DISINFECTANT, "过硫酸氢钾复合物粉", "威龙", "1kg/桶", "桶", "88.00", False, False),
    (C.DISINFECTANT, "二氯异氰脲酸钠粉", "利尔康", "1kg/袋", "袋", "35.00", False, False),
    (C.FEED_ADDITIVE, "电解多维", "大北农", "1000g/袋", "袋", "28.00", False, False),
    (C.FEED_ADDITIVE, "维生素C可溶性粉", "华牧", "500g/袋", "袋", "30.00", False, False),
    (C.OTHER, "伊维菌素注射液", "华牧", "100ml/瓶", "瓶", "25.00", False, False),
    (C.OTHER, "阿苯达唑伊维菌素预混剂", "回盛", "500g/袋", "袋", "38.00", False, False),
    (C.OTHER, "地克珠利溶液", "齐鲁动保", "500ml/瓶", "瓶", "32.00", False, False),
    (C.OTHER, "非泼罗尼滴剂（犬用）", "硕腾", "1.34ml×3支/盒", "盒", "98.00", False, True),
]  # fmt: skip
# (brand, model, memory, colour, list price)
PHONES = [
    ("华为", "Mate 60 Pro", "12GB+512GB", "雅川青", "6999.00"),
    ("华为", "nova 12", "8GB+256GB", "樱语白", "2999.00"),
    ("华为", "畅享 70", "8GB+128GB", "曜金黑", "1199.00"),
    ("荣耀", "Magic6", "12GB+256GB", "绒黑色", "4399.00"),
    ("荣耀", "X50", "8GB+128GB", "雨后初晴", "1399.00"),
    ("荣耀", "Play8T", "8GB+256GB", "幻夜黑", "1099.00"),
    ("OPPO", "Reno11", "12GB+256GB", "月光宝石", "2499.00"),
    ("OPPO", "A2", "8GB+256GB", "静海蓝", "1299.00"),
    ("vivo", "X100", "12GB+256GB", "辰夜黑", "3999.00"),
    ("vivo", "Y100", "8GB+256GB", "远山青", "1599.00"),
    ("小米", "Xiaomi 14", "12GB+256GB", "黑色", "3999.00"),
    ("小米", "Redmi K70", "12GB+256GB", "墨羽", "2499.00"),
    ("小米", "Redmi Note 13", "8GB+128GB", "子夜黑", "1099.00"),
    ("苹果", "iPhone 15", "128GB", "黑色", "5999.00"),
    ("苹果", "iPhone 15 Pro Max", "256GB", "原色钛金属", "9999.00"),
]
# (brand, name, spec, unit, list price)
ACCESSORIES = [
    ("倍思", "氮化镓快充充电器", "65W 白色", "个", "129.00"),
    ("绿联", "Type-C快充数据线", "1m 黑色", "条", "29.00"),
    ("倍思", "磁吸充电宝", "10000mAh 蓝色", "个", "149.00"),
]
PET_PRODUCTS = {name for _c, name, _b, _s, _u, _p, _rx, pets in VET_DRUGS if pets}

# Monthly purchases of the average customer (CNY), and how the bigger sizes go by type:
# dealers and chains tend to be the big buyers, clinics and stores the small ones.
AVERAGE_MONTHLY_SPEND = 24_000
TYPE_SIZE = {T.DEALER: 60, T.CHAIN: 50, T.SUB_DEALER: 15, T.FARM: 14, T.CLINIC: 4, T.STORE: 6}
# Sizes are lognormal; with this spread the top fifth of customers buy about 80%.
SIZE_SIGMA = 1.7
# Vaccination drives in spring and autumn; handsets sell before the Spring Festival, at 618 and 双11.
SEASON = {
    VET: {1: 0.8, 2: 0.6, 3: 1.3, 4: 1.4, 5: 1.1, 6: 0.9, 7: 0.8, 8: 0.9, 9: 1.3, 10: 1.3, 11: 1.0, 12: 0.8},
    HANDSETS: {1: 1.4, 2: 0.7, 3: 0.8, 4: 0.8, 5: 0.9, 6: 1.3, 7: 0.8, 8: 0.8, 9: 1.2, 10: 1.0, 11: 1.4, 12: 1.1},
}  # fmt: skip
# How a customer pays: share of customers, and days paid after the due date.
PAYERS = {
    "prompt": (55, -10, 5),
    "slow": (22, 5, 50),
    "late": (12, 30, 130),
    "stopped": (7, 0, 40),
    "prepays": (4, 0, 0),
}
METHODS = [
    (Payment.Method.TRANSFER, 60), (Payment.Method.BILL, 8), (Payment.Method.CASH, 10),
    (Payment.Method.WECHAT, 12), (Payment.Method.ALIPAY, 6), (Payment.Method.OTHER, 4),
]  # fmt: skip
LINE_COUNTS = ([1, 2, 3, 4, 5, 6], [22, 25, 22, 15, 10, 6])
INSTALMENTS = ([1, 2, 3], [55, 35, 10])

QUALITY_TERMS = "符合国家兽药质量标准及产品批准文号规定的质量标准；随货提供批签发证明（生物制品）和检验报告单。"
ACCEPTANCE_TERMS = "到货后3日内验收，外包装破损、冷链温度异常或批号不符的，应在验收单上注明并于24小时内书面通知卖方。"
HANDSET_QUALITY = "原厂正品，全新未激活，支持官方联保；提供入网许可证及3C认证。"
HANDSET_ACCEPTANCE = "到货当日按串号清点验收，开箱损坏或串号不符的当场拒收。"
AFTER_SALES_ISSUES = {
    VET: [
        ("疫苗到货时冷藏箱温度偏高，客户要求退换。", "核实冷链记录后整批换货，运费由我方承担。"),
        ("使用后部分猪只出现应激反应，客户要求技术指导。", "技术员上门指导免疫程序，调整免疫间隔，反应已消失。"),
        ("外包装破损，3瓶渗漏。", "补发3瓶，提醒物流加强包装。"),
        ("批号与随货检验报告不一致。", "补寄对应批号的检验报告单。"),
        ("客户反映用药后效果不明显，怀疑产品质量。", "取样送检合格；建议配合药敏试验调整用药方案。"),
        ("到货数量少于发货单，少2箱。", "物流确认漏装，已补发。"),
    ],
    HANDSETS: [
        ("新机开箱屏幕有亮点，申请换机。", "经检测属实，按七天换新政策换机。"),
        ("手机无法激活，提示串号异常。", "联系厂家解锁后正常激活。"),
        ("充电器发热严重。", "更换同型号充电器。"),
        ("客户要求补开增值税专用发票。", "财务已重开发票并快递寄出。"),
    ],
}


def _cents(value) -> int:
    return int(Decimal(value) * 100)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _plain(row: dict) -> dict:
    return {key: value for key, value in row.items() if not key.startswith("_")}


def _month_start(day: datetime.date, months_back: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months_back
    return datetime.date(index // 12, index % 12 + 1, 1)


def _month_end(first: datetime.date) -> datetime.date:
    return _month_start(first, -1) - datetime.timedelta(days=1)


# -- Catalogue and policies ----------------------------------------------------------------


def catalogue_rows() -> list[dict]:
    """The catalogue: veterinary drugs with approval numbers, handsets, accessories."""
    rng = random.Random(SEED)
    rows = []
    for category, name, brand, spec, unit, price, prescription, _pets in VET_DRUGS:
        kind = "兽药生字" if category == C.VACCINE else "兽药字"
        # Like 兽药字(2023)150123456: the year of approval, then "15" and seven digits.
        approval = f"{kind}({rng.randint(2018, 2024)})15{rng.randrange(10**6, 10**7)}"
        rows.append(
            {
                "name": name, "brand": brand, "spec": spec, "unit": unit, "category": category, "industry": VET,
                "list_price": Decimal(price), "approval_number": approval,
                "prescription": prescription,
            }
        )  # fmt: skip
    for brand, model, memory, colour, price in PHONES:
        rows.append(
            {
                "name": model, "brand": brand, "spec": f"{memory} {colour}", "unit": "台", "category": C.HANDSET,
                "industry": HANDSETS, "list_price": Decimal(price), "model_name": model, "colour": colour,
                "memory": memory,
            }
        )  # fmt: skip
    for brand, name, spec, unit, price in ACCESSORIES:
        rows.append(
            {
                "name": name, "brand": brand, "spec": spec, "unit": unit, "category": C.ACCESSORY,
                "industry": HANDSETS, "list_price": Decimal(price),
            }
        )  # fmt: skip
    return rows


def catalogue_load() -> list[Product]:
    """Add the catalogue's products that are missing; return all of them."""
    rows = catalogue_rows()
    Product.objects.bulk_create([Product(**row) for row in rows], ignore_conflicts=True)
    products = {(p.name, p.brand, p.spec): p for p in Product.objects.filter(name__in={row["name"] for row in rows})}
    return [products[row["name"], row["brand"], row["spec"]] for row in rows]


def policies_load(products: list[Product], today: datetime.date, months: int = 6) -> list[SalesPolicy]:
    """Monthly policies for the last `months` months and this one: special prices for
    dealers (特价) and a discount for farms (让利). Returns them with their items."""
    vet = [p for p in products if p.industry == VET and p.name not in PET_PRODUCTS]
    phones = [p for p in products if p.category == C.HANDSET]
    for back in range(months, -1, -1):
        first = _month_start(today, back)
        rng = random.Random(SEED + first.year * 100 + first.month)
        label = f"{first.year}年{first.month}月"
        dealers, _ = SalesPolicy.objects.get_or_create(
            name=f"{label}经销商特价",
            start=first,
            defaults={
                "end": _month_end(first),
                "customer_types": [T.DEALER, T.SUB_DEALER, T.CHAIN],
                "notes": "特价产品限本月订单，数量不限；不与其他政策叠加。",
            },
        )
        farms, _ = SalesPolicy.objects.get_or_create(
            name=f"{label}养殖场让利",
            start=first,
            defaults={
                "end": _month_end(first),
                "customer_types": [T.FARM],
                "notes": "规模养殖场直供，指定产品按折扣执行。",
            },
        )
        items = [
            PolicyItem(
                policy=dealers,
                product=product,
                special_price=(product.list_price * Decimal(rng.choice(("0.85", "0.88", "0.9", "0.92")))).quantize(
                    Decimal("0.5")
                ),
            )
            for product in [*rng.sample(vet, 4), *rng.sample(phones, 2)]
        ]
        items += [
            PolicyItem(policy=farms, product=product, discount_percent=Decimal(rng.choice((5, 8))))
            for product in rng.sample(vet, 5)
        ]
        PolicyItem.objects.bulk_create(items, ignore_conflicts=True)
    return list(SalesPolicy.objects.filter(start__gte=_month_start(today, months)).prefetch_related("items"))


class PriceBook:
    """`services.price_for` without a query per line: the lowest price of the policies
    in force that the customer's type is eligible for, else the list price."""

    def __init__(self, products: list[Product], policies: list[SalesPolicy]):
        self.list_cents = {p.pk: _cents(p.list_price) for p in products}
        self.by_month: dict[tuple[int, int], list] = defaultdict(list)
        for policy in policies:
            if not policy.active:
                continue
            prices = {
                item.product_id: _cents(item.price_for(Decimal(self.list_cents[item.product_id]) / 100))
                for item in policy.items.all()
                if item.product_id in self.list_cents
            }
            month = _month_start(policy.start)
            while month <= policy.end:
                self.by_month[month.year, month.month].append((policy, set(policy.customer_types), prices))
                month = _month_start(month, -1)

    def price(self, product_id: int, customer_type: str, on: datetime.date) -> tuple[int, int | None]:
        best, policy_id = self.list_cents[product_id], None
        for policy, types, prices in self.by_month.get((on.year, on.month), ()):
            price = prices.get(product_id)
            eligible = not types or customer_type in types
            if price is not None and price < best and eligible and policy.start <= on <= policy.end:
                best, policy_id = price, policy.pk
        return best, policy_id


# -- Orders, payments, contracts ------------------------------------------------------------


@dataclass
class History:
    contracts: list[dict]
    orders: list[dict]
    payments: list[dict]


class SalesMaker:
    """Makes one customer's sales history at a time, from one seeded generator.

    A customer dict needs id, type, industry, status, name, city, owner_id,
    payment_term_days and cooperation_start, and "_manager_id" (who approves its
    contracts). `weights()` draws the skewed sizes that give the 80/20 rule.
    """

    def __init__(
        self,
        *,
        seed: int,
        today: datetime.date,
        products: list[Product],
        price_book: PriceBook,
        order_rate: float = DEMO_ORDER_RATE,
        instalments: tuple[list[int], list[int]] = INSTALMENTS,
        finance_id: int | None = None,
    ):
        self.rng = random.Random(seed)
        self.today = today
        self.start = _month_start(today, 12 * YEARS + 1)
        self.prices = price_book
        self.order_rate = order_rate
        self.instalments = instalments
        self.finance_id = finance_id
        self.pools = {
            "livestock": [p for p in products if p.industry == VET and p.name not in PET_PRODUCTS],
            "pets": [p for p in products if p.name in PET_PRODUCTS or p.category == C.DISINFECTANT],
            "handsets": [p for p in products if p.industry == HANDSETS],
        }

    def weights(self, types: list[str]) -> list[float]:
        """Sizes with mean 1 for customers of these types, whose top fifth holds about
        80% of the total: lognormal quantiles (so the skew holds for 300 customers as
        for 100,000), the largest capped, handed out mostly to the bigger types."""
        count, normal = len(types), NormalDist()
        sizes = [math.exp(SIZE_SIGMA * min(normal.inv_cdf((i + 0.5) / count), 2.6)) for i in range(count)]
        sizes.sort(reverse=True)
        mean = sum(sizes) / count
        ranked = sorted(range(count), key=lambda i: -TYPE_SIZE[types[i]] * self.rng.lognormvariate(0, 1.2))
        weights = [0.0] * count
        for size, index in zip(sizes, ranked, strict=True):
            weights[index] = size / mean
        return weights

    # -- one customer

    def history(self, customer: dict, weight: float) -> History:
        rng = self.rng
        first, last = self._window(customer)
        if first is None:
            return History([], [], [])
        spend = AVERAGE_MONTHLY_SPEND * weight
        basket = self._basket(customer)
        contracts = self._contracts(customer, spend, basket, first, last)
        orders = self._orders(customer, weight, spend, basket, contracts, first, last)
        payments = self._payments(customer, orders)
        if rng.random() < 0.02 and orders:
            # A few customers pay ahead, for orders they have yet to place.
            payments.append(self._payment(customer, self.today - datetime.timedelta(days=rng.randint(1, 20)), 500_000))
        self._allocate(orders, payments)
        return History(contracts, orders, payments)

    def _window(self, customer: dict) -> tuple[datetime.date | None, datetime.date | None]:
        """The first and last day the customer orders on: prospects never, dormant and
        suspended customers stopped months ago, and a few active ones went quiet."""
        rng, today = self.rng, self.today
        status = customer["status"]
        if status == Customer.Status.PROSPECT:
            return None, None
        first = self.start
        joined = customer.get("cooperation_start")
        if joined and joined > first:
            first = joined
        elif rng.random() < 0.12:
            first = today - datetime.timedelta(days=rng.randint(60, 700))
        last = today
        if status == Customer.Status.DORMANT:
            last = today - datetime.timedelta(days=rng.randint(185, 600))
        elif status == Customer.Status.SUSPENDED:
            last = today - datetime.timedelta(days=rng.randint(90, 400))
        elif rng.random() < 0.06:
            last = today - datetime.timedelta(days=rng.randint(185, 320))
        if last <= first:
            first = last - datetime.timedelta(days=rng.randint(60, 300))
        return first, last

    def _basket(self, customer: dict) -> list[Product]:
        if customer["industry"] == HANDSETS:
            pool = self.pools["handsets"]
        elif customer["type"] == T.CLINIC or "宠" in customer["name"] or "动物医院" in customer["name"]:
            pool = self.pools["pets"]
        else:
            pool = self.pools["livestock"]
        return self.rng.sample(pool, min(len(pool), self.rng.randint(5, 14)))

    def _contracts(self, customer, spend, basket, first, last) -> list[dict]:
        """Annual frameworks for bigger buyers, renewed each year on the anniversary; a
        few renewals waiting for approval or still drafts; the odd one-off contract."""
        rng, today, day = self.rng, self.today, datetime.timedelta(days=1)
        big = spend >= 45_000 and customer["type"] in (T.DEALER, T.CHAIN, T.FARM, T.SUB_DEALER)
        contracts = []
        if big and (last - first).days > 120:
            term = rng.choice((30, 45, 60))
            # A quarter of the frameworks come up for renewal in one to two months.
            draw = rng.random()
            if draw < 0.25:
                ends_in = rng.randint(30, 60)
            elif draw < 0.35:
                ends_in = rng.randint(1, 29)
            else:
                ends_in = rng.randint(61, 364)
            end = today + ends_in * day
            periods = []
            while end >= first:
                start = end - 364 * day
                if start <= last:
                    periods.append((start, end))
                end = start - day
            for start, end in reversed(periods):
                status = Contract.Status.ACTIVE if start <= today <= end else Contract.Status.EXPIRED
                contracts.append(
                    self._contract(customer, basket, spend, Contract.Kind.FRAMEWORK, start, end, term, status)
                )
            current = contracts[-1] if contracts else None
            if current and current["status"] == Contract.Status.ACTIVE and (current["valid_to"] - today).days <= 60:
                renewal = rng.random()
                if renewal < 0.55:
                    status = Contract.Status.PENDING if renewal < 0.4 else Contract.Status.DRAFT
                    start = current["valid_to"] + day
                    contracts.append(
                        self._contract(
                            customer,
                            basket,
                            spend * 1.1,
                            Contract.Kind.FRAMEWORK,
                            start,
                            start + 364 * day,
                            term,
                            status,
                        )
                    )
            if (
                current
                and customer["status"] == Customer.Status.SUSPENDED
                and current["status"] == Contract.Status.ACTIVE
            ):
                current["status"] = Contract.Status.TERMINATED
        elif spend >= 10_000 and last == today and rng.random() < 0.06:
            status = rng.choice((Contract.Status.PENDING, Contract.Status.DRAFT, Contract.Status.ACTIVE))
            start = today + (rng.randint(-20, 0) if status == Contract.Status.ACTIVE else rng.randint(3, 15)) * day
            contracts.append(
                self._contract(customer, basket, spend / 4, Contract.Kind.ONE_OFF, start, start + 90 * day, 30, status)
            )
        return contracts

    def _contract(self, customer, basket, spend, kind, start, end, term, status) -> dict:
        rng = self.rng
        months = max(1, round((end - start).days / 30))
        handsets = customer["industry"] == HANDSETS
        lines = []
        for product in rng.sample(basket, min(len(basket), rng.randint(2, 5))):
            price = _cents(product.list_price)
            quantity = max(1, round(spend * 100 * months * rng.uniform(0.1, 0.3) / price / 10) * 10)
            unit = (Decimal(price) * Decimal(rng.choice(("0.9", "0.92", "0.95", "0.97"))) / 100).quantize(
                Decimal("0.01")
            )
            lines.append({"product_id": product.pk, "quantity": Decimal(quantity), "unit_price": unit})
        in_force = status in (Contract.Status.ACTIVE, Contract.Status.EXPIRED, Contract.Status.TERMINATED)
        signed = start - datetime.timedelta(days=rng.randint(3, 20)) if in_force else None
        approved = (
            datetime.datetime.combine(
                signed, datetime.time(16, rng.randint(0, 59)), tzinfo=timezone.get_current_timezone()
            )
            if in_force
            else None
        )
        return {
            "customer_id": customer["id"],
            "kind": kind,
            "signed_date": signed,
            "valid_from": start,
            "valid_to": end,
            "quality_terms": HANDSET_QUALITY if handsets else QUALITY_TERMS,
            "delivery_time": "收到订单后3个工作日内发货" if handsets else "收到订单后48小时内发货",
            "delivery_place": f"{customer['city']}市，买方指定仓库",
            "transport": "物流专线" if handsets else rng.choice(("冷链物流", "汽车运输", "冷链物流")),
            "freight_payer": Contract.FreightPayer.SELLER if rng.random() < 0.8 else Contract.FreightPayer.BUYER,
            "acceptance_terms": HANDSET_ACCEPTANCE if handsets else ACCEPTANCE_TERMS,
            "payment_term_days": term,
            "status": status,
            "approved_by_id": customer["_manager_id"] if in_force else None,
            "approved_at": approved,
            "created_by_id": customer["owner_id"],
            "_lines": lines,
            "_created": signed or self.today - datetime.timedelta(days=rng.randint(0, 6)),
        }

    def _orders(self, customer, weight, spend, basket, contracts, first, last) -> list[dict]:
        rng, today = self.rng, self.today
        rate = self.order_rate * (0.4 + 0.6 * min(weight, 30) ** 0.5)
        per_order = spend / rate * 100
        season = SEASON[customer["industry"]]
        in_force = [c for c in contracts if c["approved_by_id"] is not None]
        ctype, owner = customer["type"], customer["owner_id"]
        orders = []
        month = _month_start(first)
        while month <= last:
            end = _month_end(month)
            low, high = max(month, first), min(end, last)
            share = ((high - low).days + 1) / ((end - month).days + 1)
            for _ in range(_poisson(rng, rate * season[month.month] * share)):
                on = low + datetime.timedelta(days=rng.randint(0, (high - low).days))
                contract = next((c for c in in_force if c["valid_from"] <= on <= c["valid_to"]), None)
                if contract is not None and rng.random() < 0.15:
                    contract = None  # bought outside the framework
                term = contract["payment_term_days"] if contract else customer["payment_term_days"]
                lines, total = self._lines(basket, ctype, on, per_order * math.exp(rng.gauss(0, 0.4)))
                status = self._status((today - on).days)
                confirmed = status != S.DRAFT and not (status == S.CANCELLED and rng.random() < 0.4)
                orders.append(
                    {
                        "customer_id": customer["id"],
                        "order_date": on,
                        "status": status,
                        "payment_term_days": term,
                        "due_date": on + datetime.timedelta(days=term) if confirmed else None,
                        "total": _money(total),
                        "created_by_id": owner,
                        "confirmed_at": _at(on, 10) if confirmed else None,
                        "_contract": contract,
                        "_lines": lines,
                        "_cents": total,
                        "_open": 0,
                    }
                )
            month = _month_start(month, -1)
        orders.sort(key=lambda o: o["order_date"])
        return orders

    def _lines(self, basket, ctype, on, amount) -> tuple[list[dict], int]:
        rng = self.rng
        count = rng.choices(*LINE_COUNTS)[0]
        products = rng.sample(basket, min(count, len(basket)))
        shares = [rng.random() + 0.2 for _ in products]
        whole = sum(shares)
        lines, total = [], 0
        for product, share in zip(products, shares, strict=True):
            unit, policy = self.prices.price(product.pk, ctype, on)
            quantity = max(1, round(amount * share / whole / unit))
            lines.append(
                {
                    "product_id": product.pk,
                    "quantity": Decimal(quantity),
                    "list_price": product.list_price,
                    "unit_price": _money(unit),
                    "policy_id": policy,
                }
            )
            total += quantity * unit
        return lines, total

    def _status(self, age: int) -> str:
        rng = self.rng
        if rng.random() < 0.03:
            return S.CANCELLED
        if age <= 10:
            return rng.choices([S.DRAFT, S.CONFIRMED, S.SHIPPED], weights=[15, 60, 25])[0]
        if age <= 30:
            return rng.choices([S.CONFIRMED, S.SHIPPED, S.COMPLETED], weights=[20, 50, 30])[0]
        return S.COMPLETED

    def _payments(self, customer, orders) -> list[dict]:
        """Money paid for each confirmed order, per the customer's habit; only what was
        paid by today exists."""
        rng, today, day = self.rng, self.today, datetime.timedelta(days=1)
        habit = rng.choices(list(PAYERS), weights=[w for w, _a, _b in PAYERS.values()])[0]
        _weight, early, late = PAYERS[habit]
        stops = today - rng.randint(60, 400) * day if habit == "stopped" else None
        payments = []
        for order in orders:
            if order["status"] not in Order.RECEIVABLE_STATUSES:
                continue
            total = order["_cents"]
            if habit == "prepays":
                parts, when = [-(-total // 100_000) * 100_000], order["order_date"] - rng.randint(0, 5) * day
            else:
                count = rng.choices(*self.instalments)[0]
                parts = []
                for _ in range(count - 1):
                    part = int(total * rng.uniform(0.3, 0.6) / 10_000) * 10_000
                    if 0 < part < total - sum(parts):
                        parts.append(part)
                parts.append(total - sum(parts))
                when = order["due_date"] + rng.randint(early, late) * day
            for part in parts:
                if when > today or (stops and when > stops):
                    break
                payments.append(self._payment(customer, when, part))
                when += rng.randint(10, 30) * day
        payments.sort(key=lambda p: p["date"])
        return payments

    def _payment(self, customer: dict, on: datetime.date, cents: int) -> dict:
        rng = self.rng
        method = rng.choices([m for m, _w in METHODS], weights=[w for _m, w in METHODS])[0]
        reference = {
            Payment.Method.TRANSFER: f"{on:%Y%m%d}{rng.randrange(10**9, 10**10)}",
            Payment.Method.BILL: f"承兑汇票{rng.randrange(10**11, 10**12)}",
            Payment.Method.WECHAT: f"4200{rng.randrange(10**13, 10**14)}",
            Payment.Method.ALIPAY: f"2024{rng.randrange(10**13, 10**14)}",
        }.get(method, "")
        return {
            "customer_id": customer["id"],
            "date": on,
            "amount": _money(cents),
            "method": method,
            "reference": reference,
            "recorded_by_id": self.finance_id,
            "_cents": cents,
            "_allocations": [],
        }

    def _allocate(self, orders: list[dict], payments: list[dict]) -> None:
        """The services' rule, replayed in date order: a payment goes to the open orders
        oldest due first; an order confirmed uses the prepayments oldest first."""
        events = [(o["order_date"], 0, i, o) for i, o in enumerate(orders) if o["status"] in Order.RECEIVABLE_STATUSES]
        events += [(p["date"], 1, i, p) for i, p in enumerate(payments)]
        events.sort(key=lambda e: e[:3])
        open_orders: list[tuple] = []
        prepaid: list[dict] = []
        for _on, kind, index, row in events:
            if kind == 0:
                row["_open"] = row["_cents"]
                open_orders.append((row["due_date"], row["order_date"], index, row))
                open_orders.sort(key=lambda o: o[:3])
                for payment in prepaid:
                    _apply(payment, open_orders)
            else:
                row["_left"] = row["_cents"]
                _apply(row, open_orders)
                prepaid.append(row)
            open_orders[:] = [o for o in open_orders if o[3]["_open"] > 0]
            prepaid[:] = [p for p in prepaid if p["_left"] > 0]
        for order in orders:
            paid = order["_cents"] - order["_open"] if order["status"] in Order.RECEIVABLE_STATUSES else 0
            order["paid_amount"] = _money(paid)
        for payment in payments:
            payment["unallocated"] = _money(payment["_left"])


def _apply(payment: dict, open_orders: list[tuple]) -> None:
    for *_key, order in open_orders:
        left = payment["_left"]
        if left <= 0:
            return
        amount = min(left, order["_open"])
        if amount > 0:
            payment["_allocations"].append((order, amount))
            order["_open"] -= amount
            payment["_left"] = left - amount


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


def draw_numbers(prefix: str, sequence: str, dates: list[datetime.date]) -> list[str]:
    """Numbers in the services' format, drawn from their sequence in one query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, len(dates)])
        numbers = sorted(number for (number,) in cursor.fetchall())
    return [f"{prefix}{on:%Y%m}{number:06d}" for on, number in zip(dates, numbers, strict=True)]


def finish_rows(histories: list[History]) -> tuple[list[dict], list[dict], list[dict]]:
    """All customers' contracts, orders and payments, numbered in date order from the
    services' sequences."""
    contracts = sorted((c for h in histories for c in h.contracts), key=lambda c: c["valid_from"])
    orders = sorted((o for h in histories for o in h.orders), key=lambda o: o["order_date"])
    payments = sorted((p for h in histories for p in h.payments), key=lambda p: p["date"])
    for rows, prefix, sequence, key in (
        (contracts, "HT", "sales_contract_number_seq", "valid_from"),
        (orders, "DD", "sales_order_number_seq", "order_date"),
        (payments, "HK", "sales_payment_number_seq", "date"),
    ):
        for row, number in zip(rows, draw_numbers(prefix, sequence, [r[key] for r in rows]), strict=True):
            row["number"] = number
    return contracts, orders, payments


# -- The demo ---------------------------------------------------------------------------------


def sales_demo_loaded() -> bool:
    return AuditEvent.objects.filter(object_type="order", reason=DEMO_REASON).exists()


@transaction.atomic
def load_sales_demo(today: datetime.date | None = None) -> bool:
    """Load the sales demo for the archive demo's customers, once; False (and nothing
    written) when it is there already or the archive demo is not."""
    if not demo_loaded() or sales_demo_loaded():
        return False
    today = today or timezone.localdate()
    products = catalogue_load()
    policies = policies_load(products, today)
    users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])}
    admin = users[DEMO_ADMIN]
    maker = SalesMaker(
        seed=SEED,
        today=today,
        products=products,
        price_book=PriceBook(products, policies),
        finance_id=users["finance"].pk,
    )
    managers = {u.team_id: u for u in users.values() if u.role == User.Role.MANAGER}
    reps = {u.pk: u for u in users.values() if u.role == User.Role.REP}
    customers = list(Customer.objects.filter(owner__in=reps.values()).order_by("pk"))
    histories = []
    for customer, weight in zip(customers, maker.weights([c.type for c in customers]), strict=True):
        row = {
            "id": customer.pk,
            "type": customer.type,
            "industry": customer.industry,
            "status": customer.status,
            "name": customer.name,
            "city": customer.city,
            "owner_id": customer.owner_id,
            "payment_term_days": customer.payment_term_days,
            "cooperation_start": customer.cooperation_start,
            "_manager_id": managers[reps[customer.owner_id].team_id].pk,
        }
        histories.append(maker.history(row, weight))
    contracts, orders, payments = finish_rows(histories)
    saved = _save(contracts, orders, payments)
    _after_sales(maker, orders, users)
    _targets(orders, reps, today)
    _history(admin, saved, products, customers, users)
    metrics.refresh(today=today)
    return True


def _save(contracts: list[dict], orders: list[dict], payments: list[dict]) -> dict[str, list]:
    """bulk_create everything; timestamps then say when each thing happened."""
    contract_objects = Contract.objects.bulk_create([Contract(**_plain(c)) for c in contracts], batch_size=1000)
    for row, obj in zip(contracts, contract_objects, strict=True):
        row["id"] = obj.pk
    ContractLine.objects.bulk_create(
        [ContractLine(contract_id=c["id"], **line) for c in contracts for line in c["_lines"]], batch_size=2000
    )
    order_objects = Order.objects.bulk_create(
        [Order(contract_id=o["_contract"]["id"] if o["_contract"] else None, **_plain(o)) for o in orders],
        batch_size=2000,
    )
    for row, obj in zip(orders, order_objects, strict=True):
        row["id"] = obj.pk
    OrderLine.objects.bulk_create(
        [OrderLine(order_id=o["id"], **line) for o in orders for line in o["_lines"]], batch_size=5000
    )
    payment_objects = Payment.objects.bulk_create([Payment(**_plain(p)) for p in payments], batch_size=2000)
    for row, obj in zip(payments, payment_objects, strict=True):
        row["id"] = obj.pk
    Allocation.objects.bulk_create(
        [
            Allocation(payment_id=p["id"], order_id=order["id"], amount=_money(cents))
            for p in payments
            for order, cents in p["_allocations"]
        ],
        batch_size=5000,
    )
    zone = timezone.get_current_timezone_name()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sales_order SET created_at = (order_date + time '09:00' + (id %% 480) * interval '1 minute') "
            "AT TIME ZONE %s WHERE id = ANY(%s)",
            [zone, [o["id"] for o in orders]],
        )
        cursor.execute(
            "UPDATE sales_payment SET created_at = (date + time '14:00' + (id %% 180) * interval '1 minute') "
            "AT TIME ZONE %s WHERE id = ANY(%s)",
            [zone, [p["id"] for p in payments]],
        )
        cursor.execute(
            "UPDATE sales_allocation a SET created_at = p.created_at FROM sales_payment p "
            "WHERE a.payment_id = p.id AND p.id = ANY(%s)",
            [[p["id"] for p in payments]],
        )
    Contract.objects.bulk_update(
        [Contract(pk=c["id"], created_at=_at(c["_created"], 11)) for c in contracts], ["created_at"], batch_size=1000
    )
    return {"contracts": contract_objects, "orders": order_objects, "payments": payment_objects}


def _after_sales(maker: SalesMaker, orders: list[dict], users: dict[str, User]) -> list[AfterSalesRequest]:
    """Requests in every status over the last year, on real orders."""
    rng, today = maker.rng, maker.today
    recent = [o for o in orders if o["status"] in Order.RECEIVABLE_STATUSES and (today - o["order_date"]).days <= 365]
    industries = dict(Customer.objects.filter(pk__in={o["customer_id"] for o in recent}).values_list("pk", "industry"))
    statuses = [AfterSalesRequest.Status.OPEN] * 8 + [AfterSalesRequest.Status.IN_PROGRESS] * 8
    statuses += [AfterSalesRequest.Status.RESOLVED] * 14 + [AfterSalesRequest.Status.CLOSED] * 14
    clerk = users["clerk"]
    requests = []
    for status in statuses:
        order = rng.choice(recent)
        issue, resolution = rng.choice(AFTER_SALES_ISSUES[industries[order["customer_id"]]])
        opened = _at(order["order_date"], 10) + datetime.timedelta(days=rng.randint(2, 12), minutes=rng.randint(0, 480))
        opened = min(opened, timezone.now() - datetime.timedelta(hours=rng.randint(1, 72)))
        done = status in (AfterSalesRequest.Status.RESOLVED, AfterSalesRequest.Status.CLOSED)
        requests.append(
            AfterSalesRequest(
                customer_id=order["customer_id"],
                order_id=order["id"],
                product_id=rng.choice(order["_lines"])["product_id"],
                issue=issue,
                status=status,
                assignee=clerk if rng.random() < 0.6 else None,
                resolution=resolution if done else "",
                opened_at=opened,
                resolved_at=min(opened + datetime.timedelta(hours=rng.randint(4, 240)), timezone.now())
                if done
                else None,
                created_by_id=order["created_by_id"],
            )
        )
    return AfterSalesRequest.objects.bulk_create(requests)


def _targets(orders: list[dict], reps: dict[int, User], today: datetime.date) -> None:
    """Each rep's monthly targets for the last 12 months: a little above what their
    customers bought the year before, rounded to ten thousand."""
    owners = dict(Customer.objects.filter(pk__in={o["customer_id"] for o in orders}).values_list("pk", "owner_id"))
    year_before = defaultdict(int)
    since = _month_start(today, 23)
    until = _month_start(today, 11)
    for order in orders:
        if order["status"] in Order.RECEIVABLE_STATUSES and since <= order["order_date"] < until:
            year_before[owners[order["customer_id"]]] += order["_cents"]
    rng = random.Random(SEED)
    targets = []
    for rep_id in sorted(reps):
        monthly = year_before[rep_id] / 100 / 12 or 100_000
        for back in range(11, -1, -1):
            month = _month_start(today, back)
            amount = round(monthly * rng.uniform(1.0, 1.2) * SEASON[VET][month.month], -4)
            targets.append(
                SalesTarget(
                    rep_id=rep_id,
                    month=month,
                    order_target=Decimal(amount),
                    collection_target=Decimal(round(amount * 0.9, -4)),
                )
            )
    SalesTarget.objects.bulk_create(targets, ignore_conflicts=True)


def _history(admin: User, saved: dict, products: list[Product], customers: list[Customer], users: dict) -> None:
    """One "created" event per contract, order and payment, dated when it happened."""
    by_customer = {c.pk: c for c in customers}
    by_user = {u.pk: u for u in users.values()}
    by_product = {p.pk: p for p in products}
    contracts = {c.pk: c for c in saved["contracts"]}
    events = []
    for contract in saved["contracts"]:
        contract.customer = by_customer[contract.customer_id]
        contract.created_by = by_user.get(contract.created_by_id)
        contract.approved_by = by_user.get(contract.approved_by_id)
        events.append((contract, audit.snapshot(contract)))
    lines = defaultdict(list)
    for line in OrderLine.objects.filter(order__in=saved["orders"]).values_list(
        "order_id", "product_id", "quantity", "unit_price"
    ):
        lines[line[0]].append(line)
    for order in saved["orders"]:
        order.customer = by_customer[order.customer_id]
        order.created_by = by_user.get(order.created_by_id)
        order.contract = contracts.get(order.contract_id)
        values = audit.snapshot(order)
        values["lines"] = [
            f"{by_product[product]} × {audit._plain(quantity)} @ {audit._plain(price)}"
            for _order, product, quantity, price in lines[order.pk]
        ]
        events.append((order, values))
    for payment in saved["payments"]:
        payment.customer = by_customer[payment.customer_id]
        payment.recorded_by = by_user.get(payment.recorded_by_id)
        events.append((payment, audit.snapshot(payment)))
    AuditEvent.objects.bulk_create(
        [
            audit.event(
                actor=admin,
                action=AuditEvent.Action.CREATE,
                obj=obj,
                customer_id=obj.customer_id,
                changes=audit.diff({}, values),
                reason=DEMO_REASON,
                batch=uuid.uuid4(),
            )
            for obj, values in events
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        for table, model in (("sales_order", "order"), ("sales_payment", "payment"), ("sales_contract", "contract")):
            cursor.execute(
                f"""
                UPDATE crm_auditevent e SET at = t.created_at FROM {table} t
                WHERE e.object_type = %s AND e.object_id = t.id AND e.reason = %s""",
                [model, DEMO_REASON],
            )
