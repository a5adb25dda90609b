"""Inventory service: the movie catalogue (CRUD on the `inventory` database)."""

from __future__ import annotations

from collections.abc import Mapping

from common import gunicorn_base, jsonlog
from common.config import load_or_exit
from common.db import Database
from common.web import create_base_app
from flask import Flask

from inventory import routes
from inventory.config import SETTINGS

SERVICE = "inventory"
# The load balancer forwards /inventory/* unchanged, so the routes also answer there.
ALB_PREFIX = "/inventory"


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    values = load_or_exit(SETTINGS, environ)
    jsonlog.configure(SERVICE, values["LOG_LEVEL"])
    db = Database(values["DATABASE_URL"], max_connections=gunicorn_base.THREADS)
    app = create_base_app(SERVICE, values, {"database": db.ping})
    app.extensions["database"] = db
    app.register_blueprint(routes.bp)
    app.register_blueprint(routes.bp, url_prefix=ALB_PREFIX, name="inventory")
    return app
