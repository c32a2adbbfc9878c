"""Cell cleaners: what a clerk does to a spreadsheet cell before typing it in.

Each cleaner takes the raw cell (a str from a CSV, or a str, int, float, bool, date or
datetime from an xlsx) and returns the stored value, or raises `CellError` with a
message saying what is wrong. `CellError.destroyed` marks a value Excel has already
ruined (a mobile shown as 1.38E+10): it is never guessed back; the import's policy
rejects the row or stores it without that field.

Empty cells never reach a cleaner: the engine skips them (an empty cell leaves the
stored value as it is).
"""

import datetime
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from crm.exports import FORMULA_PREFIXES
from customers.validators import (
    MOBILE_PATTERN,
    normalize_credit_code,
    normalize_mobile,
    normalize_province,
    validate_credit_code,
)

ERR_TOO_LONG = _("Longer than %(max)d characters.")
ERR_NOT_A_NUMBER = _("Not a number.")
ERR_NOT_WHOLE = _("Not a whole number.")
ERR_NEGATIVE = _("Must not be negative.")
ERR_TOO_LARGE = _("The number is too large.")
ERR_NOT_A_DATE = _("Not a date (write 2023-05-07, 2023/5/7 or 2023年5月7日).")
ERR_DATE_RANGE = _("The date is out of range.")
ERR_DESTROYED = _(
    "Excel has turned this value into a rounded number (%(value)s); the digits are lost. "
    "Format the column as text and enter the value again."
)
ERR_NOT_MOBILE = _("Not an 11-digit mainland mobile number.")
ERR_NOT_PHONE = _("Not a phone number.")
ERR_PROVINCE = _("Not one of the 34 provincial divisions.")
ERR_CHOICE = _("Not one of: %(choices)s.")
ERR_BOOL = _("Write 是 or 否 (yes or no).")
ERR_EMAIL = _("Not an e-mail address.")


class CellError(Exception):
    def __init__(self, message, *, destroyed: bool = False):
        super().__init__(str(message))
        self.message = message
        self.destroyed = destroyed


# Full-width ASCII (Ａ-Ｚ, ０-９, ...) and the ideographic space, folded as a clerk
# would; Chinese punctuation such as （） stays, it belongs in company names.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_FULLWIDTH[0xA0] = 0x20
for _invisible in (0x200B, 0x200C, 0x200D, 0xFEFF):
    _FULLWIDTH[_invisible] = None
_KEEP_FULLWIDTH = "（），：；！？"
for _char in _KEEP_FULLWIDTH:
    _FULLWIDTH.pop(ord(_char), None)
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_SPACES = re.compile(r"\s+")
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)


_NEEDS_FOLDING = re.compile("[" + "".join(chr(code) for code in _FULLWIDTH) + "]")


def as_text(value) -> str:
    """A cell as text: xlsx numbers without a trailing ".0", dates as ISO."""
    if type(value) is str:
        if value[:1] == "'" and value[1:2] in _FORMULA_STARTS:
            # Our exports (the rejected rows too) write such text as '=..., so Excel
            # shows it as text; coming back, it is the text without the guard.
            value = value[1:]
        if value.isascii() or not _NEEDS_FOLDING.search(value):
            return value.strip()
        return value.translate(_FULLWIDTH).strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def text(max_length: int | None = None, *, single_line: bool = False):
    """Free text: full-width letters and digits folded, surrounding spaces dropped;
    line breaks inside the cell are kept unless `single_line`."""

    def clean(value, header=""):
        result = as_text(value)
        if single_line and ("\n" in result or "\r" in result):
            result = _SPACES.sub(" ", result)
        if max_length is not None and len(result) > max_length:
            raise CellError(ERR_TOO_LONG % {"max": max_length})
        return result

    return clean


def code(max_length: int):
    """An identifier (customer code, order number): folded, no spaces, upper case."""

    def clean(value, header=""):
        if isinstance(value, float) and not value.is_integer():
            raise CellError(ERR_DESTROYED % {"value": value}, destroyed=True)
        result = as_text(value)
        if _SCIENTIFIC.match(result):
            raise CellError(ERR_DESTROYED % {"value": result}, destroyed=True)
        result = result.replace(" ", "").upper()
        if len(result) > max_length:
            raise CellError(ERR_TOO_LONG % {"max": max_length})
        return result

    return clean


# -- Numbers ---------------------------------------------------------------------------

_NUMBER_NOISE = str.maketrans({",": None, "，": None, " ": None, "¥": None, "￥": None, "\u3000": None})
_UNIT_SUFFIX = re.compile(r"^([+-]?[\d.]+)\s*([^\d.]*)$")
TEN_THOUSAND = Decimal(10000)


