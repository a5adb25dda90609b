"""The `server_control` guard (tests/servercontrol.py, tests/conftest.py): a test that drives
PostgreSQL or RabbitMQ with pg_ctlcluster/rabbitmqctl fails, with one line and before any of its
fixtures runs, wherever those commands cannot control the servers the tests talk to. Each way it
can refuse is shown here with stand-in commands; none of it needs a server."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import servercontrol
from devtools import local

ROOT = Path(__file__).resolve().parents[2]
ELSEWHERE = "192.0.2.2"  # TEST-NET-1: a host that is not this machine
LOCAL_AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"


def stand_in(folder: Path, name: str, stdout: str = "", exit_code: int = 0, stderr: str = "") -> None:
    script = folder / name
    script.write_text(
        f"#!/bin/sh\ncat <<'EOF'\n{stdout}\nEOF\n"
        + (f"echo '{stderr}' >&2\n" if stderr else "")
        + f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def rabbit_status(*ports: int) -> str:
    listeners = [{"protocol": "clustering", "port": 25672}] + [{"protocol": "amqp", "port": p} for p in ports]
    return json.dumps({"listeners": listeners})


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "localhost", "/var/run/postgresql"])
def test_loopback_names_and_socket_directories_are_this_machine(host):
    assert local.is_this_machine(host)


@pytest.mark.parametrize("host", [ELSEWHERE, "postgres", "rabbitmq", "10.0.0.5", "fd00::2", ""])
def test_service_aliases_and_other_addresses_are_not(host):
    assert not local.is_this_machine(host)


def test_postgresql_elsewhere_is_refused_before_any_command_is_looked_at(tmp_path):
    problem = servercontrol.postgresql_problem(ELSEWHERE, 5432, str(tmp_path))
    assert problem == (
        f"PostgreSQL at {ELSEWHERE}:5432 (PGHOST, PGPORT) is not on this machine, "
        "so pg_ctlcluster cannot stop or start it"
    )


def test_postgresql_without_pg_ctlcluster_is_refused(tmp_path):
    problem = servercontrol.postgresql_problem("127.0.0.1", 5432, str(tmp_path))
    assert problem.endswith("pg_ctlcluster is not installed (Debian's postgresql-common)")


def test_postgresql_without_the_cluster_or_on_another_port_is_refused(tmp_path):
    stand_in(tmp_path, "pg_ctlcluster")
    stand_in(tmp_path, "pg_lsclusters", "16 main 5432 online postgres /x /y.log")
    assert "has no cluster 15/main" in servercontrol.postgresql_problem("127.0.0.1", 5432, str(tmp_path))
    stand_in(tmp_path, "pg_lsclusters", "15 main 5433 online postgres /x /y.log")
    problem = servercontrol.postgresql_problem("127.0.0.1", 5432, str(tmp_path))
    assert problem.endswith("cluster 15/main listens on port 5433, not 5432")
    stand_in(tmp_path, "pg_lsclusters", exit_code=1, stderr="Error: cannot read /etc/postgresql")
    assert servercontrol.postgresql_problem("127.0.0.1", 5432, str(tmp_path)).endswith(
        "pg_lsclusters failed: Error: cannot read /etc/postgresql"
    )


def test_postgresql_is_accepted_only_when_the_cluster_serves_the_port(tmp_path):
    stand_in(tmp_path, "pg_ctlcluster")
    stand_in(tmp_path, "pg_lsclusters", "15 main 5433 online postgres /x /y.log")
    assert servercontrol.postgresql_problem("127.0.0.1", 5433, str(tmp_path)) is None
    assert servercontrol.postgresql_problem("localhost", 5433, str(tmp_path)) is None


def test_rabbitmq_elsewhere_or_without_rabbitmqctl_is_refused(tmp_path):
    elsewhere = servercontrol.rabbitmq_problem(f"amqp://guest:guest@{ELSEWHERE}:5672/%2F", str(tmp_path))
    assert (
        elsewhere
        == f"RabbitMQ at {ELSEWHERE}:5672 (AMQP_URL) is not on this machine, so rabbitmqctl cannot control it"
    )
    missing = servercontrol.rabbitmq_problem(LOCAL_AMQP, str(tmp_path))
    assert missing.endswith("rabbitmqctl is not installed (Debian's rabbitmq-server)")


def test_rabbitmq_whose_node_is_down_or_elsewhere_is_refused(tmp_path):
    stand_in(tmp_path, "rabbitmqctl", exit_code=69, stderr="Error: unable to perform an operation on node")
    assert servercontrol.rabbitmq_problem(LOCAL_AMQP, str(tmp_path)).endswith(
        "rabbitmqctl cannot reach its node: Error: unable to perform an operation on node"
    )
    stand_in(tmp_path, "rabbitmqctl", rabbit_status(5673))
    assert servercontrol.rabbitmq_problem(LOCAL_AMQP, str(tmp_path)).endswith(
        "the node rabbitmqctl controls listens for AMQP on [5673], not 5672"
    )
    stand_in(tmp_path, "rabbitmqctl", rabbit_status())  # the broker application stopped
    assert "listens for AMQP on no port, not 5672" in servercontrol.rabbitmq_problem(
        LOCAL_AMQP, str(tmp_path)
    )
    stand_in(tmp_path, "rabbitmqctl", rabbit_status(5672))
    assert servercontrol.rabbitmq_problem(LOCAL_AMQP, str(tmp_path)) is None


def pytest_run(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("PGHOST", "PGPORT", "AMQP_URL", "PYTEST_ADDOPTS")
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", *args],
        cwd=folder,
        env={**clean, "COLUMNS": "1000", **env},  # the short summary keeps whole lines
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def guarded_tree(tmp_path) -> Path:
    """A throw-away test tree with the repository's tests/conftest.py and markers."""
    (tmp_path / "conftest.py").write_text((ROOT / "tests/conftest.py").read_text())
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers\n"
        f"pythonpath = {ROOT / 'tests'} {ROOT / 'services'}\n"
        "markers =\n    disruptive: stops servers\n    server_control: drives servers\n"
    )
    return tmp_path


