"""Gunicorn config for inventory: the shared settings, validated against inventory's env."""

from common.gunicorn_base import gunicorn_settings

globals().update(gunicorn_settings("inventory", "inventory.config:SETTINGS"))
