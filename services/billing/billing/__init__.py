"""Billing: the orders API (`billing:create_app()`) and its worker (`python -m billing.worker`)."""

from __future__ import annotations

from collections.abc import Mapping


def create_app(environ: Mapping[str, str] | None = None):
    """The API's Flask app (imported lazily: the worker process never loads Flask)."""
    from billing.api import create_app as create_api_app

    return create_api_app(environ)
