"""common.config: parsers, loading, and the one-line exit on bad configuration."""

from __future__ import annotations

import subprocess
import sys

import pytest
import servicekit
from common import config
from common.config import ConfigError, Setting


def test_load_parses_values_and_applies_defaults() -> None:
    settings = (
        config.port_setting(8080),
        config.LOG_LEVEL,
        Setting("RATIO", False, "0.5", config.parse_float(0, 1), "a ratio"),
        Setting("OPTIONAL", False, None, config.parse_str, "may be absent"),
    )
    values = config.load(settings, {"PORT": "9000", "LOG_LEVEL": "debug"})
    assert values == {"PORT": 9000, "LOG_LEVEL": "DEBUG", "RATIO": 0.5, "OPTIONAL": None}


@pytest.mark.parametrize(
    ("setting", "raw", "message"),
    [
        (config.port_setting(1), "http", "PORT: must be an integer, got 'http'"),
        (config.port_setting(1), "70000", "PORT: must be <= 65535, got 70000"),
        (
            config.LOG_LEVEL,
            "LOUD",
            "LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'",
        ),
        (
            Setting("T", False, "1", config.parse_float(0.05, 60), ""),
            "nan",
            "T: must be a finite number, got 'nan'",
        ),
        (Setting("T", False, "1", config.parse_float(0.05, 60), ""), "0", "T: must be >= 0.05, got 0.0"),
        (
            config.DATABASE_URL,
            "mysql://x/y",
            "DATABASE_URL: must be a URL with scheme postgresql or postgres",
        ),
        (config.DATABASE_URL, "postgresql:///db", "DATABASE_URL: must name a host"),
        (config.DATABASE_URL, "postgresql://h:99999/db", "DATABASE_URL: is not a valid URL"),
    ],
)
def test_bad_values_name_the_variable_and_why(setting: Setting, raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load((setting,), {setting.name: raw})
    assert str(caught.value).startswith(message)


def test_missing_required_value() -> None:
    with pytest.raises(ConfigError, match=r"^DATABASE_URL: is required but not set$"):
        config.load((config.DATABASE_URL,), {"DATABASE_URL": ""})


def test_a_password_in_a_bad_url_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        config.load((config.DATABASE_URL,), {"DATABASE_URL": "mysql://app:hunter2@db/x"})
    assert "hunter2" not in str(caught.value)


def test_load_or_exit_prints_one_line_and_exits_2() -> None:
    code = (
        "from common import config\nconfig.load_or_exit((config.DATABASE_URL,), {})\nprint('not reached')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=servicekit.base_env({})
    )
    assert done.returncode == 2
    assert done.stderr == "config error: DATABASE_URL: is required but not set\n"
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("workload", "env", "line"),
    [
        ("inventory", {}, "config error: DATABASE_URL: is required but not set"),
        (
            "inventory",
            {"DATABASE_URL": "postgresql://x@h/d", "PORT": "0"},
            "config error: PORT: must be >= 1, got 0",
        ),
        ("api-gateway", {"BILLING_URL": "http://b"}, "config error: INVENTORY_URL: is required but not set"),
        (
            "api-gateway",
            {"INVENTORY_URL": "http://i", "BILLING_URL": "ftp://b"},
            "config error: BILLING_URL: must be a URL with scheme http or https, got 'ftp://b'",
        ),
        (
            "api-gateway",
            {"INVENTORY_URL": "http://i", "BILLING_URL": "http://b", "GUNICORN_WORKERS": "0"},
            "config error: GUNICORN_WORKERS: must be >= 1, got 0",
        ),
        (
            "api-gateway",
            # WEB_CONCURRENCY would be parsed by gunicorn itself, with a traceback; ours is not
            {"INVENTORY_URL": "http://i", "BILLING_URL": "http://b", "GUNICORN_WORKERS": "lots"},
            "config error: GUNICORN_WORKERS: must be an integer, got 'lots'",
        ),
    ],
)
def test_gunicorn_master_exits_at_once_with_one_line(workload: str, env: dict, line: str) -> None:
    spec = servicekit.WORKLOADS[workload]
    full_env = servicekit.base_env({"PORT": str(servicekit.free_port()), **env})
    done = subprocess.run(
        [str(servicekit.VENV_BIN / "gunicorn"), *spec.command[1:]],
        cwd=servicekit.SERVICES / spec.folder,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [line]
