"""Input validation at the edge: every bad input becomes a 4xx ApiError naming the problem.

Field validators are callables `value -> cleaned value` raising ValueError("why"); `validate`
turns that into a 400 naming the field.

Prices: a JSON number or a numeric string ("9.99") is accepted and parsed exactly as Decimal
(JSON numbers are decoded as Decimal, never float), so 0.1 + 0.2 style drift cannot happen.

The gateway's spec (services/api-gateway/openapi.yaml) describes exactly what these accept, and
schemathesis holds the two equal (tests/services/api_gateway/test_gateway_schemathesis.py): text is
at most `max_len` characters as sent, surrounding whitespace included (`TEXT_PATTERN` is the
spec's `Text` pattern), an integer may be written `2.0` (JSON Schema's integer is any number
with no fraction), and a numeric price string has no surrounding spaces.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import request

from common.errors import ApiError

MAX_INT32 = 2**31 - 1
# List endpoints of every service page the same way (the gateway checks these at the edge).
DEFAULT_PAGE_LIMIT = 20
MAX_PAGE_LIMIT = 100
MAX_PRICE = Decimal("99999999.99")  # numeric(10,2)
_CENT = Decimal("0.01")
# An integer in a URL: digits, maybe with a zero fraction ("2.0"), as the spec's integer allows.
_URL_INT = re.compile(r"([0-9]{1,10})(?:\.0+)?")
# The spec's pattern for a price string. `(?!\n)$` is the end of the text in both regex dialects
# (Python's `$` alone also matches before a final newline, and hypothesis generates one).
PRICE_TEXT_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?(?!\n)$"
_PRICE_TEXT = re.compile(PRICE_TEXT_PATTERN)
# Control characters (NUL above all: PostgreSQL text cannot store it), C0 but tab, newline and
# carriage return, DEL, and C1, are never valid text.
_CONTROL_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# What str.strip() removes, less the control characters above. Spelled out, because `\s` means
# a different set in the spec's regex dialect (ECMA-262) than in Python's.
_BLANK_CHARS = r" \t\n\r\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
# Valid text: no control character, and at least one that is not blank.
TEXT_PATTERN = f"^[^{_CONTROL_CHARS}]*[^{_CONTROL_CHARS}{_BLANK_CHARS}][^{_CONTROL_CHARS}]*$"

Validator = Callable[[Any], Any]


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or 415/400."""
    if request.mimetype != "application/json":
        raise ApiError(415, "Content-Type must be application/json")
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not valid UTF-8") from None
    try:
        body = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


# --- field validators ------------------------------------------------------------------------


def text(max_len: int) -> Validator:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if len(value) > max_len:
            raise ValueError(f"must be at most {max_len} characters")
        if _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800": no UTF-8 for it
            raise ValueError("must be valid Unicode") from None
        cleaned = value.strip()
        if not cleaned:
            raise ValueError("must not be empty or only whitespace")
        return cleaned

    return check


def positive_int() -> Validator:
    def check(value: Any) -> int:
        # JSON numbers arrive as int or, with a fraction or exponent, as Decimal (json_object).
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ValueError("must be an integer")
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError("must be an integer")
        if not 1 <= value <= MAX_INT32:  # before the next test: 1e999999999 stays cheap
            raise ValueError(f"must be between 1 and {MAX_INT32}")
        if value != int(value):
            raise ValueError("must be an integer")
        return int(value)

    return check


def price() -> Validator:
    def check(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise ValueError("must be a number or a numeric string")
        if isinstance(value, str) and not _PRICE_TEXT.fullmatch(value):
            raise ValueError("must be a non-negative number with at most 2 decimals")
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not amount.is_finite():
            raise ValueError("must be a finite number")
        if amount < 0:
            raise ValueError("must not be negative")
        if amount > MAX_PRICE:
            raise ValueError(f"must be at most {MAX_PRICE}")
        if amount != amount.quantize(_CENT):
            raise ValueError("must have at most 2 decimals")
        return amount.quantize(_CENT)

    return check


def validate(
    body: Mapping[str, Any], fields: Mapping[str, Validator], required: Iterable[str] | None = None
) -> dict[str, Any]:
    """Check `body` against `fields` (all required unless `required` says otherwise)."""
    needed = set(fields) if required is None else set(required)
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise ApiError(400, f"unknown field(s): {', '.join(unknown)}", fields=unknown)
    missing = sorted(name for name in needed if name not in body)
    if missing:
        raise ApiError(400, f"missing field(s): {', '.join(missing)}", fields=missing)
    cleaned: dict[str, Any] = {}
    for name, value in body.items():
        try:
            cleaned[name] = fields[name](value)
        except ValueError as exc:
            raise ApiError(400, f"{name}: {exc}", field=name) from None
    return cleaned


# --- query string and path ---------------------------------------------------------------------


def query_int(args: Mapping[str, str], name: str, default: int, min_value: int, max_value: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    value = _url_int(raw)
    if value is None or not min_value <= value <= max_value:
        raise ApiError(400, f"{name} must be an integer between {min_value} and {max_value}", field=name)
    return value


def pagination(
    args: Mapping[str, str], default_limit: int = DEFAULT_PAGE_LIMIT, max_limit: int = MAX_PAGE_LIMIT
) -> tuple[int, int]:
    """(limit, offset) from the query string, or 400."""
    limit = query_int(args, "limit", default_limit, 1, max_limit)
    offset = query_int(args, "offset", 0, 0, MAX_INT32)
    return limit, offset


def path_id(value: str, name: str = "id") -> int:
    """A positive int32 id from a URL segment, or 400 (so junk never reaches the database)."""
    ident = _url_int(value)
    if ident is None or not 1 <= ident <= MAX_INT32:
        raise ApiError(400, f"{name} must be an integer between 1 and {MAX_INT32}", field=name)
    return ident


def _url_int(raw: str) -> int | None:
    match = _URL_INT.fullmatch(raw)
    return int(match.group(1)) if match else None


def path_uuid(value: str, name: str = "id") -> str:
    """A canonical UUID string from a URL segment, or 400."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(400, f"{name} must be a UUID", field=name) from None
