"""common.keepalive_worker under real gunicorn, serving keepalive_app.py over real sockets."""

from __future__ import annotations

import contextlib
import http.client
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from common.gunicorn_base import KEEPALIVE_WORKER_CLASS
from devtools import processes
from servicekit import SERVICES, VENV_BIN, base_env, free_port

HERE = Path(__file__).resolve().parent
# gunicorn hands a connection that has sent nothing to a gthread pool thread, which waits this
# long for a request (gunicorn.workers.gthread.DEFAULT_WORKER_DATA_TIMEOUT); our loop must not.
GTHREAD_DATA_WAIT_SECONDS = 5


@contextlib.contextmanager
def keepalive_gunicorn(
    logs: Path, keepalive: int = 75, timeout: int = 30
) -> Iterator[tuple[int, subprocess.Popen]]:
    port = free_port()
    args = [
        str(VENV_BIN / "gunicorn"), "--worker-class", KEEPALIVE_WORKER_CLASS, "--workers", "1",
        "--keep-alive", str(keepalive), "--timeout", str(timeout),
        "--bind", f"127.0.0.1:{port}", "--no-control-socket", "keepalive_app:app",
    ]  # fmt: skip
    with (logs / "keepalive-gunicorn.log").open("ab") as output:
        process = processes.start(args, HERE, base_env({"PYTHONPATH": f"{SERVICES}:{HERE}"}), output)
        try:
            processes.wait_healthy(process, f"http://127.0.0.1:{port}/")
            yield port, process
        finally:
            processes.stop(process)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    with keepalive_gunicorn(tmp_path) as started:
        yield started


def get(conn: http.client.HTTPConnection, path: str = "/") -> tuple[int, str]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read().decode()


def test_requests_are_served_on_the_loop_thread_over_one_kept_alive_connection(server) -> None:
    port, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    answers = [get(conn)]
    kept = conn.sock
    answers += [get(conn), get(conn)]
    assert conn.sock is kept, "the connection was closed and reopened between requests"
    pids = {body.split()[0] for _, body in answers}
    assert len(pids) == 1
    # "True": the worker process's main thread (its event loop) served it, not a pool thread.
    assert answers == [(200, f"{pids.pop()} True")] * 3
    conn.close()


def test_a_connection_that_sends_nothing_does_not_hold_up_the_worker(server) -> None:
    port, _ = server
    with socket.create_connection(("127.0.0.1", port)) as silent:
        silent.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        time.sleep(0.3)  # the one worker accepts it while idle
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=GTHREAD_DATA_WAIT_SECONDS / 2)
        started = time.monotonic()
        assert get(conn)[0] == 200
        waited = time.monotonic() - started
        conn.close()
    assert waited < GTHREAD_DATA_WAIT_SECONDS / 2


PIPELINED = 2_000  # deep enough that serving each pipelined request inside the last would recurse


def test_a_long_pipeline_on_one_connection_is_answered_in_full(server) -> None:
    port, _ = server
    request = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sender = threading.Thread(target=sock.sendall, args=(request * PIPELINED,))
        sender.start()
        received = b""
        while received.count(b"HTTP/1.1 200 OK") < PIPELINED:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        sender.join()
    assert received.count(b"HTTP/1.1 200 OK") == PIPELINED


def test_an_idle_connection_is_closed_after_the_keepalive(tmp_path: Path) -> None:
    with keepalive_gunicorn(tmp_path, keepalive=1) as (port, _):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        assert get(conn)[0] == 200
        conn.sock.settimeout(5)
        assert conn.sock.recv(1) == b"", "the server kept the idle connection open"
        conn.close()


def test_sigterm_lets_the_request_in_flight_finish(server) -> None:
    port, process = server
    answer: list[tuple[int, str]] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    slow = threading.Thread(target=lambda: answer.append(get(conn, "/?sleep=1")))
    slow.start()
    time.sleep(0.3)  # the request is being served
    process.send_signal(signal.SIGTERM)
    slow.join()
    conn.close()
    assert answer and answer[0][0] == 200 and answer[0][1].endswith(" True")
    assert process.wait(10) == 0


def test_a_request_past_the_timeout_restarts_the_worker(tmp_path: Path) -> None:
    with keepalive_gunicorn(tmp_path, timeout=2) as (port, master):
        first = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        pid_before = get(first)[1].split()[0]
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            get(first, "/?sleep=4")  # the master kills the silent worker after about 2 s
        first.close()
        processes.wait_healthy(master, f"http://127.0.0.1:{port}/", timeout=10)  # its replacement
        again = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        assert get(again)[1].split()[0] != pid_before
        again.close()
