"""`make bench`: drive the stack with wrk and write docs/benchmarks.md.

Starts its own stack (databases `inventory_bench`/`billing_bench`, queue `billing_queue_bench`,
gunicorn with production-like settings: JSON access logs, INFO level) and measures, at 32
connections: GET /api/movies through the gateway and directly on inventory, POST /api/orders,
and end-to-end order latency (POST until `completed`). It also measures the gunicorn worker
class / count choices the defaults come from. A benchmark, never a test: numbers depend on
the machine and on what else runs on it, so the report states both.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
from common.config import DEFAULT_GUNICORN_WORKERS

from devtools import cpu, local, processes, seed_movies, wrk

HERE = Path(__file__).resolve().parent
CONNECTIONS = 32
QUEUE = "billing_queue_bench"
DATABASES = {"inventory": "inventory_bench", "billing": "billing_bench"}
MIGRATIONS = {"inventory": "inventory.migrate", "billing": "billing.migrate"}
GUNICORN = {
    "gateway": ("api-gateway", "api_gateway:create_app()"),
    "inventory": ("inventory", "inventory:create_app()"),
    "billing": ("billing", "billing:create_app()"),
}


@dataclass(frozen=True)
class Layout:
    """How many gunicorn workers each service gets, and of which class (None: what the service's
    own gunicorn.conf.py and GUNICORN_WORKERS default give, i.e. what ships)."""

    name: str
    workers: Mapping[str, int] | None = None
    worker_class: Mapping[str, str] | None = None
    threads: int = 1


def each(value):
    """The same value for every gunicorn service."""
    return dict.fromkeys(GUNICORN, value)


@dataclass
class Stack:
    layout: Layout
    urls: dict[str, str] = field(default_factory=dict)
    running: list[subprocess.Popen] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)  # what devtools.cpu accounts CPU to

    def stop(self) -> None:
        for process in reversed(self.running):
            processes.stop(process)
        self.running.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_databases() -> None:
    admin = psycopg2.connect(local.PG_ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        for name in DATABASES.values():
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
    base_env = {**os.environ, "PYTHONPATH": str(local.SERVICES_DIR)}
    for service, name in DATABASES.items():
        url = local.database_url(name)
        env = {**base_env, "ADMIN_DATABASE_URL": local.PG_ADMIN_URL, "APP_DATABASE_URL": url}
        subprocess.run([sys.executable, "-m", "common.provision"], env=env, check=True, capture_output=True)
        subprocess.run(
            [sys.executable, "-m", MIGRATIONS[service]],
            env={**base_env, "DATABASE_URL": url},
            cwd=local.SERVICES_DIR / service,
            check=True,
            capture_output=True,
        )
    seed_movies.seed(local.database_url(DATABASES["inventory"]))


def start_stack(layout: Layout, log: Path) -> Stack:
    stack = Stack(layout)
    ports = {name: free_port() for name in ("gateway", "inventory", "billing", "worker")}
    stack.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    common_env = {**os.environ, "LOG_LEVEL": "INFO", "PYTHONPATH": str(local.SERVICES_DIR)}
    common_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    billing_env = {
        "DATABASE_URL": local.database_url(DATABASES["billing"]),
        "AMQP_URL": local.AMQP_URL,
        "BILLING_QUEUE": QUEUE,
    }
    envs = {
        "inventory": {"DATABASE_URL": local.database_url(DATABASES["inventory"])},
        "billing": billing_env,
        "worker": billing_env,
        "gateway": {"INVENTORY_URL": stack.urls["inventory"], "BILLING_URL": stack.urls["billing"]},
    }
    output = log.open("ab")
    try:
        for name in ("inventory", "billing", "worker", "gateway"):
            env = {**common_env, **envs[name], "PORT": str(ports[name])}
            if name == "worker":
                args, folder = [sys.executable, "-m", "billing.worker"], "billing"
            else:
                folder, app = GUNICORN[name]
                args = [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"]
                if layout.workers is not None:
                    env["GUNICORN_WORKERS"] = str(layout.workers[name])
                if layout.worker_class is not None:  # command-line flags override the config file
                    args += ["--worker-class", layout.worker_class[name], "--threads", str(layout.threads)]
                args.append(app)
            process = processes.start(args, local.SERVICES_DIR / folder, env, output)
            stack.running.append(process)
            stack.pids[name] = process.pid
            processes.wait_healthy(process, stack.urls[name] + "/health")
    except BaseException:
        stack.stop()
        raise
    return stack


def order_latencies(since: datetime) -> list[float]:
    """POST-to-processed latency (ms) of every order created since `since`, from the database."""
    conn = psycopg2.connect(local.database_url(DATABASES["billing"]))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM orders WHERE created_at >= %s AND status <> 'completed'", (since,)
            )
            not_completed = cur.fetchone()[0]
            if not_completed:  # every benchmark order is valid and new: anything else is a bug
                raise RuntimeError(f"{not_completed} benchmark orders did not complete")
            cur.execute(
                "SELECT extract(epoch FROM processed_at - created_at) * 1000 FROM orders "
                "WHERE created_at >= %s",
                (since,),
            )
            return [float(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()


def wait_for_drain(since: datetime, timeout: float = 300) -> None:
    conn = psycopg2.connect(local.database_url(DATABASES["billing"]))
    conn.autocommit = True
    try:
        deadline = time.monotonic() + timeout
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute(
                    "SELECT count(*) FROM orders WHERE created_at >= %s AND status = 'pending'", (since,)
                )
                if cur.fetchone()[0] == 0:
                    return
                time.sleep(0.5)
        raise RuntimeError("orders still pending after the POST run")
    finally:
        conn.close()


def single_order_latency(gateway: str, samples: int) -> list[float]:
    """One client: POST an order, poll it every 2 ms until processed; client-observed ms."""
    latencies = []
    for n in range(samples):
        # User ids above the wrk script's ranges: every order is new, so it completes.
        body = f'{{"user_id": {2_000_000_000 + n}, "movie_id": 2, "price": "1.00"}}'.encode()
        request = urllib.request.Request(  # noqa: S310 - local http URL
            gateway + "/api/orders", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local URL
            location = response.headers["Location"]
        while True:
            with urllib.request.urlopen(gateway + location, timeout=10) as response:  # noqa: S310
                if b'"pending"' not in response.read():
                    break
            time.sleep(0.002)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]
    )


def machine() -> dict[str, str]:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    admin = psycopg2.connect(local.PG_ADMIN_URL)  # the server the stack runs on, not a client's version
    try:
        pg = admin.server_version
    finally:
        admin.close()
    return {
        "cpu": f"{os.cpu_count()} x {model}",
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": f"{pg // 10000}.{pg % 10000}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        f"{WAKE_UP} at start": wake_up(),
    }


# Measured before and after the runs: a slower wake-up means a slower stack (devtools.cpu).
WAKE_UP = "process wake-up round trip (pipe ping-pong)"


def wake_up() -> str:
    return f"{cpu.wake_up_round_trip_us():.1f} µs"


_EACH = f"{DEFAULT_GUNICORN_WORKERS} workers each"
LAYOUTS = {
    "defaults": Layout(f"the defaults (common.gunicorn_base); {_EACH}"),
    "sync": Layout(f"sync, {_EACH}", each(DEFAULT_GUNICORN_WORKERS), each("sync")),
    "gthread-threads": Layout(
        f"gthread, {DEFAULT_GUNICORN_WORKERS} workers x 4 threads each",
        each(DEFAULT_GUNICORN_WORKERS),
        each("gthread"),
        4,
    ),
}


# Each POST run's user ids start at its sequence number times this (post_order.lua), so no run
# repeats a (user, movie) pair; user ids stay below 2^31 for up to 40 POST runs per bench.
POST_RUN_OFFSET = 50_000_000
MEASUREMENTS = ("direct", "gateway", "post")
_post_runs = itertools.count()


@dataclass(frozen=True)
class Run:
    """One wrk run and the CPU each process group used for it, in ms per request (wrk included)."""

    result: wrk.Result
    cpu_ms: dict[str, float]


@dataclass(frozen=True)
class Summary:
    """One measurement over several rounds: medians, and each round's requests/s."""

    runs: tuple[Run, ...]

    @property
    def requests_per_second(self) -> float:
        return statistics.median(r.result.requests_per_second for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.result.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.result.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.result.errors for r in self.runs)

    @property
    def per_round(self) -> str:
        return ", ".join(f"{r.result.requests_per_second:.0f}" for r in self.runs)

    def cpu_ms(self, group: str) -> float:
        return statistics.median(r.cpu_ms.get(group, 0.0) for r in self.runs)


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured_run(
    stack: Stack, start: Callable[[], wrk.Result], settle: Callable[[], None] = lambda: None
) -> Run:
    """Run `start` (a wrk run), then `settle` (work the run left behind, e.g. queued orders), and
    account the CPU every process group used meanwhile to the run's requests."""
    before, children_before = cpu.snapshot(stack.pids), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = start()
    settle()
    used = cpu.difference(before, cpu.snapshot(stack.pids))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, reaped by now
    used["wrk"] = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    return Run(result, {group: seconds * 1000 / max(result.requests, 1) for group, seconds in used.items()})


