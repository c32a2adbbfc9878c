"""Demo data that looks like a real veterinary-drug distributor (and a few handset
shops): the people, and customers with everything an archive holds.

`ArchiveMaker` makes plain rows (dicts keyed by model attribute names), seeded, so the
same run makes the same data; `load_demo()` turns them into the demo database, and
the benchmark (bench/) loads the same kind of rows by the hundred thousand.
"""

import datetime
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from crm import audit
from crm.models import AuditEvent, Region, Team, User
from customers.models import (
    ActionItem,
    Brand,
    Contact,
    Customer,
    CustomField,
    FactSource,
    FactVerification,
    Level,
    Livestock,
    QualificationDocument,
    Relation,
    Tag,
)
from customers.validators import credit_code_check_char

SEED = 20240601
PASSWORD = "demo12345"
CUSTOMER_COUNT = 330
DEMO_REASON = "演示数据"  # shown in history as the reason; the demo is Chinese data

# -- Geography: real prefecture-level cities (or districts of the municipalities) with
# their GB/T 2260 codes, which are also positions 3-8 of a credit code.

CITIES: dict[str, list[tuple[str, str]]] = {
    "11": [("大兴", "110115"), ("顺义", "110113"), ("通州", "110112"), ("房山", "110111"), ("平谷", "110117")],
    "12": [("武清", "120114"), ("宝坻", "120115"), ("静海", "120118"), ("蓟州", "120119")],
    "13": [("石家庄", "130100"), ("唐山", "130200"), ("邯郸", "130400"), ("邢台", "130500"), ("保定", "130600"),
           ("张家口", "130700"), ("承德", "130800"), ("沧州", "130900"), ("廊坊", "131000"), ("衡水", "131100")],
    "14": [("太原", "140100"), ("大同", "140200"), ("长治", "140400"), ("晋中", "140700"), ("运城", "140800"),
           ("临汾", "141000")],
    "15": [("呼和浩特", "150100"), ("包头", "150200"), ("赤峰", "150400"), ("通辽", "150500"),
           ("鄂尔多斯", "150600"), ("呼伦贝尔", "150700"), ("巴彦淖尔", "150800")],
    "21": [("沈阳", "210100"), ("大连", "210200"), ("鞍山", "210300"), ("锦州", "210700"), ("营口", "210800"),
           ("铁岭", "211200"), ("朝阳", "211300")],
    "22": [("长春", "220100"), ("吉林", "220200"), ("四平", "220300"), ("松原", "220700")],
    "23": [("哈尔滨", "230100"), ("齐齐哈尔", "230200"), ("大庆", "230600"), ("绥化", "231200")],
    "31": [("浦东新区", "310115"), ("松江", "310117"), ("崇明", "310151")],
    "32": [("南京", "320100"), ("无锡", "320200"), ("徐州", "320300"), ("常州", "320400"), ("南通", "320600"),
           ("连云港", "320700"), ("淮安", "320800"), ("盐城", "320900"), ("扬州", "321000"), ("泰州", "321200"),
           ("宿迁", "321300")],
    "33": [("杭州", "330100"), ("宁波", "330200"), ("温州", "330300"), ("嘉兴", "330400"), ("湖州", "330500"),
           ("金华", "330700"), ("衢州", "330800"), ("台州", "331000")],
    "34": [("合肥", "340100"), ("芜湖", "340200"), ("蚌埠", "340300"), ("安庆", "340800"), ("滁州", "341100"),
           ("阜阳", "341200"), ("宿州", "341300"), ("六安", "341500"), ("亳州", "341600")],
    "35": [("福州", "350100"), ("厦门", "350200"), ("莆田", "350300"), ("三明", "350400"), ("泉州", "350500"),
           ("漳州", "350600"), ("南平", "350700"), ("龙岩", "350800")],
    "36": [("南昌", "360100"), ("九江", "360400"), ("赣州", "360700"), ("吉安", "360800"), ("宜春", "360900"),
           ("上饶", "361100")],
    "37": [("济南", "370100"), ("青岛", "370200"), ("淄博", "370300"), ("枣庄", "370400"), ("东营", "370500"),
           ("烟台", "370600"), ("潍坊", "370700"), ("济宁", "370800"), ("泰安", "370900"), ("日照", "371100"),
           ("临沂", "371300"), ("德州", "371400"), ("聊城", "371500"), ("滨州", "371600"), ("菏泽", "371700")],
    "41": [("郑州", "410100"), ("开封", "410200"), ("洛阳", "410300"), ("平顶山", "410400"), ("新乡", "410700"),
           ("许昌", "411000"), ("漯河", "411100"), ("南阳", "411300"), ("商丘", "411400"), ("信阳", "411500"),
           ("周口", "411600"), ("驻马店", "411700")],
    "42": [("武汉", "420100"), ("宜昌", "420500"), ("襄阳", "420600"), ("荆州", "421000"), ("黄冈", "421100")],
    "43": [("长沙", "430100"), ("株洲", "430200"), ("衡阳", "430400"), ("邵阳", "430500"), ("岳阳", "430600"),
           ("常德", "430700")],
    "44": [("广州", "440100"), ("韶关", "440200"), ("佛山", "440600"), ("湛江", "440800"), ("茂名", "440900"),
           ("梅州", "441400"), ("清远", "441800")],
    "45": [("南宁", "450100"), ("柳州", "450200"), ("桂林", "450300"), ("玉林", "450900")],
    "46": [("海口", "460100"), ("三亚", "460200")],
    "50": [("万州", "500101"), ("涪陵", "500102"), ("合川", "500117"), ("荣昌", "500153")],
    "51": [("成都", "510100"), ("自贡", "510300"), ("绵阳", "510700"), ("内江", "511000"), ("乐山", "511100"),
           ("南充", "511300"), ("宜宾", "511500"), ("达州", "511700")],
    "52": [("贵阳", "520100"), ("遵义", "520300"), ("安顺", "520400")],
    "53": [("昆明", "530100"), ("曲靖", "530300"), ("玉溪", "530400"), ("大理", "532900")],
    "61": [("西安", "610100"), ("宝鸡", "610300"), ("咸阳", "610400"), ("渭南", "610500"), ("汉中", "610700"),
           ("榆林", "610800")],
    "62": [("兰州", "620100"), ("天水", "620500"), ("张掖", "620700")],
    "64": [("银川", "640100"), ("吴忠", "640300")],
    "65": [("乌鲁木齐", "650100"), ("昌吉", "652300"), ("伊犁", "654000")],
}  # fmt: skip

