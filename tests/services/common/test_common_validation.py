"""common.validation field checks (the HTTP-level cases are tested through the gateway)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from common import validation
from common.errors import ApiError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, Decimal("0.00")),
        (Decimal("9.99"), Decimal("9.99")),
        ("12.5", Decimal("12.50")),
        (Decimal("1E+2"), 100),
    ],
)
def test_price_accepts_numbers_and_numeric_strings(value, expected) -> None:
    assert validation.price()(value) == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("abc", "non-negative number"),
        (Decimal("-1"), "must not be negative"),
        ("-1", "non-negative number"),
        (Decimal("1.999"), "at most 2 decimals"),
        ("1.999", "non-negative number"),
        (" 9.99", "non-negative number"),
        ("9.99 ", "non-negative number"),
        ("9.99\n", "non-negative number"),
        (Decimal("100000000"), "at most 99999999.99"),
        (True, "must be a number"),
        (None, "must be a number"),
        ([1], "must be a number"),
        (Decimal("NaN"), "finite"),
        (Decimal("Infinity"), "finite"),
    ],
)
def test_price_rejects(value, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        validation.price()(value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (True, "integer"),
        (False, "integer"),
        (1.0, "integer"),  # JSON never decodes to float (json_object): not a JSON value
        ("1", "integer"),
        (Decimal("2.5"), "integer"),
        (Decimal("NaN"), "integer"),
        (Decimal("1e999999999"), "between"),
        (0, "between"),
        (-1, "between"),
        (2**31, "between"),
    ],
)
def test_positive_int_rejects(value, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        validation.positive_int()(value)


@pytest.mark.parametrize(("value", "expected"), [(7, 7), (Decimal("2.0"), 2), (Decimal("1E+1"), 10)])
def test_positive_int_accepts_integral_numbers(value, expected: int) -> None:
    cleaned = validation.positive_int()(value)
    assert cleaned == expected and type(cleaned) is int


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (123, "string"),
        ("", "empty"),
        ("   \t", "empty"),
        ("\u3000\xa0", "empty"),
        ("x" * 6, "at most 5"),
        (" xxxx ", "at most 5"),  # counted as sent, as the spec's maxLength counts
        ("a\x00b", "control"),
        ("ab\x0b", "control"),  # at the end too, where strip() would have removed it
        ("a\x85", "control"),
        ("\ud800", "valid Unicode"),
    ],
)
def test_text_rejects(value, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        validation.text(5)(value)


def test_text_strips() -> None:
    assert validation.text(6)("  ab  ") == "ab"
    assert validation.text(6)("a\tb\r\n") == "a\tb"


@pytest.mark.parametrize(
    "value", ["a", " a ", "a\tb", "\ufeff", "Amélie", "x" * 5, "\x00", " ", "\x85", "a\x7f", "\u2003"]
)
def test_text_pattern_and_text_agree(value: str) -> None:
    """TEXT_PATTERN (the spec's Text pattern; maxLength checks the length) holds exactly for
    what text() accepts."""
    try:
        validation.text(200)(value)
        accepted = True
    except ValueError:
        accepted = False
    assert bool(re.fullmatch(validation.TEXT_PATTERN, value)) == accepted


@pytest.mark.parametrize(
    "raw", ["abc", "0", "-1", "2147483648", "1.5", "1.", ".0", " 1", "+1", "99999999999999999999", "1\n"]
)
def test_path_id_rejects(raw: str) -> None:
    with pytest.raises(ApiError) as caught:
        validation.path_id(raw)
    assert caught.value.status == 400


@pytest.mark.parametrize(("raw", "expected"), [("7", 7), ("7.0", 7), ("2147483647.00", 2147483647)])
def test_url_integers_may_have_a_zero_fraction(raw: str, expected: int) -> None:
    assert validation.path_id(raw) == expected
    assert validation.query_int({"n": raw}, "n", 1, 0, validation.MAX_INT32) == expected


@pytest.mark.parametrize(
    "args",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"offset": "-1"}, {"offset": "1e3"}, {"limit": ""}],
)
def test_pagination_rejects(args) -> None:
    with pytest.raises(ApiError) as caught:
        validation.pagination(args)
    assert caught.value.status == 400


def test_validate_names_missing_unknown_and_wrong_fields() -> None:
    fields = {"title": validation.text(10), "year": validation.positive_int()}
    with pytest.raises(ApiError, match="missing field"):
        validation.validate({"title": "x"}, fields)
    with pytest.raises(ApiError, match="unknown field"):
        validation.validate({"title": "x", "year": 1, "extra": 1}, fields)
    with pytest.raises(ApiError, match="^year: must be an integer$"):
        validation.validate({"title": "x", "year": "1999"}, fields)
    assert validation.validate({"title": " x "}, fields, required=["title"]) == {"title": "x"}
