"""docs/benchmarks.md from `make bench`'s runs (devtools/bench.py): medians and per-round figures,
CPU per request by process, and the issue's targets, met or missed with where the CPU goes."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime

from devtools import wrk

CONNECTIONS = 32
Verdict = tuple[str, str, bool, str]  # target, figure, met, the path whose CPU explains it


@dataclass(frozen=True)
class Run:
    result: wrk.Result
    cpu_ms: dict[str, float]  # CPU ms per request by process, the run's queued work included
    # Cores the rest of the machine used meanwhile: other processes (this script's own order client
    # included), and time the host gave other guests (steal).
    others: tuple[float, float] = (0.0, 0.0)
    orders_ms: list[float] = field(default_factory=list)  # POST -> read completed, POST runs only
    processed: tuple = ()  # POST runs: (orders, [p50, p99] ms from created_at to processed_at)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else max(values)


def median(runs: list[Run], figure: str) -> float:
    return statistics.median(getattr(run.result, figure) for run in runs)


def cpu_ms(runs: list[Run], process: str | None = None) -> float:
    """Median CPU ms per request of one process (None: of all of them)."""
    return statistics.median(sum(r.cpu_ms.values()) if process is None else r.cpu_ms[process] for r in runs)


def targets(runs: dict[str, list[Run]]) -> list[Verdict]:
    rate = {path: median(path_runs, "requests_per_second") for path, path_runs in runs.items()}
    direct, get, post = rate["inventory GET"], rate["gateway GET"], rate["gateway POST"]
    worst, slowest = max((median(path_runs, "p99_ms"), path) for path, path_runs in runs.items())
    orders = p99([ms for run in runs["gateway POST"] for ms in run.orders_ms])
    return [
        (
            "gateway GET ≥ 45 % of direct inventory",
            f"{get / direct:.1%}",
            get >= 0.45 * direct,
            "gateway GET",
        ),
        ("gateway POST ≥ 50 % of gateway GET", f"{post / get:.1%}", post >= 0.5 * get, "gateway POST"),
        (f"p99 ≤ 100 ms at {CONNECTIONS} connections", f"{worst:.0f} ms ({slowest})", worst <= 100, slowest),
        ("order POST → completed p99 ≤ 100 ms", f"{orders:.0f} ms", orders <= 100, "gateway POST"),
    ]


def row(*cells: object) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"


def results(path: str, tree: str, runs: list[Run]) -> str:
    rate, p50, p99_ms = (median(runs, figure) for figure in ("requests_per_second", "p50_ms", "p99_ms"))
    rounds = ", ".join(
        f"{r.result.requests_per_second:.0f} ({r.result.p99_ms:.0f}; {r.others[0]:.1f}+{r.others[1]:.1f})"
        for r in runs
    )
    return row(
        path, tree, f"{rate:.0f}", f"{p50:.1f}", f"{p99_ms:.1f}", sum(r.result.errors for r in runs), rounds
    )


def orders(tree: str, runs: list[Run]) -> str:
    every = [ms for run in runs for ms in run.orders_ms]
    rounds = ", ".join(f"{len(run.orders_ms)} orders (p99 {p99(run.orders_ms):.0f})" for run in runs)
    return row(
        "order POST → completed", tree, "", f"{statistics.median(every):.1f}", f"{p99(every):.1f}", "", rounds
    )


def processed(tree: str, runs: list[Run]) -> str:
    p50, p99_ms = (statistics.median(run.processed[1][i] for run in runs) for i in (0, 1))
    rounds = ", ".join(f"{run.processed[0]} orders (p99 {run.processed[1][1]:.0f})" for run in runs)
    return row("order created → processed (database)", tree, "", f"{p50:.1f}", f"{p99_ms:.1f}", "", rounds)


def explain(tree: str, verdicts: list[Verdict], measured: dict[str, list[Run]]) -> list[str]:
    """For each path behind a missed target: its CPU per request and the three processes that use most."""
    lines = []
    for path in dict.fromkeys(path for _, _, met, path in verdicts if not met):
        missed = "; ".join(f"{name} ({figure})" for name, figure, met, p in verdicts if p == path and not met)
        runs = measured[path]
        top = sorted(runs[0].cpu_ms, key=lambda process: -cpu_ms(runs, process))[:3]
        spent = ", ".join(f"{process} {cpu_ms(runs, process):.2f}" for process in top)
        lines.append(
            f"- {tree} missed {missed}: {path} costs {cpu_ms(runs):.2f} ms of CPU a request, most in {spent}."
        )
    return lines


def render(info: dict[str, str], measured: dict[str, dict[str, list[Run]]], seconds: int) -> str:
    trees = list(measured)
    columns = [(path, tree) for path in measured[trees[0]] for tree in trees]
    processes = sorted(measured[trees[0]]["gateway POST"][0].cpu_ms)
    verdicts = {tree: targets(measured[tree]) for tree in trees}
    return "\n".join([
        "# Benchmarks", "",
        f"Written by `make bench` (services/devtools/bench.py) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC:",
        f"wrk, {wrk.THREADS} threads and {CONNECTIONS} keep-alive connections, {seconds} s a run, against",
        "the stack as `make dev` starts it (each tree's own devtools.bootstrap and Procfile under honcho,",
        "restarted for each round), PostgreSQL and RabbitMQ on the same machine. Rounds interleave paths",
        "and trees (round 1 of each, then round 2, ...) and the figures are medians over the rounds, so",
        "a busy minute on this shared machine hits every column rather than one.", "",
        "## Machine", "", *[f"- {key}: {value}" for key, value in info.items()], "",
        "## Results", "",
        row("path", "tree", "requests/s", "p50 ms", "p99 ms", "errors",
            "per round: requests/s (p99; other cores)"),
        row("---", "---", "---:", "---:", "---:", "---:", "---"),
        *[results(path, tree, measured[tree][path]) for path, tree in columns],
        *[orders(tree, measured[tree]["gateway POST"]) for tree in trees],
        *[processed(tree, measured[tree]["gateway POST"]) for tree in trees], "",
        "Per round, other cores: what the rest of the machine used meanwhile, in cores: other processes",
        "(this script's order client included) + time the host gave other guests (steal). The first order",
        "row (the target's figure) times one client that posts and then polls every 2 ms through the",
        "gateway under the POST load, so its POST and each poll queue behind wrk's connections there;",
        "the second times every order of the POST runs by its own timestamps in PostgreSQL: the worker's",
        "share alone.",
        "",
        "## Where the CPU goes", "",
        "CPU ms per request by process (medians over the rounds; devtools/cpu.py reads /proc). A POST run",
        "lasts until the worker has decided every order, so its column holds the orders' queued work;",
        "honcho is `make dev`'s process manager, relaying every log line. PostgreSQL and RabbitMQ count",
        "whole, anyone else's use of them included. Two cores give 2,000 ms of CPU a second: requests/s",
        "is near 2,000 / the total.", "",
        row("process", *(f"{path}, {tree}" for path, tree in columns)),
        row("---", *["---:"] * len(columns)),
        *[row(p, *(f"{cpu_ms(measured[tree][path], p):.2f}" for path, tree in columns)) for p in processes],
        row("total", *(f"{cpu_ms(measured[tree][path]):.2f}" for path, tree in columns)), "",
        "## Targets", "", row("target", *trees), row("---", *["---"] * len(trees)),
        *[row(name, *(f"{v[i][1]}, {'met' if v[i][2] else '**missed**'}" for v in verdicts.values()))
          for i, (name, *_) in enumerate(verdicts[trees[0]])], "",
        *[line for tree in trees for line in explain(tree, verdicts[tree], measured[tree])],
    ]).rstrip() + "\n"  # fmt: skip