# The demo's two regions and the provinces each covers.
DEMO_REGIONS = {
    "华东大区": ["37", "32", "34", "33", "35", "36"],
    "华北大区": ["13", "41", "14", "15", "21", "11", "12"],
}

# Organisation codes are mostly digits, with the odd letter.
ORGANISATION_CHARS = "0123456789" * 4 + "ABCDEFGHJKLMNPQRTUWXY"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶贺顾毛郝龚邵万钱严武戴孔汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌鹏辉宇浩凯俊峰海波亮林东春雪梅琳晨阳振兴庆福长胜德金"
TRADE_NAMES = [
    "康达", "牧原", "宠安", "华牧", "丰源", "鑫盛", "金穗", "绿野", "恒泰", "瑞丰", "兴旺", "润康",
    "汇丰", "百川", "天成", "益农", "惠民", "宏达", "金牛", "福润", "春晖", "同心", "众鑫", "安康",
    "佳和", "博瑞", "海旭", "宝丰", "德润", "嘉禾", "祥和", "联众", "永盛", "信达", "绿源", "顺发",
    "金鹏", "兴农", "丰收", "牧歌", "沃土", "青禾", "惠农", "爱宠", "萌宠", "乐宠", "派多", "康宁",
    "禾丰", "正旺", "旺农", "牧康", "合力", "大成", "鼎盛", "丰泽", "盛源", "利民", "富民", "农丰",
    "田园", "富康", "鸿运", "新星", "华信", "金源", "长丰", "裕丰", "广源", "东方", "北辰", "南山",
    "乐康", "康泰", "泰和", "和顺", "亿家", "万家", "千禧", "世纪", "时代", "飞扬", "腾达", "聚丰",
    "仁和", "诚信", "晨光", "红星", "新天地", "金桥", "鑫源", "顺通", "畅达", "迅捷", "星辰", "蓝天",
    "沃野", "沃德", "益康", "神农", "牧丰", "禽康", "畜旺",
]  # fmt: skip
TOWNS = [
    "城关", "新集", "王庄", "李集", "马店", "高庄", "张村", "刘集", "大王", "小店", "柳林", "石桥",
    "河口", "双河", "白塔", "黄集", "古城", "三里", "杨柳", "梁山",
]  # fmt: skip
ROADS = [
    "人民路", "建设路", "解放路", "胜利街", "工业大道", "农贸市场", "兴业路", "振兴路", "幸福街", "和平路", "光明路", "育才路",
    "农机市场", "迎宾大道",
]  # fmt: skip

VET = Customer.Industry.VET_DRUGS
HANDSETS = Customer.Industry.HANDSETS
T = Customer.Type
SUFFIXES = {
    (T.DEALER, VET): ["兽药有限公司", "兽药经营部", "动物保健品有限公司", "动保科技有限公司", "牧业科技有限公司",
                      "兽药批发部", "农牧发展有限公司"],
    (T.DEALER, HANDSETS): ["通讯器材有限公司", "手机批发部", "数码通讯有限公司"],
    (T.SUB_DEALER, VET): ["兽药店", "兽药门市部", "兽药经营部", "饲料兽药店", "畜禽药店"],
    (T.SUB_DEALER, HANDSETS): ["通讯器材经营部", "手机经营部"],
    (T.FARM, VET): ["养殖场", "牧业有限公司", "生猪养殖场", "蛋鸡养殖场", "养殖专业合作社", "奶牛养殖场",
                    "肉牛养殖场", "种猪场", "生态养殖有限公司", "家庭农场", "肉鸡养殖场", "肉羊养殖专业合作社"],
    (T.CLINIC, VET): ["动物诊所", "宠物医院", "动物医院", "宠物诊所"],
    (T.STORE, VET): ["兽药门市部", "兽药店", "宠物用品店"],
    (T.STORE, HANDSETS): ["通讯门店", "手机店", "通讯器材店", "数码通讯店"],
    (T.CHAIN, VET): ["宠物医院连锁有限公司", "兽药连锁有限公司", "动保连锁经营有限公司"],
    (T.CHAIN, HANDSETS): ["通讯连锁有限公司", "手机连锁有限公司", "通讯器材连锁有限公司"],
}  # fmt: skip
# How often each type occurs, and how often it sells handsets rather than vet drugs.
TYPE_WEIGHTS = {T.DEALER: 20, T.SUB_DEALER: 18, T.FARM: 26, T.CLINIC: 12, T.STORE: 16, T.CHAIN: 8}
HANDSET_SHARE = {T.DEALER: 0.08, T.SUB_DEALER: 0.05, T.FARM: 0.0, T.CLINIC: 0.0, T.STORE: 0.55, T.CHAIN: 0.45}

