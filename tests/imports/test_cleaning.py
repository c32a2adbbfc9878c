"""Each cell quirk of a Chinese Excel sheet, cleaned as a clerk would clean it, and
each value Excel destroyed, refused rather than guessed."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from crm.imports import cleaning as c
from crm.imports.cleaning import CellError
from customers.models import Customer


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13812345678", ("13812345678", "")),
        ("138 1234 5678", ("13812345678", "")),
        ("138-1234-5678", ("13812345678", "")),
        ("+86 138 1234 5678", ("13812345678", "")),
        ("+86-13812345678", ("13812345678", "")),
        ("８６１３８１２３４５６７８", ("13812345678", "")),
        ("１３８１２３４５６７８ ", ("13812345678", "")),
        (13812345678.0, ("13812345678", "")),
        (13812345678, ("13812345678", "")),
        ("13812345678/13912345678", ("13812345678", "13912345678")),
        ("13812345678、0539-8888666", ("13812345678", "0539-8888666")),
        ("13812345678，13912345678", ("13812345678", "13912345678")),
        ("0531-88886666", ("", "0531-88886666")),
        ("0531-88886666/13812345678", ("13812345678", "0531-88886666")),
    ],
)
def test_phones_cleaned_as_a_clerk_would(raw, expected):
    assert c.phones(raw) == expected


@pytest.mark.parametrize("raw", ["1.38E+10", "1.38123E+10", "1.38e10", 1.3812345678e10 + 0.5])
def test_phone_destroyed_by_excel_is_never_guessed(raw):
    with pytest.raises(CellError) as error:
        c.phones(raw)
    assert error.value.destroyed


def test_not_a_phone():
    with pytest.raises(CellError) as error:
        c.phones("找老板")
    assert not error.value.destroyed
    with pytest.raises(CellError):
        c.mobile("12345")


def test_xlsx_number_never_becomes_dot_zero():
    assert c.mobile(13812345678.0) == "13812345678"
    assert c.as_text(13812345678.0) == "13812345678"
    assert c.code(20)(1001.0) == "1001"
    assert c.text(20)(42.0) == "42"


@pytest.mark.parametrize(
    "raw",
    ["91350100M000100Y43", " 91350100m000100y43 ", "９１３５０１００Ｍ０００１００Ｙ４３"],
)
def test_credit_code_folded_and_checked(raw):
    assert c.credit_code(raw) == "91350100M000100Y43"


def test_credit_code_check_digit_reuses_the_model_validator():
    with translation.override("en"), pytest.raises(CellError) as error:
        c.credit_code("91310115MA1H8R7C6D")
    assert "check character" in error.value.message


@pytest.mark.parametrize("raw", [9.13701e17, 913701000000000000, "9.13701E+17"])
def test_credit_code_destroyed_by_excel(raw):
    with pytest.raises(CellError) as error:
        c.credit_code(raw)
    assert error.value.destroyed


@pytest.mark.parametrize(
    "raw, code",
    [("山东", "37"), ("山东省", "37"), ("内蒙古", "15"), ("内蒙古自治区", "15"), ("广西", "45"), ("新疆", "65"),
     ("香港", "81"), ("北京市", "11"), ("37", "37"), (" 宁夏 ", "64")],
)  # fmt: skip
def test_province_short_names(raw, code):
    assert c.province(raw) == code


def test_unknown_province():
    with pytest.raises(CellError):
        c.province("火星")


@pytest.mark.parametrize(
    "raw",
    [
        45053,
        45053.0,
        "45053",
        "2023/5/7",
        "2023-05-07",
        "2023-5-7",
        "2023.5.7",
        "2023年5月7日",
        "２０２３年５月７日",
        "20230507",
        "2023-05-07 00:00:00",
        datetime.datetime(2023, 5, 7, 0, 0),
        datetime.date(2023, 5, 7),
    ],
)
def test_dates(raw):
    assert c.date()(raw) == datetime.date(2023, 5, 7)


@pytest.mark.parametrize("raw", ["2023-13-01", "2023/2/30", "明年", "1", True])
def test_bad_dates(raw):
    with pytest.raises(CellError):
        c.date()(raw)


def test_open_ended_date():
    assert c.date(open_ended=True)("长期") is None
    with pytest.raises(CellError):
        c.date()("长期")


@pytest.mark.parametrize(
    "raw, header, expected",
    [
        ("1,234.50", "金额", Decimal("1234.50")),
        ("１，２３４．５", "金额", Decimal("1234.50")),
        ("¥1,234", "金额", Decimal("1234.00")),
        ("1234元", "金额", Decimal("1234.00")),
        ("12.5万", "年销售额", Decimal("125000.00")),
        ("12.5", "年销售额（万元）", Decimal("125000.00")),
        (12.5, "年销售额(万元)", Decimal("125000.00")),
        (1234.567, "金额", Decimal("1234.57")),
        (" 100 ", "金额", Decimal("100.00")),
    ],
)
def test_amounts(raw, header, expected):
    assert c.decimal()(raw, header) == expected


@pytest.mark.parametrize("raw", ["abc", "-5", "1.2E+11", True])
def test_bad_amounts(raw):
    with pytest.raises(CellError):
        c.decimal()(raw, "金额")


def test_integers_drop_a_unit():
    assert c.integer()("12人") == 12
    assert c.integer()(12.0) == 12
    with pytest.raises(CellError):
        c.integer()("12.5")


def test_text_folds_fullwidth_letters_keeps_chinese_punctuation():
    assert c.text(100)("  临沂ＡＢＣ（有限）公司\u3000 ") == "临沂ABC（有限）公司"
    assert c.text(100)("第一行\n第二行") == "第一行\n第二行"
    assert c.text(100, single_line=True)("第一行\n第二行") == "第一行 第二行"
    with pytest.raises(CellError):
        c.text(3)("四个字符")


def test_choices_by_value_label_and_alias(db):
    clean = c.choice(Customer.Type.choices, {"兽药店": "dealer"})
    assert clean("dealer") == "dealer"
    assert clean("Dealer") == "dealer"
    assert clean("兽药店") == "dealer"
    with pytest.raises(CellError):
        clean("火箭")


@pytest.mark.parametrize("raw, expected", [("是", True), ("否", False), ("Y", True), ("no", False), ("√", True)])
def test_booleans(raw, expected):
    assert c.boolean(raw) is expected


@pytest.mark.parametrize("original", ["=HYPERLINK(1)", "+86 138", "-2", "@SUM(A1)", "\tX", "\rY", "'quoted'", "'"])
def test_text_guarded_by_our_export_comes_back_as_it_was(original):
    from crm.exports import safe_text

    # The rejected-rows file and every export write formula-like text as '=...;
    # importing that file again must not keep the guard's apostrophe.
    assert c.text()(safe_text(original)) == original.strip()
