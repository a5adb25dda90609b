"""Gunicorn config for the billing API: the shared settings, validated against billing's env."""

from common.gunicorn_base import gunicorn_settings

globals().update(gunicorn_settings("billing", "billing.config:API_SETTINGS"))