S = Livestock.Species
U = Livestock.Unit
# Species, unit and a typical on-hand volume for a single farm.
SPECIES = {
    S.SOW: (U.HEAD, 300, 3000),
    S.FINISHER: (U.HEAD, 2000, 30000),
    S.LAYER: (U.TEN_K_BIRDS, 2, 50),
    S.BROILER: (U.TEN_K_BIRDS, 5, 80),
    S.DUCK: (U.TEN_K_BIRDS, 1, 20),
    S.DAIRY: (U.HEAD, 100, 2000),
    S.BEEF: (U.HEAD, 50, 1500),
    S.SHEEP: (U.HEAD, 200, 5000),
    S.AQUA: (U.MU, 50, 2000),
}
FARM_SPECIES = {
    "生猪": [S.SOW, S.FINISHER], "种猪": [S.SOW, S.FINISHER], "蛋鸡": [S.LAYER], "肉鸡": [S.BROILER],
    "奶牛": [S.DAIRY], "肉牛": [S.BEEF], "肉羊": [S.SHEEP],
}  # fmt: skip
SPECIES_CHOICE = {S.SOW: "猪", S.FINISHER: "猪", S.LAYER: "蛋鸡", S.BROILER: "肉鸡", S.DUCK: "水禽",
                  S.DAIRY: "奶牛", S.BEEF: "肉牛", S.SHEEP: "羊", S.AQUA: "水产"}  # fmt: skip

OUR_BRAND = "华牧"
VET_BRANDS = [
    ("瑞普", Brand.Line.VACCINE), ("中牧", Brand.Line.VACCINE), ("金宇", Brand.Line.VACCINE),
    ("普莱柯", Brand.Line.VACCINE), ("海利", Brand.Line.VACCINE), ("回盛", Brand.Line.ANTIBIOTIC),
    ("齐鲁动保", Brand.Line.ANTIBIOTIC), ("鲁抗", Brand.Line.ANTIBIOTIC), ("牧翔", Brand.Line.TCM),
    ("绿都", Brand.Line.TCM), ("威龙", Brand.Line.DISINFECTANT), ("利尔康", Brand.Line.DISINFECTANT),
    ("大北农", Brand.Line.FEED_ADDITIVE), ("硕腾", Brand.Line.ANTIBIOTIC),
]  # fmt: skip
HANDSET_BRANDS = [
    ("华为", Brand.Line.HANDSET), ("荣耀", Brand.Line.HANDSET), ("OPPO", Brand.Line.HANDSET),
    ("vivo", Brand.Line.HANDSET), ("小米", Brand.Line.HANDSET), ("苹果", Brand.Line.HANDSET),
    ("倍思", Brand.Line.ACCESSORY), ("绿联", Brand.Line.ACCESSORY),
]  # fmt: skip

TAGS = ["重点客户", "新客户", "疫苗大户", "宠物", "连锁", "手机"]

CUSTOM_FIELDS = [
    {"key": "main_species", "label": "主营畜种", "kind": CustomField.Kind.CHOICE, "position": 1,
     "choices": ["猪", "蛋鸡", "肉鸡", "水禽", "奶牛", "肉牛", "羊", "水产", "宠物"]},
    {"key": "vaccine_purchase", "label": "年疫苗采购额（万元）", "kind": CustomField.Kind.NUMBER, "position": 2,
     "choices": []},
]  # fmt: skip


@dataclass(frozen=True)
class DemoUser:
    username: str
    last_name: str
    first_name: str
    role: str
    team: str = ""


DEMO_ADMIN = "admin"
DEMO_USERS = [
    DemoUser(DEMO_ADMIN, "吴", "刚", User.Role.ADMIN),
    DemoUser("clerk", "孙", "丽", User.Role.CLIENT_SERVICE),
    DemoUser("finance", "周", "敏", User.Role.FINANCE),
    DemoUser("east_manager", "刘", "洋", User.Role.MANAGER, "华东一组"),
    DemoUser("east_rep1", "李", "明", User.Role.REP, "华东一组"),
    DemoUser("east_rep2", "王", "芳", User.Role.REP, "华东一组"),
    DemoUser("east_rep3", "张", "伟", User.Role.REP, "华东一组"),
    DemoUser("north_manager", "陈", "静", User.Role.MANAGER, "华北一组"),
    DemoUser("north_rep1", "赵", "强", User.Role.REP, "华北一组"),
    DemoUser("north_rep2", "杨", "军", User.Role.REP, "华北一组"),
    DemoUser("north_rep3", "黄", "磊", User.Role.REP, "华北一组"),
]
DEMO_TEAMS = {"华东一组": "华东大区", "华北一组": "华北大区"}