def header_scale(header: str) -> Decimal | None:
    """10,000 when the header says the column is in 万 (年销售额（万元）)."""
    return TEN_THOUSAND if "万" in (header or "") else None


def _decimal(value, header: str) -> Decimal:
    if isinstance(value, bool):
        raise CellError(ERR_NOT_A_NUMBER)
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        textual = unicodedata.normalize("NFKC", str(value)).translate(_NUMBER_NOISE)
        if _SCIENTIFIC.match(textual):
            raise CellError(ERR_DESTROYED % {"value": value}, destroyed=True)
        scale = Decimal(1)
        match = _UNIT_SUFFIX.match(textual)
        if match is None:
            raise CellError(ERR_NOT_A_NUMBER)
        textual, unit = match.groups()
        if unit.startswith("万"):
            scale = TEN_THOUSAND
        elif unit and unit not in ("元", "rmb", "RMB", "CNY", "%") and not unit.isalpha():
            raise CellError(ERR_NOT_A_NUMBER)
        try:
            number = Decimal(textual) * scale
        except InvalidOperation:
            raise CellError(ERR_NOT_A_NUMBER) from None
        if scale != 1:
            return number
    scale = header_scale(header)
    return number * scale if scale else number


def decimal(*, max_digits: int = 14, places: int = 2, minimum: Decimal | None = Decimal(0)):
    """A Decimal: thousands separators, ¥, 元, full-width digits and 万 (in the cell or
    in the header) understood; rounded half-up to `places`."""
    quantum = Decimal(1).scaleb(-places)
    limit = Decimal(10) ** (max_digits - places)

    def clean(value, header=""):
        number = _decimal(value, header).quantize(quantum, rounding=ROUND_HALF_UP)
        if minimum is not None and number < minimum:
            raise CellError(ERR_NEGATIVE)
        if abs(number) >= limit:
            raise CellError(ERR_TOO_LARGE)
        return number

    return clean


def integer(*, minimum: int | None = 0, maximum: int = 2_147_483_647):
    """A whole number; a unit after it (12人, 3辆) is dropped."""

    def clean(value, header=""):
        number = _decimal(value, header)
        if number != number.to_integral_value():
            raise CellError(ERR_NOT_WHOLE)
        result = int(number)
        if minimum is not None and result < minimum:
            raise CellError(ERR_NEGATIVE)
        if result > maximum:
            raise CellError(ERR_TOO_LARGE)
        return result

    return clean


# -- Dates -----------------------------------------------------------------------------

EXCEL_EPOCH = datetime.date(1899, 12, 30)
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_OPEN_ENDED = {"长期", "永久", "长期有效", "无期限", "long-term", "longterm", "permanent"}


def _from_serial(number: float) -> datetime.date:
    # The 1900 date system (Windows Excel): 45053 = 2023-05-07. Serials below 61
    # include Excel's phantom 1900-02-29 and are not business dates anyway.
    if not 61 <= number < 2958466:
        raise CellError(ERR_DATE_RANGE)
    return EXCEL_EPOCH + datetime.timedelta(days=int(number))


def date(*, open_ended: bool = False):
    """A date from an xlsx date, an Excel serial, 2023-05-07, 2023/5/7, 2023.5.7,
    20230507 or 2023年5月7日. With `open_ended`, 长期 means no date (None)."""

    def clean(value, header=""):
        if isinstance(value, datetime.datetime):
            result = value.date()
        elif isinstance(value, datetime.date):
            result = value
        elif isinstance(value, bool):
            raise CellError(ERR_NOT_A_DATE)
        elif isinstance(value, (int, float)):
            result = _from_serial(value)
        else:
            textual = unicodedata.normalize("NFKC", str(value)).strip()
            if open_ended and textual.lower().replace(" ", "") in _OPEN_ENDED:
                return None
            match = _DATE.match(textual)
            if match:
                try:
                    result = datetime.date(*(int(part) for part in match.groups()))
                except ValueError:
                    raise CellError(ERR_NOT_A_DATE) from None
            elif textual.isdigit() and len(textual) == 8:
                try:
                    result = datetime.date(int(textual[:4]), int(textual[4:6]), int(textual[6:]))
                except ValueError:
                    raise CellError(ERR_NOT_A_DATE) from None
            elif textual.replace(".", "", 1).isdigit() and len(textual.split(".")[0]) <= 5:
                result = _from_serial(float(textual))
            else:
                raise CellError(ERR_NOT_A_DATE)
        if not 1900 <= result.year <= 2200:
            raise CellError(ERR_DATE_RANGE)
        return result

    return clean


# -- Phones, codes, provinces ----------------------------------------------------------

