"""Helpers the service tests share: per-run names, databases, queues and real service processes.

Everything runs for real: PostgreSQL and RabbitMQ where services/devtools/local.py finds them
(PGHOST/PGPORT and AMQP_URL, this machine's 127.0.0.1 by default), services under gunicorn with
the contract's start commands. Only AWS and the cluster are absent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import yaml
from devtools import local, processes

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
VENV_BIN = Path(sys.executable).parent

PG_ADMIN_URL = local.PG_ADMIN_URL
AMQP_URL = local.AMQP_URL

# One id per test session: databases, roles and queues carry it, so runs never collide.
RUN_ID = uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class Workload:
    """One workload of contract.yaml: where it runs from and how it starts."""

    name: str
    folder: str  # services/<folder>, the image's WORKDIR
    command: tuple[str, ...]


def contract_workloads() -> dict[str, Workload]:
    data = yaml.safe_load((ROOT / "contract.yaml").read_text())
    return {
        name: Workload(name, str(Path(item["source"]).relative_to("services")), tuple(item["command"]))
        for name, item in data["workloads"].items()
    }


WORKLOADS = contract_workloads()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_url(name: str) -> str:
    """URL of the role and database `name` (both carry the same name; trust auth locally)."""
    return local.database_url(name)


def run_cli(
    args: list[str], env: Mapping[str, str], cwd: Path = SERVICES
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=base_env(env), cwd=cwd, capture_output=True, text=True, timeout=120)


def base_env(extra: Mapping[str, str], bin_dir: Path = VENV_BIN) -> dict[str, str]:
    """A clean environment (nothing leaks from the test runner) plus `extra`."""
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(SERVICES),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def create_database(name: str, migrate_module: str) -> str:
    """Create role + database `name` with common.provision, migrate them; return DATABASE_URL."""
    url = pg_url(name)
    done = run_cli(
        [sys.executable, "-m", "common.provision"],
        {"ADMIN_DATABASE_URL": PG_ADMIN_URL, "APP_DATABASE_URL": url},
    )
    assert done.returncode == 0, done.stderr
    folder = SERVICES / migrate_module.split(".")[0]  # run from the service folder, as in the image
    migrated = run_cli([sys.executable, "-m", migrate_module], {"DATABASE_URL": url}, cwd=folder)
    assert migrated.returncode == 0, migrated.stderr + migrated.stdout
    return url


@contextlib.contextmanager
def fresh_database(name: str, migrate_module: str) -> Iterator[str]:
    """create_database for the duration of the block; dropped after it, also when creating or
    migrating failed half-way."""
    try:
        yield create_database(name, migrate_module)
    finally:
        drop_database(name)


def drop_database(name: str) -> None:
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        conn.close()


def query(database_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def delete_queues(queue: str) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        for name in (queue, f"{queue}.retry", f"{queue}.dlq"):
            channel.queue_delete(name)
    finally:
        connection.close()


@dataclass
class ServiceProcess:
    """A running service: its URL, its log file, and how to stop it."""

    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def wait_healthy(service: ServiceProcess, timeout: float = 30, path: str = "/health") -> None:
    try:
        processes.wait_healthy(service.process, service.url + path, timeout)
    except RuntimeError as exc:
        service.stop()
        raise RuntimeError(f"{service.name}: {exc}:\n{service.logs()[-3000:]}") from None


def start_process(
    workload: str,
    env: Mapping[str, str],
    log_dir: Path,
    *,
    command: list[str] | None = None,
    cwd: Path | None = None,
    bin_dir: Path = VENV_BIN,
    pythonpath: str | None = None,
    wait: bool = True,
) -> ServiceProcess:
    """Start `workload` (a docs/contract.md name) on a free port and wait for /health."""
    spec = WORKLOADS[workload]
    port = int(env.get("PORT") or free_port())
    full_env = base_env({"PORT": str(port), "GUNICORN_WORKERS": "2", **env}, bin_dir)
    if pythonpath is not None:
        full_env["PYTHONPATH"] = pythonpath
    args = list(command or spec.command)
    log_path = log_dir / f"{workload}-{port}.log"
    executable = [str(bin_dir / args[0]), *args[1:]] if (bin_dir / args[0]).exists() else args
    with log_path.open("wb") as log_file:  # the child keeps its own copy of the descriptor
        process = processes.start(executable, cwd or SERVICES / spec.folder, full_env, log_file)
    service = ServiceProcess(workload, port, process, log_path, full_env)
    if wait:
        wait_healthy(service)
    return service


class Launcher:
    """Starts services and stops every one it started (used by the fixtures)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[ServiceProcess] = []

    def __call__(self, workload: str, env: Mapping[str, str], **kwargs) -> ServiceProcess:
        service = start_process(workload, env, self.log_dir, **kwargs)
        self.started.append(service)
        return service

    def stop_all(self) -> None:
        for service in reversed(self.started):
            service.stop()


@contextlib.contextmanager
def launcher(log_dir: Path) -> Iterator[Launcher]:
    launch = Launcher(log_dir)
    try:
        yield launch
    finally:
        launch.stop_all()
