"""Gunicorn config for the API gateway: the shared settings, validated against its env."""

from common.gunicorn_base import gunicorn_settings

globals().update(gunicorn_settings("api-gateway", "api_gateway.config:SETTINGS"))
