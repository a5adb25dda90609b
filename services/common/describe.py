"""A workload or one-shot command describing itself as data, for tools that must not import it.

    python -m common.describe <workload-or-command> [--probe PATH ...] < entry.json

Run with cwd services/<folder> (the image's WORKDIR), PYTHONPATH services and the container's
environment; stdin is its entry of contract.yaml (workloads.<name> or commands.<name>) as one JSON
object: cloudctl, which reads contract.yaml, passes it, so this module needs only the standard
library and the service's own code (PyYAML is in no service's image). It loads the code the entry
names and prints one JSON object as the last line of stdout:

- settings: every Setting the process loads (name, required, default, description);
- rejected: {NAME: why} for each value of this environment the code refuses;
- for a workload: port (where it listens: gunicorn's bind from its gunicorn.conf.py, or the
  health server's port setting), routes (the Flask app's rules; null for a health server) and
  probes ({path: served?} for each --probe), or error (one line) when the code does not start;
- topology (when the entry names one): the work queue and every (queue, arguments) declared.

Nothing here imports a service by name: the entry names the modules, importlib loads them.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib
import io
import json
import os
import runpy
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from common import config

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class DescribeError(Exception):
    """The name or the contract entry is unusable (a one-line message)."""


def read_entry(text: str) -> dict[str, Any]:
    """The contract entry given on stdin: one JSON object."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DescribeError(f"stdin is not the contract entry as JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DescribeError("stdin is not the contract entry as a JSON object")
    return data


def resolve(spec: str) -> Any:
    """The object a 'module:ATTRIBUTE' spec names."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise DescribeError(f"{spec!r} is not module:ATTRIBUTE")
    return getattr(importlib.import_module(module_name), attribute)


def settings_of(item: Mapping[str, Any]) -> tuple[config.Setting, ...]:
    """The Settings a contract entry's `settings` names: one spec or a list, each a tuple or one Setting."""
    specs = item.get("settings")
    found: list[config.Setting] = []
    for spec in [specs] if isinstance(specs, str) else specs or []:
        value = resolve(spec)
        found += value if isinstance(value, tuple) else [value]
    if not found or not all(isinstance(s, config.Setting) for s in found):
        raise DescribeError(f"settings {specs!r} name no common.config.Setting")
    return tuple(found)


def rejected(settings: tuple[config.Setting, ...], environ: Mapping[str, str]) -> dict[str, str]:
    """{NAME: why} for each set value the setting's parser refuses."""
    refused = {}
    for setting in settings:
        if environ.get(setting.name):
            try:
                setting.parse(environ[setting.name])
            except ValueError as exc:
                refused[setting.name] = str(exc)
    return refused


@contextlib.contextmanager
def refusal_as_error() -> Iterator[list[str]]:
    """Collect the one line a process prints when it refuses to start (config.load_or_exit)."""
    said = io.StringIO()
    errors: list[str] = []
    try:
        with contextlib.redirect_stderr(said):
            yield errors
    except SystemExit:
        lines = said.getvalue().strip().splitlines() or ["it exits without a message"]
        errors.append(f"the code refuses to start with this environment: {lines[-1]}")
    except Exception as exc:  # noqa: BLE001 - any failure to start is the answer, reported in one line
        errors.append(f"the code fails to start with this environment: {type(exc).__name__}: {exc}")


def gunicorn_app(command: list[str], probes: list[str]) -> dict[str, Any]:
    """Where gunicorn would listen (its config file's bind) and the Flask app's routes."""
    flags = command[1:-1]
    options = dict(zip(flags[::2], flags[1::2], strict=False))
    conf = options.get("--config") or options.get("-c")
    if conf is None:
        raise DescribeError(f"command {command} names no gunicorn config file")
    answer: dict[str, Any] = {}
    with refusal_as_error() as errors:
        bind = str(runpy.run_path(conf).get("bind") or "")
        module_name, _, expression = command[-1].partition(":")
        target = getattr(importlib.import_module(module_name), expression.removesuffix("()"))
        app = target() if expression.endswith("()") else target
        adapter = app.url_map.bind("localhost")
        served = {}
        for path in probes:
            try:
                adapter.match(path, method="GET")
                served[path] = True
            except Exception:  # noqa: BLE001 - NotFound / MethodNotAllowed: no GET route there
                served[path] = False
        answer = {
            "port": int(bind.rsplit(":", 1)[1]) if ":" in bind else None,
            "routes": sorted({rule.rule for rule in app.url_map.iter_rules()}),
            "probes": served,
        }
    return {"error": errors[0]} if errors else answer


def health_server(
    spec: Mapping[str, Any], settings: tuple[config.Setting, ...], name: str, probes: list[str]
) -> dict[str, Any]:
    """The port setting's value and which probe paths the worker's own HTTP server answers."""
    answer: dict[str, Any] = {}
    with refusal_as_error() as errors:
        values = config.load_or_exit(settings)
        make_handler: Callable[[str, Mapping[str, Any]], type[BaseHTTPRequestHandler]] = resolve(
            spec["handler"]
        )
        server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(name, {}))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        served = {}
        try:
            for path in probes:
                conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
                conn.request("GET", path)
                served[path] = conn.getresponse().status != 404
                conn.close()
        finally:
            server.shutdown()
            server.server_close()
        answer = {"port": values[spec["port_setting"]], "routes": None, "probes": served}
    return {"error": errors[0]} if errors else answer


def topology(spec: Mapping[str, Any], settings: tuple[config.Setting, ...]) -> dict[str, Any]:
    """The queues the code declares, for the queue this environment names (only that setting counts)."""
    values = config.load([s for s in settings if s.name == spec["queue_setting"]])
    built = resolve(spec["class"])(values[spec["queue_setting"]])
    return {
        "declared_by": spec["class"],
        "queue": built.queue,
        "declarations": [[q, args] for q, args in built.declarations()],
    }


def describe(name: str, item: Mapping[str, Any], probes: list[str]) -> dict[str, Any]:
    settings = settings_of(item)
    answer: dict[str, Any] = {
        "name": name,
        "settings": [
            {"name": s.name, "required": s.required, "default": s.default, "description": s.description}
            for s in settings
        ],
        "rejected": rejected(settings, os.environ),
    }
    command = item.get("command") or []
    if item.get("health_server"):
        answer.update(health_server(item["health_server"], settings, name, probes))
    elif command[:1] == ["gunicorn"]:
        answer.update(gunicorn_app(command, probes))
    if item.get("topology"):
        try:
            answer["topology"] = topology(item["topology"], settings)
        except (config.ConfigError, KeyError) as exc:  # KeyError: queue_setting is none of the settings
            answer.setdefault("error", f"the code declares no queue with this environment: {exc}")
    return answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("name", help="the workload or command the entry on stdin belongs to")
    parser.add_argument("--probe", action="append", default=[], help="a probe path to try (repeatable)")
    args = parser.parse_args(argv)
    # prometheus_client picks its multi-process mode at import, and the services' packages import
    # it: a directory of our own (when the environment names none), set first, removed after.
    with tempfile.TemporaryDirectory(prefix="describe-metrics-") as scratch:
        os.environ.setdefault(MULTIPROC_ENV, scratch)
        try:
            if sys.stdin.isatty():
                raise DescribeError("give the contract entry as JSON on stdin")
            answer = describe(args.name, read_entry(sys.stdin.read()), args.probe)
        except DescribeError as exc:
            print(f"describe: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    # The code may log to stdout while it starts: the answer is the last line.
    sys.stdout.write("\n" + json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
