"""The billing API's app factory: orders (billing.routes) on the billing database.

It needs no broker: orders go to the outbox, which the worker's relay publishes (billing.routes)."""

from __future__ import annotations

from collections.abc import Mapping

from common import gunicorn_base, jsonlog
from common.config import load_or_exit
from common.db import Database
from common.web import create_base_app
from flask import Flask

from billing import routes
from billing.config import API_SETTINGS

SERVICE = "billing"
# The load balancer forwards /billing/* unchanged, so the routes also answer there.
ALB_PREFIX = "/billing"


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    values = load_or_exit(API_SETTINGS, environ)
    jsonlog.configure(SERVICE, values["LOG_LEVEL"])
    db = Database(values["DATABASE_URL"], max_connections=gunicorn_base.THREADS)
    # Ready while the database answers: a broker outage must not take the API out of the Service.
    app = create_base_app(SERVICE, values, {"database": db.ping})
    app.extensions["database"] = db
    app.register_blueprint(routes.bp)
    app.register_blueprint(routes.bp, url_prefix=ALB_PREFIX, name="billing")
    return app
