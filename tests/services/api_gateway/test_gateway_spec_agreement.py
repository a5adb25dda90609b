"""Where the spec and the validation code disagreed, each case sent through the
gateway of the full stack: the spec's request schema and the answer say the same thing.

- control characters in text: refused, and the spec's Text pattern forbids them;
- integral numbers such as `2.0` for integer ids: accepted, as JSON Schema's integer allows;
- leading or trailing spaces in a price string: refused, as the spec's pattern says;
- a 201-character title (surrounding spaces count): refused, as the spec's maxLength says.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import jsonschema
import pytest
import requests
import servicekit
import yaml
from common import validation

DOCUMENT = servicekit.SERVICES / "api-gateway" / "openapi.yaml"


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def spec_accepts(spec: dict, schema_name: str, body: dict) -> bool:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    return jsonschema.Draft202012Validator(schema).is_valid(body)


def unique_id() -> int:
    return uuid.uuid4().int % 2_000_000_000 + 1


@dataclass(frozen=True)
class Case:
    path: str
    schema: str
    raw_body: str  # sent as is, so that 2.0 stays 2.0 on the wire
    accepted: bool
    message: str = ""  # in the 400's message when refused


def movie(title: str) -> str:
    return json.dumps({"title": title, "director": "Agnès Varda"})


def order(user_id: str, movie_id: str = "1", price: str = '"9.99"') -> str:
    return f'{{"user_id": {user_id}, "movie_id": {movie_id}, "price": {price}}}'


CASES = {
    "title with NUL": Case("/api/movies", "MovieInput", movie("a\x00b"), False, "control"),
    "title with escape": Case("/api/movies", "MovieInput", movie("a\x1b[31m"), False, "control"),
    "title ending in vertical tab": Case("/api/movies", "MovieInput", movie("ab\x0b"), False, "control"),
    "title with DEL": Case("/api/movies", "MovieInput", movie("a\x7f"), False, "control"),
    "title with C1 control": Case("/api/movies", "MovieInput", movie("a\x85"), False, "control"),
    "title with tab and newline": Case("/api/movies", "MovieInput", movie("a\tb\nc"), True),
    "user_id 2.0": Case("/api/orders", "OrderInput", order("{user}.0"), True),
    "movie_id 1e0": Case("/api/orders", "OrderInput", order("{user}", movie_id="1e0"), True),
    "user_id 2.5": Case("/api/orders", "OrderInput", order("2.5"), False, "user_id"),
    "price leading space": Case(
        "/api/orders", "OrderInput", order("{user}", price='" 9.99"'), False, "price"
    ),
    "price trailing space": Case(
        "/api/orders", "OrderInput", order("{user}", price='"9.99 "'), False, "price"
    ),
    "price trailing newline": Case(
        "/api/orders", "OrderInput", order("{user}", price='"9.99\\n"'), False, "price"
    ),
    "title 200 characters": Case("/api/movies", "MovieInput", movie("x" * 200), True),
    "title 201 characters": Case("/api/movies", "MovieInput", movie("x" * 201), False, "200"),
    "title 199 + 2 spaces": Case("/api/movies", "MovieInput", movie(" " + "x" * 199 + " "), False, "200"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_spec_and_gateway_agree(spec, stack, case: Case) -> None:
    raw = case.raw_body.replace("{user}", str(unique_id()))
    assert spec_accepts(spec, case.schema, json.loads(raw)) == case.accepted
    response = requests.post(
        stack.url + case.path, data=raw.encode(), headers={"Content-Type": "application/json"}, timeout=10
    )
    answer = response.json()
    if case.accepted:
        assert response.status_code in (201, 202), answer
    else:
        assert response.status_code == 400, answer
        assert case.message in answer["message"]


def test_integral_ids_are_stored_as_integers(stack) -> None:
    user_id = unique_id()
    response = requests.post(
        f"{stack.url}/api/orders",
        data=order(f"{user_id}.0", movie_id="3.00").encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    assert (response.json()["user_id"], response.json()["movie_id"]) == (user_id, 3)
    rows = servicekit.query(stack.billing_db, "SELECT movie_id FROM orders WHERE user_id = %s", (user_id,))
    assert rows == [(3,)]


def test_the_spec_patterns_are_the_code_s(spec) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["Text"]["pattern"] == validation.TEXT_PATTERN
    price_text = next(
        one for one in schemas["OrderInput"]["properties"]["price"]["oneOf"] if "pattern" in one
    )
    assert price_text["pattern"] == validation.PRICE_TEXT_PATTERN
