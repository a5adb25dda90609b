"""The public API: each route validates at the edge, then forwards to its upstream (api_gateway.upstream)."""

from __future__ import annotations

from urllib.parse import urlencode

from common import validation
from common.web import REQUEST_ID_HEADER
from flask import Blueprint, Response, current_app, g, request

from api_gateway.upstream import Upstreams

PUBLIC_PREFIX = "/api"
bp = Blueprint("api", __name__, url_prefix=PUBLIC_PREFIX)


def upstreams() -> Upstreams:
    return current_app.extensions["upstreams"]


def forward(name: str, path: str, query: dict[str, str] | None = None) -> Response:
    """Send the current request to upstream `name` at `path`; relay its answer."""
    target = path + (f"?{urlencode(query)}" if query else "")
    headers = [(k, v) for k, v in request.headers.items() if k.lower() != REQUEST_ID_HEADER.lower()]
    headers.append((REQUEST_ID_HEADER, g.request_id))
    headers.append(("X-Forwarded-For", forwarded_for()))
    body = request.get_data() if request.method in ("POST", "PUT") else None
    answer = upstreams().request(name, request.method, target, headers, body)
    headers_out = []
    for header, value in answer.headers:
        if header.lower() in ("server", "date", REQUEST_ID_HEADER.lower()):
            continue
        if header.lower() == "location" and value.startswith("/"):
            value = PUBLIC_PREFIX + value  # /movies/7 -> /api/movies/7
        headers_out.append((header, value))
    # Headers given to the constructor, so werkzeug adds no default Content-Type of its own.
    # The body as a list: werkzeug then counts Content-Length only when the upstream gave
    # none, and keeps the one a HEAD answer carries (the GET's length, over an empty body).
    return Response([answer.body], status=answer.status, headers=headers_out)


def forwarded_for() -> str:
    earlier = request.headers.get("X-Forwarded-For")
    peer = request.remote_addr or "unknown"
    return f"{earlier}, {peer}" if earlier else peer


def list_query(*names: str) -> dict[str, str]:
    validation.pagination(request.args)  # 400 on bad limit/offset before anything is sent
    return {name: request.args[name] for name in names if name in request.args}


@bp.get("/movies")
def list_movies() -> Response:
    return forward("inventory", "/movies", list_query("title", "limit", "offset"))


@bp.post("/movies")
def create_movie() -> Response:
    validation.json_object()
    return forward("inventory", "/movies")


@bp.route("/movies/<movie_id>", methods=["GET", "PUT", "DELETE"])
def one_movie(movie_id: str) -> Response:
    ident = validation.path_id(movie_id)
    if request.method == "PUT":
        validation.json_object()
    return forward("inventory", f"/movies/{ident}")


@bp.post("/orders")
def create_order() -> Response:
    validation.json_object()
    return forward("billing", "/orders")


@bp.get("/orders")
def list_orders() -> Response:
    if "user_id" in request.args:
        validation.path_id(request.args["user_id"], "user_id")
    return forward("billing", "/orders", list_query("user_id", "limit", "offset"))


@bp.get("/orders/<order_id>")
def one_order(order_id: str) -> Response:
    return forward("billing", f"/orders/{validation.path_uuid(order_id)}")
