"""The spreadsheets the import benchmark reads: 100,000 customers with their main
contact, as a Chinese distributor's old system or a clerk's Excel would give them.

The same rows are written three times: a GBK CSV and an xlsx with Chinese headers, a
title row above the header, an unmapped remarks column and the usual quirks (no
customer code on some rows that have a credit code, so new codes are drawn for them;
short and full province names, 2019年5月7日 and 20190507 dates, amounts in 万元 with
thousands separators, 12人 and 3辆, mobiles with spaces, +86, full-width digits or a
landline after a slash, lower-case credit codes, type and status aliases, reps by
full name or user name, a few rows Excel or a clerk broke); and a UTF-8 CSV with the
model's own column names and stored values for django-import-export's default
ModelResource.

Rows come from crm.demo.ArchiveMaker with a fixed seed, so each run reads the same
files; they are written once into .data/bench/ and kept (FILES_VERSION names them).
"""

import csv
import datetime
import random
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from crm.demo import CITIES, ArchiveMaker
from customers.models import Contact, Customer
from customers.validators import PROVINCE_NAMES

ROWS = 100_000
SEED = 424_242
FILES_VERSION = 2
CODE_PREFIX = "ZD"
TITLE = "客户档案导出（旧系统） 2024-06-01"
HEADER = [
    "客户编码", "客户名称", "客户类型", "行业", "省份", "城市", "详细地址", "统一社会信用代码", "客户手机",
    "业务员", "合作日期", "账期（天）", "状态", "年销售额（万元）", "流动资金（万元）", "下游客户数", "覆盖区域",
    "主营产品", "热销品牌数", "仓库面积（平米）", "车辆", "员工数", "老板姓名", "老板手机", "联系人",
    "联系电话", "联系人角色", "微信", "邮箱", "备注",
]  # fmt: skip
# What django-import-export's default resource is given: the model's own columns.
MODEL_HEADER = [
    "code", "name", "type", "industry", "province", "city", "address", "credit_code", "phone", "owner",
    "cooperation_start", "payment_term_days", "status", "annual_sales", "working_capital", "downstream_customers",
    "coverage_area", "main_products", "hot_brand_count", "warehouse_area", "vehicles", "staff", "boss_name",
    "boss_phone",
]  # fmt: skip
T = Customer.Type
TYPE_WORDS = {
    T.DEALER: ["经销商", "经销商", "兽药店", "代理商", "批发商"],
    T.SUB_DEALER: ["二级商", "二批", "分销商"],
    T.FARM: ["养殖场", "养殖场", "规模养殖场", "家庭农场", "合作社"],
    T.CLINIC: ["诊所", "动物诊所", "宠物医院"],
    T.STORE: ["门店", "零售店", "手机店"],
    T.CHAIN: ["连锁", "连锁店"],
}
STATUS_WORDS = {
    "active": ["合作中", "正常"],
    "prospect": ["潜在客户", "意向"],
    "dormant": ["休眠"],
    "suspended": ["暂停"],
}
ROLE_WORDS = {
    Contact.Role.BOSS: ["老板", "店主", "法人"],
    Contact.Role.PURCHASER: ["采购", "采购员"],
    Contact.Role.FINANCE: ["财务", "会计"],
    Contact.Role.TECHNICIAN: ["技术员", "兽医"],
    Contact.Role.OTHER: ["其他"],
}
REMARKS = ["", "", "", "老客户", "年底对账", "需回访", "款到发货", "春节前备货", "已转新业务员"]
_FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def directory() -> Path:
    return Path(settings.BASE_DIR) / ".data" / "bench" / f"imports-v{FILES_VERSION}"


def paths() -> dict[str, Path]:
    folder = directory()
    return {
        "csv": folder / "customers-gbk.csv",
        "xlsx": folder / "customers.xlsx",
        "model_csv": folder / "customers-model-columns.csv",
    }


def ensure(reps: list[tuple[int, str, str]], out) -> dict[str, Path]:
    """The three files, written when missing. `reps`: (user id, user name, full name)."""
    files = paths()
    if all(path.exists() for path in files.values()):
        return files
    directory().mkdir(parents=True, exist_ok=True)
    out.write(f"imports: writing the {ROWS:,}-row files into {directory()} (once)...\n")
    quirky, plain = _rows(reps)
    _write_csv(files["csv"], [[TITLE], [], HEADER, *(_as_text(row) for row in quirky)], "gb18030")
    _write_csv(files["model_csv"], [MODEL_HEADER, *plain], "utf-8")
    _write_xlsx(files["xlsx"], quirky)
    return files


def _write_csv(path: Path, rows, encoding: str) -> None:
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    partial.rename(path)


def _write_xlsx(path: Path, rows) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户档案")
    sheet.append([TITLE])
    sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(["" if cell is None else cell for cell in row])
    partial = path.with_suffix(".partial")
    workbook.save(partial)
    partial.rename(path)


