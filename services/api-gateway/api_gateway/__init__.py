"""API gateway: the one public entry point; validates at the edge and proxies to the services."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from common import jsonlog
from common.config import load_or_exit
from common.web import create_base_app
from flask import Flask

from api_gateway import routes
from api_gateway.config import SETTINGS
from api_gateway.upstream import Timeout, Upstreams

SERVICE = "api-gateway"
# /ready asks each upstream's /health; a slow upstream must not hold the probe for long.
READY_TIMEOUT = Timeout(connect=1, read=2)


def upstream_healthy(upstreams: Upstreams, name: str) -> bool:
    return upstreams.request(name, "GET", "/health", {}, timeout=READY_TIMEOUT).status == 200


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    values = load_or_exit(SETTINGS, environ)
    jsonlog.configure(SERVICE, values["LOG_LEVEL"])
    bases = {"inventory": values["INVENTORY_URL"], "billing": values["BILLING_URL"]}
    upstreams = Upstreams(bases, values["UPSTREAM_CONNECT_TIMEOUT"], values["UPSTREAM_READ_TIMEOUT"])
    checks = {name: partial(upstream_healthy, upstreams, name) for name in bases}
    app = create_base_app(SERVICE, values, checks)
    app.extensions["upstreams"] = upstreams
    app.register_blueprint(routes.bp)
    return app
