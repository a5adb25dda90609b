"""`make bench` (devtools/bench.py, bench_report.py, post_order.lua) without running the stack: the
order of its rounds, the orders its wrk script posts, the report and its target verdicts."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devtools import bench, bench_report, wrk
from devtools.bench_report import Run

PATHS = ("inventory GET", "gateway GET", "gateway POST")


def test_rounds_interleave_and_the_trees_take_turns_going_first() -> None:
    assert bench.schedule(["now"], 3) == [(0, "now"), (1, "now"), (2, "now")]
    assert bench.schedule(["now", "before"], 3) == [
        (0, "now"), (0, "before"), (1, "before"), (1, "now"), (2, "now"), (2, "before"),
    ]  # fmt: skip
    assert list(bench.ROUTES) == list(PATHS)  # the report's targets read these names


def test_the_wrk_script_posts_valid_orders_whose_users_never_repeat() -> None:
    bodies: list[dict] = []

    class Orders(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects

        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # wrk resets its connections when it stops

    server = Server(("127.0.0.1", 0), Orders)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        script = Path(bench.__file__).with_name("post_order.lua")
        wrk.run(f"http://127.0.0.1:{server.server_port}/api/orders", connections=4, seconds=1,
                script=script, script_args=("1000", str(wrk.THREADS)))  # fmt: skip
    finally:
        server.shutdown()
    users = [body["user_id"] for body in bodies]
    assert len(users) > 10 and len(set(users)) == len(users)
    assert min(users) >= 1000 and max(users) < 1000 + 2 * len(users)  # dense: ids stay far below 2^31
    assert {(body["movie_id"], body["price"]) for body in bodies} == {(1, "9.99")}


def runs(rate: float, p99: float, cpu: dict[str, float], orders: list[float] = ()) -> list[Run]:
    """Three rounds around `rate` and `p99` (the median round carries them exactly)."""
    return [
        Run(
            wrk.Result(rate * k, p99 / 2, p99 * k, int(rate * 10), 0),
            {**cpu, "wrk": 0.1},
            others=(0.5 * k + 0.01, 0.1),
            orders_ms=list(orders),
            processed=(int(rate * 10), [5.0 * k, 30.0 * k]) if orders else (),
        )
        for k in (0.9, 1.0, 1.1)
    ]


def tree(
    direct: float, get: float, post: float, post_p99: float, order_ms: list[float]
) -> dict[str, list[Run]]:
    return {
        "inventory GET": runs(direct, 20, {"inventory": 0.8, "gateway": 0.0, "billing": 0.0}),
        "gateway GET": runs(get, 40, {"inventory": 0.8, "gateway": 0.9, "billing": 0.0}),
        "gateway POST": runs(post, post_p99, {"inventory": 0.0, "gateway": 1.1, "billing": 2.5}, order_ms),
    }


MET = tree(1000, 500, 300, 80, [10.0] * 90 + [90.0] * 10)
MISSED = tree(1000, 400, 150, 150, [10.0] * 90 + [300.0] * 10)


def test_targets_met() -> None:
    assert [(figure, met) for _, figure, met, _ in bench_report.targets(MET)] == [
        ("50.0%", True), ("60.0%", True), ("80 ms (gateway POST)", True), ("90 ms", True),
    ]  # fmt: skip


def test_targets_missed_name_the_figure_and_where_the_cpu_goes() -> None:
    verdicts = bench_report.targets(MISSED)
    assert [(figure, met) for _, figure, met, _ in verdicts] == [
        ("40.0%", False), ("37.5%", False), ("150 ms (gateway POST)", False), ("300 ms", False),
    ]  # fmt: skip
    lines = bench_report.explain("before", verdicts, MISSED)
    assert len(lines) == 2  # one a path: gateway GET, then gateway POST with its three misses
    assert lines[0].startswith("- before missed gateway GET ≥ 45 % of direct inventory (40.0%): gateway GET")
    assert "costs 3.70 ms of CPU a request, most in billing 2.50, gateway 1.10, wrk 0.10" in lines[1]


def test_report_gives_medians_rounds_cpu_and_targets_for_each_tree() -> None:
    text = bench_report.render({"CPU": "2 cores, Test CPU"}, {"this tree": MET, "b08c74f": MISSED}, 10)
    assert "- CPU: 2 cores, Test CPU" in text
    results = re.findall(
        r"^\| (inventory GET|gateway GET|gateway POST|order POST → completed) \| ([^|]+) \|", text, re.M
    )
    assert results == [
        (path, tree) for path in (*PATHS, "order POST → completed") for tree in ("this tree", "b08c74f")
    ]
    rounds = "450 (36; 0.5+0.1), 500 (40; 0.5+0.1), 550 (44; 0.6+0.1)"
    assert f"| gateway GET | this tree | 500 | 20.0 | 40.0 | 0 | {rounds} |" in text
    assert (
        "| order created → processed (database) | this tree |  | 5.0 | 30.0 |  | 3000 orders (p99 27), "
        in text
    )
    assert "| order POST → completed | b08c74f |  | 10.0 | 300.0 |  | 100 orders (p99 300), " in text
    assert "| billing | 0.00 | 0.00 | 0.00 | 0.00 | 2.50 | 2.50 |" in text
    assert "| total | 0.90 | 0.90 | 1.80 | 1.80 | 3.70 | 3.70 |" in text
    assert "| order POST → completed p99 ≤ 100 ms | 90 ms, met | 300 ms, **missed** |" in text
    assert "- b08c74f missed" in text and "- this tree missed" not in text


def test_machine_names_the_cpu_load_and_versions() -> None:
    info = bench.machine()
    assert re.fullmatch(r"\d+ cores, .+", info["CPU"])
    assert re.fullmatch(r"[\d.]+ [\d.]+ [\d.]+", info["load average at start (1, 5, 15 min)"])
    assert re.search(r"PostgreSQL \d+\.\d+, gunicorn [\d.]+, wrk \S+", info["versions"])
