"""Input validation at the edge: every bad input becomes a 4xx ApiError naming the problem.

Field validators are callables `value -> cleaned value` raising ValueError("why"); `validate`
turns that into a 400 naming the field.

Prices: a JSON number or a numeric string ("9.99") is accepted and parsed exactly as Decimal
(JSON numbers are decoded as Decimal, never float), so 0.1 + 0.2 style drift cannot happen.
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
_DIGITS = re.compile(r"^[0-9]{1,10}$")
_PRICE_TEXT = re.compile(r"^[0-9]{1,8}(\.[0-9]{1,2})?$")
# Control characters (NUL above all: PostgreSQL text cannot store it) are never valid text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

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
        cleaned = value.strip()
        if not cleaned:
            raise ValueError("must not be empty or only whitespace")
        if len(cleaned) > max_len:
            raise ValueError(f"must be at most {max_len} characters")
        if _CONTROL.search(cleaned):
            raise ValueError("must not contain control characters")
        return cleaned

    return check


def positive_int() -> Validator:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        if not 1 <= value <= MAX_INT32:
            raise ValueError(f"must be between 1 and {MAX_INT32}")
        return value

    return check


def price() -> Validator:
    def check(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise ValueError("must be a number or a numeric string")
        if isinstance(value, str):
            if not _PRICE_TEXT.match(value.strip()):
                raise ValueError("must be a non-negative number with at most 2 decimals")
            value = value.strip()
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
    if not _DIGITS.match(raw) or not min_value <= int(raw) <= max_value:
        raise ApiError(400, f"{name} must be an integer between {min_value} and {max_value}", field=name)
    return int(raw)


def pagination(
    args: Mapping[str, str], default_limit: int = DEFAULT_PAGE_LIMIT, max_limit: int = MAX_PAGE_LIMIT
) -> tuple[int, int]:
    """(limit, offset) from the query string, or 400."""
    limit = query_int(args, "limit", default_limit, 1, max_limit)
    offset = query_int(args, "offset", 0, 0, MAX_INT32)
    return limit, offset


def path_id(value: str, name: str = "id") -> int:
    """A positive int32 id from a URL segment, or 400 (so junk never reaches the database)."""
    if not _DIGITS.match(value) or not 1 <= int(value) <= MAX_INT32:
        raise ApiError(400, f"{name} must be an integer between 1 and {MAX_INT32}", field=name)
    return int(value)


def path_uuid(value: str, name: str = "id") -> str:
    """A canonical UUID string from a URL segment, or 400."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(400, f"{name} must be a UUID", field=name) from None
