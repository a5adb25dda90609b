"""`make bench`: the stack as `make dev` starts it, driven by wrk; writes docs/benchmarks.md.

wrk (2 threads, 32 keep-alive connections) drives GET /movies directly on inventory, GET
/api/movies and POST /api/orders through the gateway; during the POST run one more client times
orders from POST to reading `completed`. Rounds interleave: round 1 of every path, then round 2.
Each round starts the stack with the tree's own devtools.bootstrap and Procfile (devtools.procfile's
from contract.yaml; a tree from before it, its services/Procfile) under honcho (what `make dev`
runs), so `--compare REV` runs a git worktree of REV the same way, alternating with this tree.
A benchmark, never a test: the report states machine and load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import operator
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import psycopg2

from devtools import bench_report, cpu, local, processes, wrk
from devtools.bench_report import CONNECTIONS, Run

BIN = Path(sys.executable).parent
ROOT = local.SERVICES_DIR.parent
ROUTES = {  # each path's workload and URL path
    "inventory GET": ("inventory", "/movies"),
    "gateway GET": ("api-gateway", "/api/movies"),
    "gateway POST": ("api-gateway", "/api/orders"),  # with post_order.lua
}
# The Procfile's processes, told apart by their command lines: the CPU table's groups.
COMMANDS = {
    "gateway": "api_gateway:create_app",
    "inventory": "inventory:create_app",
    "billing": "billing:create_app",
    "worker": "billing.worker",
}


def schedule(trees: list[str], rounds: int) -> list[tuple[int, str]]:
    """(round, tree) in the order they run; the trees' order turns each round, so neither always
    runs on the machine's first or last minute."""
    return [(r, trees[(i + r) % len(trees)]) for r in range(rounds) for i in range(len(trees))]


def run(*args: str, **options: object) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, **options).stdout


@contextlib.contextmanager
def stack(services: Path, log):
    """The stack of the tree whose services/ is `services`, as its `make dev` starts it; yields the
    pid of each Procfile process."""
    env = {**os.environ, "PYTHONPATH": str(services), "PATH": f"{BIN}:{os.environ['PATH']}"}
    run(sys.executable, "-m", "devtools.bootstrap", cwd=services, env=env)
    with tempfile.TemporaryDirectory(prefix="bench-procfile-") as scratch:
        procfile = services / "Procfile"  # a tree from before devtools.procfile: its own, make dev's env
        if (services / "devtools" / "procfile.py").is_file():
            procfile = Path(scratch) / "Procfile"
            run(sys.executable, "-m", "devtools.procfile", str(procfile), cwd=services, env=env)
        else:
            for line in run(sys.executable, "-m", "devtools.local", cwd=services, env=env).splitlines():
                key, _, value = line.partition("=")  # shell assignments, as its `make dev` evals them
                env[key] = "".join(shlex.split(value))
        start = [str(BIN / "honcho"), "start", "-f", str(procfile), "-d", str(services)]
        honcho = processes.start(start, services, env, log)
        try:
            for process in local.PORTS:
                processes.wait_healthy(honcho, local.url(process) + "/health", timeout=60)
            pids = {"honcho": honcho.pid}
            for pid, command in cpu.descendants(honcho.pid).items():  # a master before its workers
                for name in (name for name, mark in COMMANDS.items() if mark in command):
                    pids.setdefault(name, pid)
            yield pids
        finally:
            processes.stop(honcho)


def billing_db(query: str, *args: object) -> tuple:
    with contextlib.closing(psycopg2.connect(local.database_url(local.DATABASES["billing"]))) as conn:
        with conn, conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()


def time_orders(first_user: int, stop: threading.Event) -> list[float]:
    """One client: POST an order (movie 2; wrk's are movie 1), poll it every 2 ms until decided."""
    gateway, latencies = local.url("api-gateway"), []
    while not stop.is_set():
        body = json.dumps({"user_id": first_user + len(latencies), "movie_id": 2, "price": "1.00"}).encode()
        post = urllib.request.Request(f"{gateway}/api/orders", body, {"Content-Type": "application/json"})  # noqa: S310
        started = time.perf_counter()
        with urllib.request.urlopen(post, timeout=10) as answer:  # noqa: S310 - local http URL
            order = json.load(answer)
        while order["status"] == "pending":
            time.sleep(0.002)
            with urllib.request.urlopen(f"{gateway}/api/orders/{order['id']}", timeout=10) as answer:  # noqa: S310
                order = json.load(answer)
        if order["status"] != "completed":
            raise RuntimeError(f"a benchmark order ended {order}")
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def post_run(url: str, seconds: int) -> tuple[wrk.Result, list[float], tuple]:
    """wrk's POST run, one client timing orders alongside it, and the orders' own timings once the
    worker has decided every one (their queued work belongs to the run's CPU)."""
    (first,) = billing_db("SELECT coalesce(max(user_id), 0) + 1 FROM orders")  # each pair is new
    stop, script = threading.Event(), Path(__file__).with_name("post_order.lua")
    with ThreadPoolExecutor(1) as pool:
        sampled = pool.submit(time_orders, first, stop)
        try:
            result = wrk.run(url, connections=CONNECTIONS, seconds=seconds, script=script,
                             script_args=(str(first), str(wrk.THREADS)))  # fmt: skip
        finally:
            stop.set()
    deadline = time.monotonic() + 300
    while billing_db("SELECT count(*) FROM orders WHERE user_id >= %s AND status = 'pending'", first)[0]:
        if time.monotonic() > deadline:
            raise RuntimeError("orders still pending 300 s after the POST run")
        time.sleep(0.5)
    processed = billing_db(
        "SELECT count(*), percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM"
        " processed_at - created_at)::float8 * 1000) FROM orders WHERE user_id >= %s", first)  # fmt: skip
    return result, sampled.result(), processed


def measure(path: str, pids: dict[str, int], seconds: int) -> Run:
    """One run of `path` with the CPU each process used for it, and what the rest of the machine used."""
    url = local.url(ROUTES[path][0]) + ROUTES[path][1]
    before, wrk_before = cpu.snapshot(pids), cpu.children_seconds()
    machine_before, started = cpu.machine(), time.monotonic()
    if path == "gateway POST":
        result, orders, processed = post_run(url, seconds)
    else:
        result, orders, processed = wrk.run(url, connections=CONNECTIONS, seconds=seconds), [], ()
    used = cpu.difference(before, cpu.snapshot(pids)) | {"wrk": cpu.children_seconds() - wrk_before}
    used["honcho"] -= sum(used[name] for name in COMMANDS)  # its own share: it relays every log line
    (busy, stolen), elapsed = map(operator.sub, cpu.machine(), machine_before), time.monotonic() - started
    others = ((busy - sum(used.values())) / elapsed, stolen / elapsed)  # cores: not the stack, other guests
    per_request = {name: s * 1000 / max(result.requests, 1) for name, s in used.items()}
    return Run(result, per_request, others, orders, processed)


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    with contextlib.closing(psycopg2.connect(local.PG_ADMIN_URL)) as conn:
        pg = conn.server_version
    return {
        "CPU": f"{os.cpu_count()} cores, {model}",
        "load average at start (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "versions": f"Linux {platform.release()}, Python {platform.python_version()}, PostgreSQL "
        f"{pg // 10000}.{pg % 10000}, gunicorn {metadata.version('gunicorn')}, "
        + subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0],  # exits 1
    }


def tree_name(services: Path) -> str:
    changed = run("git", "-C", str(services), "status", "--porcelain", "--", ".").strip()
    head = run("git", "-C", str(services), "rev-parse", "--short", "HEAD").strip()
    return f"commit {head}" + (" with uncommitted changes under services/" if changed else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare", metavar="REV", help="also benchmark a git worktree of this revision")
    parser.add_argument("--output", type=Path, help="the markdown report (default: stdout)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop the stack, remove the worktree
    info = machine()
    log = Path(tempfile.mkstemp(prefix="bench-", suffix=".log")[1])
    print(f"bench: service logs in {log}", file=sys.stderr)
    with contextlib.ExitStack() as cleanup:
        trees = {"this tree": local.SERVICES_DIR}
        info["this tree"] = f"{tree_name(local.SERVICES_DIR)}, the working tree the benchmark ran from"
        if args.compare:
            folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))) / "tree"
            run("git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), args.compare)
            cleanup.callback(run, "git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder))
            trees[args.compare] = folder / "services"
            info[args.compare] = f"{tree_name(folder / 'services')}, a git worktree of `{args.compare}`"
        measured = {tree: {path: [] for path in ROUTES} for tree in trees}
        with log.open("ab") as output:
            for round_number, tree in schedule(list(trees), args.rounds):
                with stack(trees[tree], output) as pids:
                    for path in ROUTES:
                        measured[tree][path].append(done := measure(path, pids, args.seconds))
                        rate = done.result.requests_per_second
                        print(f"bench: round {round_number + 1} {tree} {path}: {rate:.0f}/s", file=sys.stderr)
    info["load average at the end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = bench_report.render(info, measured, args.seconds)
    if args.output:
        args.output.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
