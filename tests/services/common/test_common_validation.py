"""common.validation field checks (the HTTP-level cases are tested through the gateway)."""

from __future__ import annotations

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
        (1.0, "integer"),
        ("1", "integer"),
        (0, "between"),
        (-1, "between"),
        (2**31, "between"),
    ],
)
def test_positive_int_rejects(value, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        validation.positive_int()(value)


@pytest.mark.parametrize(
    ("value", "why"),
    [(123, "string"), ("", "empty"), ("   \t", "empty"), ("x" * 6, "at most 5"), ("a\x00b", "control")],
)
def test_text_rejects(value, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        validation.text(5)(value)


def test_text_strips() -> None:
    assert validation.text(5)("  ab  ") == "ab"


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "2147483648", "1.0", " 1", "+1", "99999999999999999999"])
def test_path_id_rejects(raw: str) -> None:
    with pytest.raises(ApiError) as caught:
        validation.path_id(raw)
    assert caught.value.status == 400


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
