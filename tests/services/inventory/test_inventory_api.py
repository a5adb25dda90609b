"""Inventory under real gunicorn on its own migrated database: CRUD, prefixes, errors."""

from __future__ import annotations

import pytest
import requests

PREFIXES = ["", "/inventory"]


@pytest.fixture(scope="module")
def base(inventory_service) -> str:
    return inventory_service.url


@pytest.mark.parametrize("prefix", PREFIXES)
def test_crud_round_trip(base: str, prefix: str) -> None:
    created = requests.post(
        f"{base}{prefix}/movies", json={"title": " Heat ", "director": "Michael Mann"}, timeout=5
    )
    assert created.status_code == 201
    movie = created.json()
    assert movie["title"] == "Heat"  # stripped
    assert movie["director"] == "Michael Mann"
    assert set(movie) == {"id", "title", "director", "created_at"}
    assert created.headers["Location"] == f"{prefix}/movies/{movie['id']}"

    fetched = requests.get(f"{base}{prefix}/movies/{movie['id']}", timeout=5)
    assert fetched.status_code == 200 and fetched.json() == movie

    replaced = requests.put(
        f"{base}{prefix}/movies/{movie['id']}",
        json={"title": "Heat (1995)", "director": "M. Mann"},
        timeout=5,
    )
    assert replaced.status_code == 200
    assert replaced.json() | {"created_at": None} == movie | {
        "title": "Heat (1995)",
        "director": "M. Mann",
        "created_at": None,
    }

    deleted = requests.delete(f"{base}{prefix}/movies/{movie['id']}", timeout=5)
    assert deleted.status_code == 204
    gone = requests.get(f"{base}{prefix}/movies/{movie['id']}", timeout=5)
    assert gone.status_code == 404
    assert gone.json()["message"] == f"movie {movie['id']} not found"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_id_is_404(base: str, method: str) -> None:
    body = {"title": "x", "director": "y"} if method == "PUT" else None
    response = requests.request(method, f"{base}/movies/2147483000", json=body, timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert "not found" in response.json()["message"]


def test_list_pages_and_searches_case_insensitively(base: str) -> None:
    marker = "Zq9Marker"
    ids = [
        requests.post(
            f"{base}/movies", json={"title": f"The {marker} {n}", "director": "D"}, timeout=5
        ).json()["id"]
        for n in range(5)
    ]
    page = requests.get(
        f"{base}/movies", params={"title": marker.lower(), "limit": 2, "offset": 1}, timeout=5
    )
    assert page.status_code == 200
    body = page.json()
    assert body["limit"] == 2 and body["offset"] == 1
    assert [item["id"] for item in body["items"]] == ids[1:3]

    default = requests.get(f"{base}/movies", params={"title": marker.upper()}, timeout=5).json()
    assert default["limit"] == 20 and default["offset"] == 0
    assert [item["id"] for item in default["items"]] == ids


def test_like_wildcards_in_search_match_literally(base: str) -> None:
    requests.post(f"{base}/movies", json={"title": "100% Wolf", "director": "Alexs Stadermann"}, timeout=5)
    found = requests.get(f"{base}/movies", params={"title": "0% w", "limit": 100}, timeout=5).json()["items"]
    assert {item["title"] for item in found} == {"100% Wolf"}
    underscore = requests.get(f"{base}/movies", params={"title": "_", "limit": 100}, timeout=5).json()[
        "items"
    ]
    assert all("_" in item["title"] for item in underscore)


def test_max_limit_is_enforced(base: str) -> None:
    assert requests.get(f"{base}/movies", params={"limit": 100}, timeout=5).status_code == 200
    too_many = requests.get(f"{base}/movies", params={"limit": 101}, timeout=5)
    assert too_many.status_code == 400
    assert "limit" in too_many.json()["message"]


def test_ready_checks_the_database(base: str) -> None:
    response = requests.get(f"{base}/ready", timeout=5)
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}