def _as_text(row: list) -> list[str]:
    """A row as CSV text: what Excel shows for a number or a date cell."""
    result = []
    for cell in row:
        if cell is None:
            result.append("")
        elif isinstance(cell, datetime.date):
            result.append(f"{cell.year}/{cell.month}/{cell.day}")
        elif isinstance(cell, float):
            result.append(f"{cell:g}" if cell < 1e6 else f"{cell:,.1f}")
        else:
            result.append(str(cell))
    return result


def _rows(reps: list[tuple[int, str, str]]) -> tuple[list[list], list[list]]:
    """(rows with Chinese quirks, for our import; the same customers as stored values,
    for django-import-export)."""
    rng = random.Random(SEED)
    maker = ArchiveMaker(SEED, datetime.date(2024, 6, 1))
    provinces = list(CITIES)
    quirky, plain = [], []
    for index in range(ROWS):
        rep_id, username, full_name = rng.choice(reps)
        code = f"{CODE_PREFIX}{index + 1:07d}"
        row = maker.customer(province=rng.choice(provinces), owner_id=rep_id, code=code)
        contact = maker.contacts(row, count=1)[0]
        plain.append(_plain(row, rep_id))
        quirky.append(_quirky(rng, row, contact, code, username if rng.random() < 0.05 else full_name))
    return quirky, plain


def _plain(row: dict, rep_id: int) -> list:
    values = {**row, "owner": rep_id, "payment_term_days": 30}
    return ["" if values.get(name) is None else values.get(name) for name in MODEL_HEADER]


def _mobile(rng: random.Random, number: str, *, landline: bool = True):
    """A mobile as people type it; an int sometimes (an xlsx number cell)."""
    if not number:
        return None
    roll = rng.random()
    if roll < 0.3:
        return int(number)
    if roll < 0.75:
        return number
    if roll < 0.85:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if roll < 0.9:
        return f"+86-{number[:3]}-{number[3:7]}-{number[7:]}"
    if roll < 0.95:
        return number.translate(_FULLWIDTH_DIGITS)
    if landline:
        return f"{number}/0{rng.randint(10, 999)}-{rng.randint(2000000, 89999999)}"
    return number


def _wan(amount: Decimal | None):
    """An amount in 万元 as a number cell (120.5), or as text with a separator."""
    if amount is None:
        return None
    wan = float(amount / 10000)
    return wan if wan < 1000 else f"{wan:,.1f}"


def _quirky(rng: random.Random, row: dict, contact: dict, code: str, owner: str) -> list:
    province_name = PROVINCE_NAMES[row["province"]]
    province = rng.choices([province_name, province_name.rstrip("省市"), row["province"]], weights=[60, 35, 5])[0]
    credit = row["credit_code"]
    if credit and rng.random() < 0.03:
        credit = credit.lower()
    elif credit and rng.random() < 0.002:
        # A typo: the check character no longer matches.
        credit = credit[:-1] + ("0" if credit[-1] != "0" else "1")
    since = row["cooperation_start"]
    if since is not None:
        since = rng.choices(
            [since, f"{since.year}-{since.month:02d}-{since.day:02d}", f"{since.year}年{since.month}月{since.day}日",
             since.strftime("%Y%m%d"), f"{since.year}.{since.month}.{since.day}"],
            weights=[60, 15, 15, 5, 5],
        )[0]  # fmt: skip
    contact_mobile = _mobile(rng, contact["mobile"])
    if rng.random() < 0.001:
        contact_mobile = f"{int(contact['mobile']):.2E}"  # Excel destroyed it: 1.38E+10
    city = row["city"] if rng.random() < 0.999 else ""
    return [
        # No code on some rows with a credit code (new codes are drawn for them); never
        # on a row without one, which would be matched on name and city, perhaps
        # against another benchmark's customers.
        rng.choices([code, f" {code.lower()} ", None], weights=[80, 5, 15 if credit else 0])[0],
        row["name"] if rng.random() < 0.98 else f"{row['name']}  ",
        rng.choice(TYPE_WORDS[row["type"]]),
        "手机" if row["industry"] == Customer.Industry.HANDSETS else rng.choice(["兽药", "兽药", "动保"]),
        province,
        city if rng.random() < 0.8 or not city else f"{city}市",
        row["address"] or None,
        credit,
        _mobile(rng, row["phone"]),
        owner,
        since,
        rng.choice([30, 30, 30, 60, "45天", None]),
        rng.choice(STATUS_WORDS[row["status"]]),
        _wan(row["annual_sales"]),
        _wan(row["working_capital"]),
        row["downstream_customers"],
        row["coverage_area"] or None,
        row["main_products"] or None,
        row["hot_brand_count"],
        _unit(rng, row["warehouse_area"], "平米"),
        _unit(rng, row["vehicles"], "辆"),
        _unit(rng, row["staff"], "人"),
        row["boss_name"] or None,
        _mobile(rng, row["boss_phone"], landline=False),
        contact["name"],
        contact_mobile,
        rng.choice(ROLE_WORDS[contact["role"]]),
        contact["wechat"] or None,
        contact["email"] or None,
        rng.choice(REMARKS) or None,
    ]


def _unit(rng: random.Random, value, unit: str):
    if value is None:
        return None
    return f"{value}{unit}" if rng.random() < 0.3 else value
