"""Shared code for every Cloud-Design service: configuration, JSON logs, HTTP app base, errors,
validation, metrics, database pool, migrations, provisioning and gunicorn settings."""