def measure_round(stack: Stack, seconds: int, since: datetime) -> dict[str, Run]:
    """GET directly on inventory, GET through the gateway, POST through the gateway; the POST run
    includes waiting until the worker has finished every order since `since` (its CPU counts)."""

    def load(service: str, path: str, **script: object) -> Callable[[], wrk.Result]:
        url = stack.urls[service] + path
        return lambda: wrk.run(url, connections=CONNECTIONS, seconds=seconds, **script)

    return {
        "direct": measured_run(stack, load("inventory", "/movies")),
        "gateway": measured_run(stack, load("gateway", "/api/movies")),
        "post": measured_run(
            stack,
            load(
                "gateway",
                "/api/orders",
                script=HERE / "post_order.lua",
                script_args=(str(next(_post_runs) * POST_RUN_OFFSET),),
            ),
            settle=lambda: wait_for_drain(since),
        ),
    }


def progress(runs: dict[str, Run]) -> str:
    return ", ".join(f"{what} {run.result.requests_per_second:.0f}/s" for what, run in runs.items())


def summarise(rounds: list[dict[str, Run]]) -> dict[str, Summary]:
    return {what: Summary(tuple(r[what] for r in rounds)) for what in MEASUREMENTS}


def headline(layout: Layout, seconds: int, rounds: int, log: Path) -> dict[str, object]:
    """The issue's four measurements on one stack of the chosen layout, in `rounds` rounds, so
    that a noisy minute on a shared machine hits every measurement rather than one."""
    stack = start_stack(layout, log)
    try:
        time.sleep(1)
        since = datetime.now(UTC)
        measured = []
        for round_number in range(rounds):
            measured.append(measure_round(stack, seconds, since))
            print(f"bench:   headline round {round_number + 1}: {progress(measured[-1])}", file=sys.stderr)
        results: dict[str, object] = dict(summarise(measured))
        results["e2e_loaded"] = order_latencies(since)
        results["e2e_single"] = single_order_latency(stack.urls["gateway"], 100)
        return results
    finally:
        stack.stop()


