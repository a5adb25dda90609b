"""What the services' code says about itself, asked in a subprocess (`python -m common.describe`).

cloudctl imports nothing from services/: given its contract.yaml entry as JSON on stdin, each
workload or command describes its settings, the values of a given environment it rejects, where it
listens, which probe paths it serves and the queues it declares, as JSON
(services/common/describe.py). The same code with the same
environment answers the same, so each question is asked once per process, and the questions of
one check run are asked in parallel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudctl.manifests.contract import spec


@dataclass(frozen=True)
class Question:
    name: str  # a workload or command of contract.yaml
    source: str  # services/<folder>: the image's WORKDIR
    entry_json: str  # its contract.yaml entry, handed to common.describe on stdin
    environ: tuple[tuple[str, str], ...]  # the container's environment
    probes: tuple[str, ...]  # probe paths to try (workloads only)


_ANSWERS: dict[tuple[str, Question], dict[str, Any]] = {}


def question(item: spec.Workload | spec.Command, environ: dict[str, str], probes: list[str]) -> Question:
    return Question(item.name, item.source, item.entry_json, tuple(sorted(environ.items())), tuple(probes))


def ask(root: Path, asked: Question) -> dict[str, Any]:
    """The describe answer; {"error": line} when the subprocess fails without one."""
    key = (str(root.resolve()), asked)
    if key not in _ANSWERS:
        _ANSWERS[key] = _run(root, asked)
    return _ANSWERS[key]


def ask_all(root: Path, questions: list[Question]) -> None:
    """Ask every question not answered yet, several at a time (each is a Python start-up)."""
    todo = list(dict.fromkeys(q for q in questions if (str(root.resolve()), q) not in _ANSWERS))
    with ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 2, 8))) as pool:
        for asked, answer in zip(todo, pool.map(lambda q: _run(root, q), todo), strict=True):
            _ANSWERS[(str(root.resolve()), asked)] = answer


def _run(root: Path, asked: Question) -> dict[str, Any]:
    services = root / "services"
    # The entry goes in as JSON on stdin: common.describe reads no YAML (PyYAML is in no service's
    # image, and common/ is copied into each).
    command = [sys.executable, "-m", "common.describe", asked.name]
    for path in asked.probes:
        command += ["--probe", path]
    result = subprocess.run(
        command,
        input=asked.entry_json,
        capture_output=True,
        text=True,
        cwd=root / asked.source,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(services), **dict(asked.environ)},
        timeout=120,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"common.describe {asked.name} failed: {last}"}
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer
