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
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg2

from devtools import local, processes, seed_movies, wrk

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
    """How many gunicorn workers each service gets, and of which class."""

    name: str
    workers: dict[str, int]
    worker_class: str = "sync"
    threads: int = 1


@dataclass
class Stack:
    layout: Layout
    urls: dict[str, str] = field(default_factory=dict)
    running: list[subprocess.Popen] = field(default_factory=list)

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
                env["GUNICORN_WORKERS"] = str(layout.workers[name])
                args = [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"]
                # Command-line flags override the config file's defaults.
                args += ["--worker-class", layout.worker_class, "--threads", str(layout.threads)]
                args.append(app)
            process = processes.start(args, local.SERVICES_DIR / folder, env, output)
            stack.running.append(process)
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
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": f"{os.cpu_count()} x {cpu}",
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


LAYOUTS = {
    "sync-4": Layout("sync, 4 workers each", {"gateway": 4, "inventory": 4, "billing": 4}),
    "sync-6": Layout("sync, 6 workers each", {"gateway": 6, "inventory": 6, "billing": 6}),
    "gthread-2x4": Layout(
        "gthread, 2 workers x 4 threads", {"gateway": 2, "inventory": 2, "billing": 2}, "gthread", 4
    ),
    "gthread-4x4": Layout(
        "gthread, 4 workers x 4 threads", {"gateway": 4, "inventory": 4, "billing": 4}, "gthread", 4
    ),
}


def measure_gets(stack: Stack, seconds: int) -> dict[str, wrk.Result]:
    return {
        "direct": wrk.run(stack.urls["inventory"] + "/movies", connections=CONNECTIONS, seconds=seconds),
        "gateway": wrk.run(stack.urls["gateway"] + "/api/movies", connections=CONNECTIONS, seconds=seconds),
    }


# Each POST round's user ids start here times the round number (post_order.lua), so no round
# repeats a (user, movie) pair; user ids stay below 2^31 for up to 20 rounds.
POST_ROUND_OFFSET = 100_000_000
HEADLINE = ("direct", "gateway", "post")


@dataclass(frozen=True)
class Summary:
    """One measurement over several rounds: medians, and each round's requests/s."""

    runs: tuple[wrk.Result, ...]

    @property
    def requests_per_second(self) -> float:
        return statistics.median(r.requests_per_second for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    @property
    def per_round(self) -> str:
        return ", ".join(f"{r.requests_per_second:.0f}" for r in self.runs)


def headline(layout: Layout, seconds: int, rounds: int, log: Path) -> dict[str, object]:
    """The issue's four measurements on one stack of the chosen layout, in `rounds` rounds of
    direct GET, gateway GET and POST, so that a noisy minute on a shared machine hits every
    measurement rather than one; each round waits for the worker to finish the round's orders."""
    stack = start_stack(layout, log)
    runs: dict[str, list[wrk.Result]] = {what: [] for what in HEADLINE}
    try:
        time.sleep(1)
        since = datetime.now(UTC)
        for round_number in range(rounds):
            for what, result in measure_gets(stack, seconds).items():
                runs[what].append(result)
            runs["post"].append(
                wrk.run(
                    stack.urls["gateway"] + "/api/orders",
                    connections=CONNECTIONS,
                    seconds=seconds,
                    script=HERE / "post_order.lua",
                    script_args=(str(round_number * POST_ROUND_OFFSET),),
                )
            )
            wait_for_drain(since)
            print(
                f"bench:   headline round {round_number + 1}: "
                + ", ".join(f"{what} {runs[what][-1].requests_per_second:.0f}/s" for what in HEADLINE),
                file=sys.stderr,
            )
        results: dict[str, object] = {what: Summary(tuple(runs[what])) for what in HEADLINE}
        results["e2e_loaded"] = order_latencies(since)
        results["e2e_single"] = single_order_latency(stack.urls["gateway"], 100)
        return results
    finally:
        stack.stop()


def compare(keys: list[str], rounds: int, seconds: int, log: Path) -> dict[str, list[dict[str, wrk.Result]]]:
    """GET runs of every layout, in rounds whose order rotates, so a noisy minute on a shared
    machine hits every layout rather than one."""
    results: dict[str, list[dict[str, wrk.Result]]] = {key: [] for key in keys}
    for round_number in range(rounds):
        rotation = keys[round_number % len(keys) :] + keys[: round_number % len(keys)]
        for key in rotation:
            stack = start_stack(LAYOUTS[key], log)
            try:
                time.sleep(1)
                results[key].append(measure_gets(stack, seconds))
            finally:
                stack.stop()
            print(f"bench:   round {round_number + 1} {key}: {results[key][-1]}", file=sys.stderr)
    return results


def median_rps(runs: list[dict[str, wrk.Result]], what: str) -> float:
    return statistics.median(run[what].requests_per_second for run in runs)


def report(
    layout: Layout,
    main: dict[str, object],
    comparison: dict[str, list[dict[str, wrk.Result]]],
    info: dict[str, str],
    seconds: int,
) -> str:
    direct, gateway, post = main["direct"], main["gateway"], main["post"]
    loaded, single = main["e2e_loaded"], main["e2e_single"]
    ratio_get = gateway.requests_per_second / direct.requests_per_second
    ratio_post = post.requests_per_second / gateway.requests_per_second
    worst_p99 = max(direct.p99_ms, gateway.p99_ms, post.p99_ms)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    compared = [r for runs in comparison.values() for run in runs for r in run.values()]
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
        "",
        *warning,
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in info.items()],
        "",
        f"## Results ({layout.name}, the defaults)",
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
        "## Targets",
        "",
        f"- gateway GET ≥ 45 % of direct inventory: {ratio_get:.0%}, {verdict(ratio_get >= 0.45)}",
        f"- POST /api/orders ≥ 50 % of gateway GET: {ratio_post:.0%}, {verdict(ratio_post >= 0.50)}",
        f"- p99 ≤ 100 ms at 32 connections (worst of the three wrk runs): {worst_p99:.1f} ms, "
        f"{verdict(worst_p99 <= 100)}",
        "",
        "Reading the p99 target: wrk keeps 32 requests in flight, so by Little's law the mean latency",
        f"is 32 / throughput. POST at {post.requests_per_second:.0f} requests/s has a mean near "
        f"{CONNECTIONS / post.requests_per_second * 1000:.0f} ms, so a p99 of 100 ms",
        f"needs more than {CONNECTIONS / 0.1:.0f} requests/s: POST faster than the gateway GET, which does",
        "strictly less work (one HTTP hop and one query; POST adds a transaction, the relay's publish and",
        "the worker's transaction on the same two cores).",
        "",
        "## Worker class and count (how the defaults were chosen)",
        "",
        f"GET runs of {seconds // 2 or 1} s per layout, in rounds whose order rotates; medians over",
        "the rounds, then each round's requests/s. The p99 column decides between layouts whose",
        "throughput is within noise of each other.",
        "",
        "| layout | direct req/s | gateway req/s | gateway/direct | gateway p99 ms | direct, per round "
        "| gateway, per round |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for key, runs in comparison.items():
        direct_rps, gateway_rps = median_rps(runs, "direct"), median_rps(runs, "gateway")
        per_round = [
            ", ".join(f"{run[what].requests_per_second:.0f}" for run in runs)
            for what in ("direct", "gateway")
        ]
        lines.append(
            f"| {LAYOUTS[key].name} | {direct_rps:.0f} | {gateway_rps:.0f} | {gateway_rps / direct_rps:.0%} "
            f"| {statistics.median(run['gateway'].p99_ms for run in runs):.0f} "
            f"| {per_round[0]} | {per_round[1]} |"
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
    parser.add_argument("--chosen", default="sync-4", help="the layout of the defaults (headline runs)")
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
    text = report(LAYOUTS[args.chosen], main_runs, comparison, info, args.seconds)
    if args.output:
        args.output.write_text(text)
        print(f"bench: wrote {args.output}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
