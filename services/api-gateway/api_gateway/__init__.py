"""API gateway: the one public entry point; validates at the edge and proxies to the services."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from common import jsonlog, validation
from common.config import load_or_exit
from common.web import REQUEST_ID_HEADER, create_base_app
from flask import Flask, Response, g, request

from api_gateway.config import SETTINGS
from api_gateway.upstream import Timeout, Upstreams

SERVICE = "api-gateway"
# /ready asks each upstream's /health; a slow upstream must not hold the probe for long.
READY_TIMEOUT = Timeout(connect=1, read=2)


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    values = load_or_exit(SETTINGS, environ)
    jsonlog.configure(SERVICE, values["LOG_LEVEL"])
    bases = {"inventory": values["INVENTORY_URL"], "billing": values["BILLING_URL"]}
    upstreams = Upstreams(bases, values["UPSTREAM_CONNECT_TIMEOUT"], values["UPSTREAM_READ_TIMEOUT"])

    def health_check(name: str):
        def check() -> bool:
            answer = upstreams.request(name, "GET", "/health", {}, timeout=READY_TIMEOUT)
            return answer.status == 200

        return check

    app = create_base_app(SERVICE, values, {name: health_check(name) for name in bases})

    def forward(
        name: str, path: str, query: dict[str, str] | None = None, public_prefix: str = ""
    ) -> Response:
        """Send the current request to upstream `name` at `path`; relay its answer."""
        target = path + (f"?{urlencode(query)}" if query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() != REQUEST_ID_HEADER.lower()]
        headers.append((REQUEST_ID_HEADER, g.request_id))
        headers.append(("X-Forwarded-For", _forwarded_for()))
        body = request.get_data() if request.method in ("POST", "PUT") else None
        answer = upstreams.request(name, request.method, target, headers, body)
        headers_out = []
        for header, value in answer.headers:
            if header.lower() in ("server", "date", REQUEST_ID_HEADER.lower()):
                continue
            if header.lower() == "location" and value.startswith("/"):
                value = public_prefix + value  # /movies/7 -> /api/movies/7
            headers_out.append((header, value))
        # Headers given to the constructor, so werkzeug adds no default Content-Type of its own.
        # The body as a list: werkzeug then counts Content-Length only when the upstream gave
        # none, and keeps the one a HEAD answer carries (the GET's length, over an empty body).
        return Response([answer.body], status=answer.status, headers=headers_out)

    def list_query(*names: str) -> dict[str, str]:
        validation.pagination(request.args)  # 400 on bad limit/offset before anything is sent
        return {name: request.args[name] for name in names if name in request.args}

    @app.get("/api/movies")
    def list_movies() -> Response:
        return forward("inventory", "/movies", list_query("title", "limit", "offset"), "/api")

    @app.post("/api/movies")
    def create_movie() -> Response:
        validation.json_object()
        return forward("inventory", "/movies", public_prefix="/api")

    @app.route("/api/movies/<movie_id>", methods=["GET", "PUT", "DELETE"])
    def one_movie(movie_id: str) -> Response:
        ident = validation.path_id(movie_id)
        if request.method == "PUT":
            validation.json_object()
        return forward("inventory", f"/movies/{ident}", public_prefix="/api")

    @app.post("/api/orders")
    def create_order() -> Response:
        validation.json_object()
        return forward("billing", "/orders", public_prefix="/api")

    @app.get("/api/orders")
    def list_orders() -> Response:
        if "user_id" in request.args:
            validation.path_id(request.args["user_id"], "user_id")
        return forward("billing", "/orders", list_query("user_id", "limit", "offset"), "/api")

    @app.get("/api/orders/<order_id>")
    def one_order(order_id: str) -> Response:
        return forward("billing", f"/orders/{validation.path_uuid(order_id)}", public_prefix="/api")

    return app


def _forwarded_for() -> str:
    earlier = request.headers.get("X-Forwarded-For")
    peer = request.remote_addr or "unknown"
    return f"{earlier}, {peer}" if earlier else peer