def compare(keys: list[str], rounds: int, seconds: int, log: Path) -> dict[str, dict[str, Summary]]:
    """Every measurement on every layout, in rounds whose order rotates, so a noisy minute on a
    shared machine hits every layout rather than one."""
    measured: dict[str, list[dict[str, Run]]] = {key: [] for key in keys}
    for round_number in range(rounds):
        rotation = keys[round_number % len(keys) :] + keys[: round_number % len(keys)]
        for key in rotation:
            stack = start_stack(LAYOUTS[key], log)
            try:
                time.sleep(1)
                measured[key].append(measure_round(stack, seconds, datetime.now(UTC)))
            finally:
                stack.stop()
            print(f"bench:   round {round_number + 1} {key}: {progress(measured[key][-1])}", file=sys.stderr)
    return {key: summarise(runs) for key, runs in measured.items()}


CPU_GROUPS = {
    "wrk": "wrk (the load generator)",
    "gateway": "api-gateway (gunicorn)",
    "inventory": "inventory (gunicorn)",
    "billing": "billing API (gunicorn)",
    "worker": "billing worker (consumer + outbox relay)",
    "postgresql": "PostgreSQL",
    "rabbitmq": "RabbitMQ",
}


def total_cpu(summary: Summary) -> float:
    return sum(summary.cpu_ms(group) for group in CPU_GROUPS)


