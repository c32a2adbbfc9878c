"""The trade's hard facts as normalisers and validators: unified social credit codes
(GB 32100-2015), mainland mobile numbers, and the 34 provincial divisions (GB/T 2260).

Normalisers turn what a clerk types (full-width digits, spaces, dashes, +86, short
province names) into the stored form; validators raise ValidationError with a message
that says what is wrong. Forms, serializers and the importer all use these.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# -- Provinces ------------------------------------------------------------------------

PROVINCES = [
    ("11", "北京市"), ("12", "天津市"), ("13", "河北省"), ("14", "山西省"), ("15", "内蒙古自治区"),
    ("21", "辽宁省"), ("22", "吉林省"), ("23", "黑龙江省"), ("31", "上海市"), ("32", "江苏省"),
    ("33", "浙江省"), ("34", "安徽省"), ("35", "福建省"), ("36", "江西省"), ("37", "山东省"),
    ("41", "河南省"), ("42", "湖北省"), ("43", "湖南省"), ("44", "广东省"),
    ("45", "广西壮族自治区"), ("46", "海南省"), ("50", "重庆市"), ("51", "四川省"),
    ("52", "贵州省"), ("53", "云南省"), ("54", "西藏自治区"), ("61", "陕西省"), ("62", "甘肃省"),
    ("63", "青海省"), ("64", "宁夏回族自治区"), ("65", "新疆维吾尔自治区"), ("71", "台湾省"),
    ("81", "香港特别行政区"), ("82", "澳门特别行政区"),
]  # fmt: skip
PROVINCE_NAMES = dict(PROVINCES)
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


_PROVINCE_LOOKUP = {}
for _code, _name in PROVINCES:
    _PROVINCE_LOOKUP[_code] = _code
    _PROVINCE_LOOKUP[_name] = _code
    _PROVINCE_LOOKUP[_short(_name)] = _code


def normalize_province(value: str) -> str | None:
    """The two-digit division code for a code, full name or short name (山东, 内蒙古)."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip().replace(" ", "")
    return _PROVINCE_LOOKUP.get(text) or _PROVINCE_LOOKUP.get(_short(text))


def validate_province(value: str) -> None:
    if value not in PROVINCE_NAMES:
        raise ValidationError(
            _("“%(value)s” is not one of the 34 provincial divisions."),
            code="invalid_province",
            params={"value": value},
        )


# -- Unified social credit code (GB 32100-2015) -----------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def normalize_credit_code(value: str) -> str:
    """Strip, upper-case and fold full-width characters (NFKC)."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return re.sub(r"\s+", "", text).upper()


_USCC_VALUES = {ch: value for value, ch in enumerate(USCC_CHARSET)}


def credit_code_check_char(first17: str) -> str:
    # A dict and map(): an import checks 100,000 codes at a time.
    total = sum(map(int.__mul__, map(_USCC_VALUES.__getitem__, first17), USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    if len(value) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(count)d."),
            code="credit_code_length",
            params={"count": len(value)},
        )
    if not USCC_PATTERN.match(value):
        raise ValidationError(
            _("The credit code contains characters that are not allowed (I, O, S, V and Z are never used)."),
            code="credit_code_chars",
        )
    expected = credit_code_check_char(value[:17])
    if value[17] != expected:
        raise ValidationError(
            _(
                "The check character of this credit code is wrong (the last character should be %(expected)s); please check for a typing error."
            ),
            code="credit_code_check",
            params={"expected": expected},
        )


# -- Mobile numbers -------------------------------------------------------------------

MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
SCIENTIFIC_PATTERN = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


def normalize_mobile(value: str) -> str:
    """Fold full-width digits, drop spaces, dashes and dots, strip +86 / 86 / 0086."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    text = re.sub(r"[\s\-.()（）]", "", text)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if len(text) == 13 and text.startswith("86"):
        text = text[2:]
    return text


def validate_mobile(value: str) -> None:
    if SCIENTIFIC_PATTERN.match(value):
        raise ValidationError(
            _("This number was destroyed by Excel (shown as %(value)s); enter all 11 digits."),
            code="mobile_scientific",
            params={"value": value},
        )
    if not MOBILE_PATTERN.match(value):
        raise ValidationError(
            _("Enter an 11-digit mainland mobile number starting with 13–19 (got “%(value)s”)."),
            code="mobile_invalid",
            params={"value": value},
        )