def test_the_guard_fails_the_test_before_its_fixtures_touch_anything(guarded_tree):
    touched = guarded_tree / "fixture-ran"
    (guarded_tree / "test_drives.py").write_text(
        "import pathlib, pytest\n\n"
        "@pytest.fixture\n"
        f"def server():\n    pathlib.Path({str(touched)!r}).write_text('ran')\n\n"
        '@pytest.mark.server_control("postgresql")\n'
        "def test_stops_postgres(server):\n    pass\n\n"
        "def test_unmarked():\n    pass\n"
    )
    result = pytest_run(guarded_tree, PGHOST=ELSEWHERE)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "1 passed, 1 error" in out and "skipped" not in out
    (line,) = [
        line for line in out.splitlines() if line.startswith("ERROR test_drives.py::test_stops_postgres")
    ]
    assert f"server_control: PostgreSQL at {ELSEWHERE}:5432 (PGHOST, PGPORT) is not on this machine" in line
    assert "make test-server-control" in line and "-m 'not server_control'" in line
    assert not touched.exists()
    # the same test, deselected as CI's test job does: nothing fails, nothing is touched
    deselected = pytest_run(guarded_tree, "-m", "not server_control", PGHOST=ELSEWHERE)
    assert deselected.returncode == 0 and "1 passed, 1 deselected" in deselected.stdout
    assert not touched.exists()


def test_a_disruptive_test_without_server_control_is_a_usage_error(guarded_tree):
    (guarded_tree / "test_stops.py").write_text(
        "import pytest\n\n@pytest.mark.disruptive\ndef test_stops_rabbitmq():\n    pass\n"
    )
    result = pytest_run(guarded_tree, "-m", "not server_control")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert (
        "disruptive tests need @pytest.mark.server_control too: ['test_stops.py::test_stops_rabbitmq']"
        in (result.stderr)
    )


def test_the_real_server_control_tests_fail_against_servers_elsewhere():
    result = pytest_run(
        ROOT,
        "tests/services/billing/test_billing_outages.py",
        "tests/infrastructure/cloudctl/manifests/test_rabbitmq_boot_definitions.py",
        PGHOST=ELSEWHERE,
        AMQP_URL=f"amqp://guest:guest@{ELSEWHERE}:5672/%2F",
    )
    out = result.stdout
    assert result.returncode == 1, out[-3000:] + result.stderr
    errors = [line for line in out.splitlines() if line.startswith("ERROR tests/")]
    assert len(errors) == 4 and "4 error" in out.splitlines()[-1]
    assert "passed" not in out.splitlines()[-1] and "skipped" not in out.splitlines()[-1]
    for line in errors:
        assert f"RabbitMQ at {ELSEWHERE}:5672 (AMQP_URL) is not on this machine" in line
    assert sum(f"PostgreSQL at {ELSEWHERE}:5432" in line for line in errors) == 2  # the outage tests
