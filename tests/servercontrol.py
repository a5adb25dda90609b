"""The tests marked `server_control`: they drive this machine's own PostgreSQL and RabbitMQ with
pg_ctlcluster and rabbitmqctl (stop, start, import definitions), so they can only run where the
servers the tests talk to (PGHOST/PGPORT, AMQP_URL: services/devtools/local.py) are this machine's
and those commands control them.

`@pytest.mark.server_control("postgresql", "rabbitmq")` names the servers a test drives (none
named: both). Before such a test sets anything up, tests/conftest.py asks `problems()`; any answer
fails the test with one line, never a skip: a test that cannot do what it claims must not look
green. `make test-server-control` runs only these tests; `-m "not server_control"` leaves them out
(CI's `test` job, whose servers are service containers).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from urllib.parse import urlsplit

from devtools import local

MARKER = "server_control"
SERVERS = ("postgresql", "rabbitmq")
PG_CLUSTER = ("15", "main")  # Debian's postgresql-15, as .ci/ensure-services and CI install it
COMMAND_TIMEOUT = 120


def command_path() -> str:
    """Where the control commands are looked up: PATH, plus /usr/sbin (rabbitmqctl) for non-root shells."""
    return f"{os.environ.get('PATH', '')}:/usr/sbin"


def run(
    *args: str, stdin: str | None = None, timeout: float = COMMAND_TIMEOUT
) -> subprocess.CompletedProcess:
    """Run a control command (pg_ctlcluster, rabbitmqctl, ...) found on command_path()."""
    path = shutil.which(args[0], path=command_path()) or args[0]
    return subprocess.run(
        [path, *args[1:]], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def check(*args: str, stdin: str | None = None) -> str:
    """run(), raising RuntimeError with the command's stderr when it fails; returns stdout."""
    done = run(*args, stdin=stdin)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def pg_ctl(action: str) -> None:
    check("pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER, action)


def rabbitmqctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run("rabbitmqctl", *args, stdin=stdin, timeout=60)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no output")


def postgresql_problem(host: str, port: int, path: str) -> str | None:
    """Why pg_ctlcluster 15 main cannot control the PostgreSQL at host:port, or None."""
    where = f"PostgreSQL at {host}:{port} (PGHOST, PGPORT)"
    if not local.is_this_machine(host):
        return f"{where} is not on this machine, so pg_ctlcluster cannot stop or start it"
    for tool in ("pg_ctlcluster", "pg_lsclusters"):
        if shutil.which(tool, path=path) is None:
            return f"{where}: {tool} is not installed (Debian's postgresql-common)"
    listed = subprocess.run(
        [shutil.which("pg_lsclusters", path=path), "--no-header"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if listed.returncode != 0:
        return f"{where}: pg_lsclusters failed: {_first_line(listed.stderr)}"
    ports = {tuple(f[:2]): f[2] for f in (line.split() for line in listed.stdout.splitlines()) if len(f) > 2}
    cluster = "/".join(PG_CLUSTER)
    if PG_CLUSTER not in ports:
        return f"{where}: this machine has no cluster {cluster} for pg_ctlcluster to control"
    if ports[PG_CLUSTER] != str(port):
        return f"{where}: cluster {cluster} listens on port {ports[PG_CLUSTER]}, not {port}"
    return None


def rabbitmq_problem(amqp_url: str, path: str) -> str | None:
    """Why rabbitmqctl cannot control the RabbitMQ that amqp_url reaches, or None."""
    parts = urlsplit(amqp_url)
    host, port = parts.hostname or "", parts.port or 5672
    where = f"RabbitMQ at {host}:{port} (AMQP_URL)"
    if not local.is_this_machine(host):
        return f"{where} is not on this machine, so rabbitmqctl cannot control it"
    ctl = shutil.which("rabbitmqctl", path=path)
    if ctl is None:
        return f"{where}: rabbitmqctl is not installed (Debian's rabbitmq-server)"
    status = subprocess.run(
        [ctl, "status", "--formatter", "json"], capture_output=True, text=True, timeout=60, check=False
    )
    if status.returncode != 0:
        return f"{where}: rabbitmqctl cannot reach its node: {_first_line(status.stderr + status.stdout)}"
    try:
        listeners = json.loads(status.stdout).get("listeners") or []
    except (ValueError, AttributeError):
        return f"{where}: rabbitmqctl status printed no JSON: {_first_line(status.stdout)}"
    amqp_ports = sorted({int(item["port"]) for item in listeners if item.get("protocol") == "amqp"})
    if port not in amqp_ports:
        listening = amqp_ports or "no port"
        return f"{where}: the node rabbitmqctl controls listens for AMQP on {listening}, not {port}"
    return None


@functools.cache
def problem(server: str) -> str | None:
    """The answer for this run's servers (asked once per server and session)."""
    if server == "postgresql":
        return postgresql_problem(local.PG_HOST, local.PG_PORT, command_path())
    if server == "rabbitmq":
        return rabbitmq_problem(local.AMQP_URL, command_path())
    raise ValueError(f"unknown server {server!r}: the {MARKER} marker takes {', '.join(SERVERS)}")


def problems(servers: tuple[str, ...]) -> list[str]:
    return [answer for server in servers or SERVERS if (answer := problem(server))]
