import pytest
from django.core.exceptions import ValidationError

from customers.validators import (
    credit_code_check_char,
    normalize_credit_code,
    normalize_mobile,
    normalize_province,
    validate_credit_code,
    validate_mobile,
)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108551385082Q"])
def test_valid_credit_codes_from_the_standard_pass(code):
    validate_credit_code(code)


def test_check_character_of_the_standards_worked_example():
    assert credit_code_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    "code, message_part",
    [
        ("91310115MA1H8R7C6D", "18"),  # the widely copied blog example: 18 chars but wrong check
        ("9135010", "18"),
        ("91350100M000100Y4I", "not allowed"),
    ],
)
def test_invalid_credit_codes_are_refused_with_a_reason(code, message_part):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.messages


def test_blog_example_fails_on_the_check_character():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91310115MA1H8R7C6D")
    assert exc.value.code == "credit_code_check"


def test_credit_code_is_normalised_from_full_width_and_lower_case():
    assert normalize_credit_code(" ９１３５０１００m０００１００y４３ ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "138-1234-5678",
        "１３８１２３４５６７８",
        "0086 13812345678",
        "8613812345678",
    ],
)
def test_mobile_normalisation(raw):
    assert normalize_mobile(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["1381234567", "12812345678", "1.38E+10", "021-12345678"])
def test_invalid_mobiles_are_refused(raw):
    with pytest.raises(ValidationError):
        validate_mobile(normalize_mobile(raw))


def test_excel_destroyed_number_is_named_as_such():
    with pytest.raises(ValidationError) as exc:
        validate_mobile("1.38E+10")
    assert exc.value.code == "mobile_scientific"


@pytest.mark.parametrize(
    "raw, code",
    [("山东", "37"), ("山东省", "37"), ("内蒙古", "15"), ("广西", "45"), ("新疆", "65"), ("香港", "81"), ("11", "11")],
)
def test_province_short_names_map_to_the_division_code(raw, code):
    assert normalize_province(raw) == code


def test_unknown_province_is_none():
    assert normalize_province("火星") is None