def report(
    layout: Layout,
    main: dict[str, object],
    comparison: dict[str, dict[str, Summary]],
    info: dict[str, str],
    seconds: int,
) -> str:
    direct, gateway, post = main["direct"], main["gateway"], main["post"]
    loaded, single = main["e2e_loaded"], main["e2e_single"]
    ratio_get = gateway.requests_per_second / direct.requests_per_second
    ratio_post = post.requests_per_second / gateway.requests_per_second
    worst_p99 = max(direct.p99_ms, gateway.p99_ms, post.p99_ms)
    post_mean_ms = CONNECTIONS / post.requests_per_second * 1000
    post_needed = CONNECTIONS / (0.1 / (post.p99_ms / post_mean_ms))  # rate whose p99 would be 100 ms

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    compared = [summary for layout_runs in comparison.values() for summary in layout_runs.values()]
    failed = sum(r.errors for r in [*compared, direct, gateway, post])
    warning = (
        [f"**{failed} requests failed during these runs (see the errors columns): the figures are not",
         "representative; find the cause in the service logs and re-run.**", ""]
        if failed
        else []
    )  # fmt: skip

    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` (services/devtools/bench.py) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "wrk, 2 threads, 32 connections, "
        f"{seconds} s per run; every service under gunicorn with JSON access logs at INFO, PostgreSQL",
        "and RabbitMQ on the same machine. Numbers from a busy shared machine are noisy: the headline",
        f"figures are medians of {len(direct.runs)} interleaved rounds (each round's requests/s are listed),",
        "and the ratios are taken between those medians. Re-run on a quiet machine before concluding.",
        "Every request crosses processes several times, so the machine section gives the time one",
        "process takes to wake another and be woken back, before and after the runs: a slow or",
        "changing figure there marks a slow or changing host.",
        "",
        *warning,
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in info.items()],
        "",
        f"## Results ({layout.name})",
        "",
        "| what | requests/s | p50 ms | p99 ms | errors | requests/s per round |",
        "|---|---:|---:|---:|---:|---|",
        *[
            f"| {label} | {r.requests_per_second:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} "
            f"| {r.per_round} |"
            for label, r in (
                ("GET /movies directly on inventory", direct),
                ("GET /api/movies through the gateway", gateway),
                ("POST /api/orders through the gateway", post),
            )
        ],
        f"| order POST → completed, under the POST load ({len(loaded)} orders) | | "
        f"{percentile(loaded, 50):.1f} | {percentile(loaded, 99):.1f} | | |",
        f"| order POST → completed, one client polling every 2 ms ({len(single)} orders) | | "
        f"{percentile(single, 50):.1f} | {percentile(single, 99):.1f} | | |",
        "",
        "## Where the CPU goes",
        "",
        "CPU time per request in ms, by process group (medians over the rounds; read from /proc by",
        "devtools/cpu.py).",
        "The POST column includes the orders' asynchronous work: the run lasts until the worker has",
        "finished every order. The two cores give 2,000 ms of CPU per second, so requests/s is",
        "about 2,000 / the total.",
        "",
        "| process group | GET direct | GET via gateway | POST via gateway |",
        "|---|---:|---:|---:|",
        *[
            f"| {label} | {direct.cpu_ms(group):.2f} | {gateway.cpu_ms(group):.2f} "
            f"| {post.cpu_ms(group):.2f} |"
            for group, label in CPU_GROUPS.items()
        ],
        f"| total | {total_cpu(direct):.2f} | {total_cpu(gateway):.2f} | {total_cpu(post):.2f} |",
        "",
        "## Targets",
        "",
        f"- gateway GET ≥ 45 % of direct inventory: {ratio_get:.1%}, {verdict(ratio_get >= 0.45)}",
        f"- POST /api/orders ≥ 50 % of gateway GET: {ratio_post:.1%}, {verdict(ratio_post >= 0.50)}",
        f"- p99 ≤ 100 ms at 32 connections (worst of the three wrk runs): {worst_p99:.1f} ms, "
        f"{verdict(worst_p99 <= 100)}",
        "",
        "Reading the p99 target: wrk keeps 32 requests in flight, so by Little's law the mean latency",
        f"is 32 / throughput. POST at {post.requests_per_second:.0f} requests/s has a mean near "
        f"{post_mean_ms:.0f} ms and a p99 {post.p99_ms / post_mean_ms:.2f} times that, so a p99 of 100 ms",
        f"needs about {post_needed:.0f} requests/s, {post_needed / gateway.requests_per_second:.0%} of "
        "the gateway GET's rate: the POST target and this one",
        'stand or fall together. Where POST\'s time goes: the table "Where the CPU goes" above.',
        "",
        "## Worker class and count (how the defaults were chosen)",
        "",
        f"The same three runs, {seconds // 2 or 1} s each, on every layout, in rounds whose order",
        "rotates; medians over the rounds, then each round's requests/s (direct / gateway / POST).",
        "Between layouts whose throughput is within noise of each other, p99 decides.",
        "",
        "| layout | direct req/s | gateway req/s | POST req/s | gateway/direct | POST/gateway "
        "| gateway p99 ms | POST p99 ms | per round |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, summary in comparison.items():
        d, g, p = summary["direct"], summary["gateway"], summary["post"]
        lines.append(
            f"| {LAYOUTS[key].name} | {d.requests_per_second:.0f} | {g.requests_per_second:.0f} "
            f"| {p.requests_per_second:.0f} | {g.requests_per_second / d.requests_per_second:.0%} "
            f"| {p.requests_per_second / g.requests_per_second:.0%} | {g.p99_ms:.0f} | {p.p99_ms:.0f} "
            f"| {d.per_round} / {g.per_round} / {p.per_round} |"
        )
    lines += [
        "",
        "The end-to-end latency under load is measured from the orders' own timestamps",
        "(`processed_at - created_at`, both set by PostgreSQL); the single-client figure is what a",
        "client sees, polling included.",
        "",
    ]
    return "\n".join(lines)


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)  # unwinds through the `finally` blocks that stop the services


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each headline wrk run")
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="layouts to compare (comma-separated)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the headline and comparison runs")
    parser.add_argument("--chosen", default="defaults", help="the layout of the headline runs")
    parser.add_argument("--output", type=Path, help="write the markdown report here (default: stdout)")
    args = parser.parse_args()
    keys = args.layouts.split(",")
    unknown = [key for key in [*keys, args.chosen] if key not in LAYOUTS]
    if unknown:
        parser.error(f"unknown layout(s) {', '.join(unknown)}; known: {', '.join(LAYOUTS)}")
    info = machine()
    fresh_databases()
    log = Path(tempfile.mkstemp(prefix="bench-", suffix=".log")[1])
    print(f"bench: service logs in {log}", file=sys.stderr)
    print(f"bench: comparing {', '.join(keys)} over {args.rounds} rounds", file=sys.stderr)
    comparison = compare(keys, args.rounds, max(args.seconds // 2, 1), log)
    print(f"bench: headline runs on {LAYOUTS[args.chosen].name}", file=sys.stderr)
    main_runs = headline(LAYOUTS[args.chosen], args.seconds, args.rounds, log)
    info[f"{WAKE_UP} at the end"] = wake_up()
    text = report(LAYOUTS[args.chosen], main_runs, comparison, info, args.seconds)
    if args.output:
        args.output.write_text(text)
        print(f"bench: wrote {args.output}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