_SEPARATORS = re.compile(r"[/、，,;；|]+")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def _number_text(value) -> str:
    if isinstance(value, bool):
        raise CellError(ERR_NOT_PHONE)
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(ERR_DESTROYED % {"value": value}, destroyed=True)
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    textual = unicodedata.normalize("NFKC", str(value)).strip()
    if _SCIENTIFIC.match(textual.replace(" ", "")):
        raise CellError(ERR_DESTROYED % {"value": textual}, destroyed=True)
    return textual


def _landline(part: str) -> str | None:
    folded = re.sub(r"[\s.()（）]", "", part)
    if folded.startswith("+86"):
        folded = folded[3:]
    return folded if LANDLINE.match(folded) else None


def _plain_mobile(value) -> str | None:
    """The mobile when the cell is just one, as text or as an xlsx number (most cells
    are): no cleaning needed; else None."""
    if type(value) is float and value.is_integer() and 1e10 <= value < 2e10:
        value = str(int(value))
    elif type(value) is int and 10**10 <= value < 2 * 10**10:
        value = str(value)
    if type(value) is str and len(value) == 11 and value.isascii() and MOBILE_PATTERN.match(value):
        return value
    return None


def phones(value, header="") -> tuple[str, str]:
    """(mobile, other numbers) from a cell holding one or two numbers: 138 1234 5678,
    +86-138-1234-5678, 13812345678/0531-88886666, 13812345678、13912345678. The first
    mobile is the mobile; whatever else the cell holds is kept as other numbers."""
    plain = _plain_mobile(value)
    if plain is not None:
        return plain, ""
    textual = _number_text(value)
    parts = [p.strip() for p in _SEPARATORS.split(textual) if p.strip()]
    mobile, others = "", []
    for part in parts:
        candidate = normalize_mobile(part)
        if not mobile and MOBILE_PATTERN.match(candidate):
            mobile = candidate
            continue
        landline = _landline(part)
        if landline is None and not MOBILE_PATTERN.match(candidate):
            raise CellError(ERR_NOT_PHONE)
        others.append(landline or candidate)
    return mobile, "/".join(others)


def mobile(value, header="") -> str:
    """One mainland mobile number, normalised (NFKC, no spaces or dashes, no +86)."""
    plain = _plain_mobile(value)
    if plain is not None:
        return plain
    result = normalize_mobile(_number_text(value))
    if not MOBILE_PATTERN.match(result):
        raise CellError(ERR_NOT_MOBILE)
    return result


def credit_code(value, header="") -> str:
    """A unified social credit code with a correct check character. An all-digit code
    typed as a number has lost its last digits to Excel's 15 significant digits."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise CellError(ERR_DESTROYED % {"value": f"{value:.6g}"}, destroyed=True)
    # ASCII letters and digits only (most cells): normalising is upper-casing.
    result = (
        value.upper() if type(value) is str and value.isascii() and value.isalnum() else normalize_credit_code(value)
    )
    if _SCIENTIFIC.match(result):
        raise CellError(ERR_DESTROYED % {"value": result}, destroyed=True)
    try:
        validate_credit_code(result)
    except ValidationError as error:
        raise CellError(error.messages[0]) from None
    return result


def province(value, header="") -> str:
    """The two-digit division code from a code, a full or a short name (山东, 内蒙古)."""
    result = normalize_province(as_text(value))
    if result is None:
        raise CellError(ERR_PROVINCE)
    return result


def email(value, header="") -> str:
    result = as_text(value)
    try:
        validate_email(result)
    except ValidationError:
        raise CellError(ERR_EMAIL) from None
    return result


# -- Choices and yes/no ----------------------------------------------------------------


def fold(label) -> str:
    """The form labels and headers are compared in: NFKC, lower case, no spaces."""
    return unicodedata.normalize("NFKC", str(label)).lower().replace(" ", "").replace("_", "")


def choice(choices, aliases: dict[str, str] | None = None):
    """A TextChoices value from its value, its English or Chinese label, or an alias."""
    from django.utils import translation

    def build():
        lookup = {}
        for value, label in choices:
            lookup[fold(value)] = value
            for language in ("en", "zh-hans"):
                with translation.override(language):
                    lookup[fold(str(label))] = value
        for alias, value in (aliases or {}).items():
            lookup[fold(alias)] = value
        return lookup

    cache = {}

    def clean(value, header=""):
        if not cache:
            cache.update(build())
        result = cache.get(fold(as_text(value)))
        if result is None:
            labels = "、".join(str(label) for _value, label in choices)
            raise CellError(ERR_CHOICE % {"choices": labels})
        return result

    return clean


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "有", "对", "t"}
_FALSE = {"否", "n", "no", "false", "0", "×", "无", "不", "不是", "f", "-"}


def boolean(value, header="") -> bool:
    if isinstance(value, bool):
        return value
    folded = fold(as_text(value))
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise CellError(ERR_BOOL)