class ArchiveMaker:
    """Makes realistic archive rows from one seeded random generator.

    Each method returns plain dicts keyed by model attribute names; keys starting with
    "_" describe the row to the other methods and are not columns.
    """

    def __init__(self, seed: int = SEED, today: datetime.date | None = None):
        self.rng = random.Random(seed)
        self.today = today or timezone.localdate()
        self._credit_codes: set[str] = set()
        self._names: set[tuple[str, str]] = set()

    # -- small pieces

    def person(self) -> str:
        rng = self.rng
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        return rng.choice(SURNAMES) + given

    def mobile(self) -> str:
        rng = self.rng
        return "1" + rng.choice("35789") + "".join(rng.choices("0123456789", k=9))

    def credit_code(self, area_code: str, organisation_kind: str) -> str:
        """Unique and valid: 9 (registered by market regulation), the kind (1 company,
        2 individual business, 3 farmers' cooperative), the area, a random
        organisation code and the GB 32100 check character."""
        while True:
            organisation = "".join(self.rng.choices(ORGANISATION_CHARS, k=9))
            first17 = f"9{organisation_kind}{area_code}{organisation}"
            if first17 not in self._credit_codes:
                self._credit_codes.add(first17)
                return first17 + credit_code_check_char(first17)

    def _money(self, low: int, high: int) -> Decimal:
        return Decimal(self.rng.randrange(low, high) * 1000)

    def _date_between(self, days_from: int, days_to: int) -> datetime.date:
        return self.today + datetime.timedelta(days=self.rng.randint(days_from, days_to))

    # -- the customer

    def customer(self, *, province: str, owner_id: int, code: str, quality: float | None = None) -> dict:
        """One customer row. `quality` (0-1) is how well the rep keeps the archive."""
        rng = self.rng
        ctype = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
        industry = HANDSETS if rng.random() < HANDSET_SHARE[ctype] else VET
        city, area_code = rng.choice(CITIES[province])
        name = self._company_name(ctype, industry, city)
        quality = rng.choice((0.25, 0.25, 0.3, 0.6, 0.65, 0.7, 0.7, 0.97, 0.97, 1.0)) if quality is None else quality
        pets = industry == VET and (ctype == T.CLINIC or "宠" in name or "动物医院" in name)
        kind = "2" if name.endswith(("部", "店", "诊所")) else "3" if "合作社" in name else "1"

        def maybe(value):
            return value if rng.random() < quality else None

        big = ctype in (T.DEALER, T.CHAIN) or "有限公司" in name
        sales_high = 3000 if big else 600
        row = {
            "code": code,
            "name": name,
            "type": ctype,
            "industry": industry,
            "province": province,
            "city": city,
            "address": maybe(f"{city}市{rng.choice(ROADS)}{rng.randint(1, 399)}号") or "",
            "credit_code": self.credit_code(area_code, kind) if rng.random() < 0.6 + 0.4 * quality else None,
            "phone": maybe(self.mobile()) or "",
            "owner_id": owner_id,
            "cooperation_start": maybe(self._date_between(-365 * 9, -20)),
            "status": rng.choices(
                [Customer.Status.ACTIVE, Customer.Status.PROSPECT, Customer.Status.DORMANT, Customer.Status.SUSPENDED],
                weights=[80, 9, 8, 3],
            )[0],
            "annual_sales": maybe(self._money(50, sales_high)),
            "working_capital": maybe(self._money(20, sales_high // 3)),
            "downstream_customers": maybe(rng.randint(20, 400)) if ctype in (T.DEALER, T.SUB_DEALER) else None,
            "coverage_area": maybe(f"{city}及周边{rng.randint(2, 9)}个县区") or "",
            "main_products": maybe(self._main_products(industry, pets)) or "",
            "hot_brand_count": maybe(rng.randint(1, 8)),
            "warehouse_area": maybe(rng.choice((50, 80, 120, 200, 300, 500, 800, 1200))),
            "vehicles": maybe(rng.randint(0, 12)),
            "staff": maybe(rng.randint(2, 60)),
            "farming_level": maybe(rng.choice(Level.values)) or "",
            "growth_3y": maybe(Decimal(rng.randint(-150, 450)) / 10),
            "technical_level": maybe(rng.choice(Level.values)) or "",
            "local_influence": maybe(rng.choice(Level.values)) or "",
            "cooperation_attitude": maybe(rng.choice(Level.values)) or "",
            "boss_name": maybe(self.person()) or "",
            "boss_gender": rng.choices([Customer.Gender.MALE, Customer.Gender.FEMALE], weights=[8, 2])[0],
            "boss_birth_year": maybe(rng.randint(1962, 1995)),
            "boss_education": maybe(rng.choice(Customer.Education.values)) or "",
            "boss_phone": maybe(self.mobile()) or "",
            "boss_work_history": maybe(rng.choice(WORK_HISTORY)) or "",
            "boss_economic_situation": maybe(rng.choice(ECONOMIC_SITUATION)) or "",
            "boss_reputation": maybe(rng.choice(REPUTATION)) or "",
            "custom_fields": {},
            "_quality": quality,
            "_pets": pets,
        }
        if not row["boss_name"]:
            row.update(boss_gender="", boss_birth_year=None, boss_phone="")
        row["_species"] = [] if industry != VET or row["_pets"] else self._species(name)
        if industry == VET and rng.random() < 0.3 + 0.6 * quality:
            row["custom_fields"]["main_species"] = "宠物" if row["_pets"] else SPECIES_CHOICE[row["_species"][0]]
            if not row["_pets"] and rng.random() < 0.8:
                row["custom_fields"]["vaccine_purchase"] = rng.choice((5, 8, 12, 20, 30, 45, 60, 80, 120, 200))
        if quality >= 0.9 and rng.random() < 0.5:
            row.update(self._swot_and_plan(row))
        return row

    def _company_name(self, ctype: str, industry: str, city: str) -> str:
        rng = self.rng
        for attempt in range(20):
            word = rng.choice(TRADE_NAMES)
            suffix = rng.choice(SUFFIXES[(ctype, industry)])
            if attempt > 5 or (ctype in (T.FARM, T.SUB_DEALER) and rng.random() < 0.3):
                name = f"{city}{rng.choice(TOWNS)}{word}{suffix}"
            elif rng.random() < 0.6:
                name = f"{city}{word}{suffix}"
            else:
                name = f"{word}{suffix}"
            if (name, city) not in self._names:
                break
        else:
            name = f"{name}（{rng.choice(TOWNS)}店）"
        self._names.add((name, city))
        return name

    def _main_products(self, industry: str, pets: bool) -> str:
        rng = self.rng
        if industry == HANDSETS:
            return "、".join(rng.sample([b for b, _ in HANDSET_BRANDS[:6]], 3)) + " 手机及配件"
        if pets:
            return "宠物疫苗、驱虫药、宠物处方粮、诊疗服务"
        products = ["猪用疫苗", "禽用疫苗", "抗生素", "中兽药", "消毒剂", "饲料添加剂", "驱虫药", "维生素"]
        return "、".join(rng.sample(products, rng.randint(2, 4)))

    def _species(self, name: str) -> list[str]:
        for key, species in FARM_SPECIES.items():
            if key in name:
                return species
        rng = self.rng
        return rng.sample(list(SPECIES), rng.randint(1, 2))

    def _swot_and_plan(self, row: dict) -> dict:
        rng = self.rng
        city = row["city"]
        return {
            "strengths": rng.choice(["网点覆盖广，下游客户稳定", "老板懂技术，养殖户信任度高", "资金实力强，回款及时"]),
            "weaknesses": rng.choice(["库房偏小，旺季断货", "业务员流动大", "过度依赖单一畜种"]),
            "opportunities": rng.choice([f"{city}规模化养殖场增多", "非洲猪瘟后补栏需求大", "宠物市场快速增长"]),
            "threats": rng.choice(["竞品低价冲击", "环保政策收紧，散户退出", "电商平台分流"]),
            "plan_who": f"{city}地区有影响力的{row['name'][-6:]}",
            "plan_what": rng.choice(["做透周边养殖户的疫苗和保健", "建立技术服务队，开展上门服务"]),
            "plan_how": rng.choice(["每季度联合举办一次技术讲座", "设立样板场，以点带面"]),
            "plan_goal": rng.choice(["三年内年销售额翻一番", "明年进入公司大客户名单"]),
            "plan_help": rng.choice(["需要公司技术员每月驻点一周", "需要公司给予授信支持和促销政策"]),
        }

    # -- what belongs to a customer

    def contacts(self, customer: dict, count: int | None = None) -> list[dict]:
        rng = self.rng
        count = count if count is not None else rng.choices([1, 2, 3, 4], weights=[30, 35, 25, 10])[0]
        roles = [Contact.Role.BOSS, Contact.Role.PURCHASER, Contact.Role.FINANCE, Contact.Role.TECHNICIAN]
        titles = {Contact.Role.BOSS: "老板", Contact.Role.PURCHASER: "采购经理", Contact.Role.FINANCE: "会计",
                  Contact.Role.TECHNICIAN: "兽医" if customer["industry"] == VET else "店长"}  # fmt: skip
        rows = []
        for index in range(count):
            role = roles[index] if index < len(roles) else Contact.Role.OTHER
            is_boss = role == Contact.Role.BOSS and customer["boss_name"]
            mobile = customer["boss_phone"] if is_boss and customer["boss_phone"] else self.mobile()
            rows.append(
                {
                    "name": customer["boss_name"] if is_boss else self.person(),
                    "role": role,
                    "title": titles.get(role, ""),
                    "mobile": mobile,
                    "wechat": rng.choice(
                        [mobile, f"wxid_{''.join(rng.choices('abcdefghkmnpqrstuvwxyz23456789', k=10))}", ""]
                    ),
                    "email": rng.choice(["", "", f"{rng.randint(10**7, 10**10)}@qq.com", f"{mobile}@163.com"]),
                    "birthday": self._birthday() if rng.random() < 0.55 else None,
                    "is_primary": index == 0,
                    "opted_out": rng.random() < 0.03,
                }
            )
        return rows

    def _birthday(self) -> datetime.date:
        """One in eight falls in the coming two weeks, so birthday care has work to do."""
        rng = self.rng
        year = rng.randint(1965, 1998)
        if rng.random() < 0.125:
            day = self.today + datetime.timedelta(days=rng.randint(1, 14))
        else:
            day = datetime.date(2001, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        if day.month == 2 and day.day == 29:
            year -= year % 4
        return day.replace(year=year)

    def documents(self, customer: dict) -> list[dict]:
        """A business licence for most; the permits the type needs; GSP for some."""
        rng = self.rng
        city = customer["city"]
        rows = []
        Type = QualificationDocument.Type
        if customer["credit_code"] or rng.random() < 0.5:
            long_term = rng.random() < 0.7
            rows.append(
                {
                    "doc_type": Type.BUSINESS_LICENCE,
                    "number": customer["credit_code"] or "",
                    "issuer": f"{city}市市场监督管理局",
                    "issue_date": self._date_between(-365 * 12, -60),
                    "expiry_date": None if long_term else self._expiry(60),
                }
            )
        needs_permit = (
            customer["industry"] == VET
            and not customer["_pets"]
            and customer["type"] in (T.DEALER, T.SUB_DEALER, T.STORE, T.CHAIN)
        )
        if needs_permit and rng.random() < 0.92:
            expiry = self._expiry(183)
            rows.append(
                {
                    "doc_type": Type.DRUG_PERMIT,
                    "number": f"兽药经营证字{rng.randrange(10**8, 10**9)}",
                    "issuer": f"{city}市农业农村局",
                    "issue_date": expiry - datetime.timedelta(days=365 * 5),
                    "expiry_date": expiry,
                    "scope": "兽用化学药品、中兽药、兽用生物制品" if rng.random() < 0.6 else "兽用化学药品、中兽药",
                }
            )
            rows[-1]["biologics"] = "生物制品" in rows[-1]["scope"]
            if customer["type"] in (T.DEALER, T.CHAIN) and rng.random() < 0.5:
                expiry = self._expiry(90)
                rows.append(
                    {
                        "doc_type": Type.GSP,
                        "number": f"GSP{rng.randrange(10**6, 10**7)}",
                        "issuer": f"{city}市农业农村局",
                        "issue_date": expiry - datetime.timedelta(days=365 * 5),
                        "expiry_date": expiry,
                    }
                )
        if customer["_pets"] and "用品" not in customer["name"] and rng.random() < 0.9:
            rows.append(
                {
                    "doc_type": Type.CLINIC_LICENCE,
                    "number": f"动物诊疗许可证字{rng.randrange(10**5, 10**6)}号",
                    "issuer": f"{city}市农业农村局",
                    "issue_date": self._date_between(-365 * 6, -30),
                    "expiry_date": self._expiry(90),
                }
            )
        return rows

    def _expiry(self, warning_days: int) -> datetime.date:
        """Most valid; about one in ten expired and one in six inside the warning window."""
        draw = self.rng.random()
        if draw < 0.10:
            return self._date_between(-400, -1)
        if draw < 0.26:
            return self._date_between(1, warning_days - 1)
        return self._date_between(warning_days + 10, 365 * 5)

    def livestock(self, customer: dict) -> list[dict]:
        """Farms their own herd; dealers the volume of the area they serve. Two or three
        dated readings per species, a few months apart."""
        rng = self.rng
        if not customer["_species"] or customer["type"] not in (T.FARM, T.DEALER):
            return []
        scale = 20 if customer["type"] == T.DEALER else 1
        rows = []
        for species in customer["_species"]:
            unit, low, high = SPECIES[species]
            quantity = rng.randint(low, high) * scale
            for step in range(rng.randint(2, 3)):
                rows.append(
                    {
                        "species": species,
                        "kind": Livestock.Kind.ON_HAND,
                        "quantity": Decimal(max(1, round(quantity * rng.uniform(0.8, 1.15)))),
                        "unit": unit,
                        "as_of": self.today - datetime.timedelta(days=30 + step * 120 + rng.randint(0, 20)),
                        "source": rng.choice(FactSource.values),
                    }
                )
        return rows

    def brands(self, customer: dict) -> list[dict]:
        rng = self.rng
        pool = HANDSET_BRANDS if customer["industry"] == HANDSETS else VET_BRANDS
        rows = [
            {"name": name, "product_line": line, "is_ours": False, "is_hot": rng.random() < 0.4}
            for name, line in rng.sample(pool, rng.randint(1, 4))
        ]
        if customer["industry"] == VET and rng.random() < 0.6:
            rows.append({"name": OUR_BRAND, "product_line": Brand.Line.VACCINE, "is_ours": True, "is_hot": True})
        return rows

    def relations(self, customer: dict) -> list[dict]:
        """The owner's spouse, partners and ties to authorities, for about a third."""
        rng = self.rng
        if not customer["boss_name"] or rng.random() > 0.35:
            return []
        rows = [
            {"name": self.person(), "kind": Relation.Kind.SPOUSE, "occupation": rng.choice(["教师", "会计", "共同经营", "护士"]),
             "notes": "店里的账由其管理" if rng.random() < 0.5 else "", "source": FactSource.CUSTOMER}
        ]  # fmt: skip
        if rng.random() < 0.4:
            rows.append(
                {"name": self.person(), "kind": Relation.Kind.PARTNER, "occupation": "合伙人",
                 "organisation": customer["name"], "notes": "持股30%，负责下游渠道", "source": FactSource.REP_ESTIMATE}
            )  # fmt: skip
        if rng.random() < 0.4:
            office = rng.choice(["县畜牧兽医局", "县动物疫病预防控制中心", "乡镇畜牧站", "市场监督管理所"])
            rows.append(
                {"name": self.person(), "kind": Relation.Kind.AUTHORITY, "occupation": rng.choice(["副局长", "站长", "防疫员"]),
                 "organisation": f"{customer['city']}{office}", "notes": rng.choice(["同学关系", "老乡，逢年过节走动", "表兄弟"]),
                 "source": FactSource.PEER}
            )  # fmt: skip
        return rows

    def fact_checks(self, customer: dict) -> list[dict]:
        """The source of each business-strength fact filled in; well-kept archives have
        about half of them verified (the caller sets who verified)."""
        rng = self.rng
        rows = []
        for fact in Customer.VERIFIABLE_FACTS:
            if customer.get(fact) in (None, ""):
                continue
            rows.append(
                {
                    "fact": fact,
                    "source": rng.choices(FactSource.values, weights=[50, 35, 15])[0],
                    "_verified": customer["_quality"] >= 0.9 and rng.random() < 0.6,
                }
            )
        return rows

    def action_items(self, customer: dict) -> list[dict]:
        if not customer.get("plan_goal"):
            return []
        rng = self.rng
        return [
            {
                "description": description,
                "due_date": self._date_between(-30, 120),
                "done": rng.random() < 0.3,
            }
            for description in rng.sample(ACTIONS, rng.randint(1, 3))
        ]


WORK_HISTORY = [
    "曾在县畜牧站工作8年，2012年自主创业",
    "原饲料厂业务员，做兽药批发十余年",
    "畜牧兽医专业毕业，先在大型养殖场做场长",
    "家族三代经营农资，2015年接手",
    "部队转业后开始经营手机门店",
]
ECONOMIC_SITUATION = [
    "自有门面两处，无贷款",
    "有银行贷款约50万元，经营稳定",
    "资金较紧张，旺季需要赊销支持",
    "家境殷实，另投资一家养殖场",
]
REPUTATION = [
    "在当地口碑较好，回款及时",
    "为人仗义，同行评价高",
    "曾有拖欠货款记录，近两年改善",
    "新进入市场，口碑待观察",
]
ACTIONS = [
    "协助客户申报GSP认证",
    "组织一次养殖户技术讲座",
    "年底前签订疫苗年度协议",
    "安排技术员驻点两周",
    "核实客户年销售额与库房面积",
    "推动客户开设第二家门店",
]


# -- Loading the demo ------------------------------------------------------------------


def demo_loaded() -> bool:
    return User.objects.filter(username=DEMO_ADMIN).exists()


def _plain_row(row: dict) -> dict:
    return {key: value for key, value in row.items() if not key.startswith("_")}


@transaction.atomic
def load_demo(today: datetime.date | None = None) -> bool:
    """Load the demo once; False (and nothing written) when it is already there."""
    if demo_loaded():
        return False
    maker = ArchiveMaker(SEED, today)
    users = _create_people()
    admin, clerk = users[DEMO_ADMIN], users["clerk"]
    reps_by_region = {
        region: [users[u.username] for u in DEMO_USERS if u.role == User.Role.REP and DEMO_TEAMS[u.team] == region]
        for region in DEMO_REGIONS
    }
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    for definition in CUSTOM_FIELDS:
        CustomField.objects.get_or_create(key=definition["key"], defaults=definition)

    rows = []
    codes = _customer_codes(CUSTOMER_COUNT)
    for index in range(CUSTOMER_COUNT):
        region = list(DEMO_REGIONS)[index % 2]
        owner = reps_by_region[region][(index // 2) % 3]
        province = maker.rng.choice(DEMO_REGIONS[region])
        row = maker.customer(province=province, owner_id=owner.pk, code=codes[index])
        rows.append(row)
    customers = Customer.objects.bulk_create(
        [Customer(**_plain_row(row), created_by=admin) for row in rows], batch_size=500
    )
    # Audit snapshots render the owner by name: give each row its loaded owner.
    by_pk = {user.pk: user for user in users.values()}
    for customer in customers:
        customer.owner = by_pk[customer.owner_id]
    _create_children(maker, rows, customers, clerk)
    _tag(maker, rows, customers, tags)
    AuditEvent.objects.bulk_create(
        [
            audit.event(
                actor=admin,
                action=AuditEvent.Action.CREATE,
                obj=customer,
                customer_id=customer.pk,
                changes={k: [None, v] for k, v in audit.snapshot(customer).items() if v not in (None, "", {}, [])},
                version=customer.version,
                reason=DEMO_REASON,
                batch=uuid.uuid4(),
            )
            for customer in customers
        ],
        batch_size=500,
    )
    from customers.services import refresh_derived

    refresh_derived([c.pk for c in customers])
    _history_through_services(users, customers, tags)
    return True


def _create_people() -> dict[str, User]:
    regions = {name: Region.objects.get_or_create(name=name)[0] for name in DEMO_REGIONS}
    teams = {
        name: Team.objects.get_or_create(name=name, defaults={"region": regions[region]})[0]
        for name, region in DEMO_TEAMS.items()
    }
    # One hash for the shared password: hashing it eleven times would take seconds.
    password = make_password(PASSWORD)
    users = {}
    for index, spec in enumerate(DEMO_USERS):
        users[spec.username] = User.objects.create(
            username=spec.username,
            last_name=spec.last_name,
            first_name=spec.first_name,
            role=spec.role,
            team=teams.get(spec.team),
            password=password,
            email=f"{spec.username}@demo.example.com",
            phone=f"1380000{index:04d}",
            is_staff=spec.role == User.Role.ADMIN,
            is_superuser=spec.role == User.Role.ADMIN,
        )
    return users


def _customer_codes(count: int) -> list[str]:
    """Codes from the same sequence customer_create draws from, in one query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('customers_customer_code_seq') FROM generate_series(1, %s)", [count])
        return [f"KH{number:06d}" for (number,) in cursor.fetchall()]


def _create_children(maker: ArchiveMaker, rows: list[dict], customers: list[Customer], clerk: User) -> None:
    contacts, documents, livestock, brands, relations, checks, actions = [], [], [], [], [], [], []
    now = timezone.now()
    for row, customer in zip(rows, customers, strict=True):
        pk = customer.pk
        contacts += [Contact(customer_id=pk, **item) for item in maker.contacts(row)]
        for item in maker.documents(row):
            verified = row["_quality"] >= 0.6 and maker.rng.random() < 0.5
            documents.append(
                QualificationDocument(
                    customer_id=pk,
                    verified_by=clerk if verified else None,
                    verified_at=now if verified else None,
                    **item,
                )
            )
        livestock += [Livestock(customer_id=pk, **item) for item in maker.livestock(row)]
        brands += [Brand(customer_id=pk, **item) for item in maker.brands(row)]
        relations += [Relation(customer_id=pk, **item) for item in maker.relations(row)]
        for item in maker.fact_checks(row):
            verified = item.pop("_verified")
            checks.append(
                FactVerification(
                    customer_id=pk,
                    verified_by=clerk if verified else None,
                    verified_at=now if verified else None,
                    **item,
                )
            )
        actions += [ActionItem(customer_id=pk, owner_id=customer.owner_id, **item) for item in maker.action_items(row)]
    for model, objects in (
        (Contact, contacts),
        (QualificationDocument, documents),
        (Livestock, livestock),
        (Brand, brands),
        (Relation, relations),
        (FactVerification, checks),
        (ActionItem, actions),
    ):
        model.objects.bulk_create(objects, batch_size=1000)


def _tag(maker: ArchiveMaker, rows: list[dict], customers: list[Customer], tags: dict[str, Tag]) -> None:
    through = Customer.tags.through
    links = []
    for row, customer in zip(rows, customers, strict=True):
        names = set()
        if (row["annual_sales"] or 0) >= 1_500_000 or (row["type"] == T.CHAIN and maker.rng.random() < 0.5):
            names.add("重点客户")
        if row["cooperation_start"] and row["cooperation_start"] > maker.today - datetime.timedelta(days=365):
            names.add("新客户")
        if (row["custom_fields"].get("vaccine_purchase") or 0) >= 60:
            names.add("疫苗大户")
        if row["_pets"]:
            names.add("宠物")
        if row["type"] == T.CHAIN:
            names.add("连锁")
        if row["industry"] == HANDSETS:
            names.add("手机")
        links += [through(customer_id=customer.pk, tag_id=tags[name].pk) for name in sorted(names)]
    through.objects.bulk_create(links, batch_size=1000)


def _history_through_services(users: dict[str, User], customers: list[Customer], tags: dict[str, Tag]) -> None:
    """A few edits and one handover through the real services, so the history tab
    shows real diffs by real people."""
    from customers import services

    def first(username: str, skip: int = 0) -> Customer:
        owned = [c for c in customers if c.owner_id == users[username].pk]
        return owned[skip]

    edits = [
        ("clerk", first("east_rep1"), {"annual_sales": Decimal("1850000"), "staff": 18}, "年度回访核实"),
        ("east_rep1", first("east_rep1", 1), {"phone": "13905391234", "address": "临沂市兰山区工业大道88号"}, ""),
        ("east_manager", first("east_rep2"), {"cooperation_attitude": Level.HIGH}, "季度客户评审"),
        ("north_rep1", first("north_rep1"), {"status": Customer.Status.DORMANT}, "连续三个月未进货"),
        ("clerk", first("north_rep2"), {"main_products": "猪用疫苗、消毒剂、中兽药"}, "档案核对"),
    ]
    for username, customer, data, reason in edits:
        services.customer_update(
            actor=users[username], customer_id=customer.pk, data=data, expected_version=None, reason=reason
        )
    tagged = first("east_rep2", 1)
    current = list(tagged.tags.all())
    services.customer_update(
        actor=users["east_rep2"],
        customer_id=tagged.pk,
        data={},
        expected_version=None,
        tags=[*current, next(tag for tag in tags.values() if tag not in current)],
    )
    services.customer_handover(
        actor=users["east_manager"],
        to_user=users["east_rep1"],
        reason="业务员片区调整",
        customer_ids=[first("east_rep3", i).pk for i in range(3)],
    )


def login_table() -> list[tuple[str, str, str, str, str]]:
    """(username, password, role, team, name) of each demo user, for printing."""
    roles = dict(User.Role.choices)
    return [
        (u.username, PASSWORD, str(roles[u.role]), u.team or "-", f"{u.last_name}{u.first_name}") for u in DEMO_USERS
    ]
