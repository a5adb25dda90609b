"""Just enough of a Dockerfile parser to rebuild an image's environment without Docker:
the final stage's base, user, COPY layout and CMD, and the hashed requirements it installs."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    base: str
    name: str | None
    copies: list[tuple[str, str, str | None]] = field(default_factory=list)  # (src, dst, --from)
    runs: list[str] = field(default_factory=list)
    user: str | None = None
    workdir: str | None = None
    cmd: list[str] | None = None


def _logical_lines(text: str) -> list[str]:
    """Instructions with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def parse(path: Path) -> list[Stage]:
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            match = re.match(r"^(\S+)(?:\s+AS\s+(\S+))?$", rest.strip(), re.IGNORECASE)
            assert match, f"cannot parse FROM {rest!r}"
            stages.append(Stage(match.group(1), match.group(2)))
            continue
        if not stages:
            continue  # ARG before FROM
        stage = stages[-1]
        if instruction == "COPY":
            words = shlex.split(rest)
            source = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
            paths = [w for w in words if not w.startswith("--")]
            stage.copies.append((paths[0], paths[-1], source))
        elif instruction == "RUN":
            stage.runs.append(rest)
        elif instruction == "USER":
            stage.user = rest.strip()
        elif instruction == "WORKDIR":
            stage.workdir = rest.strip()
        elif instruction == "CMD":
            stage.cmd = json.loads(rest)  # exec form only: a shell form would hide signals from gunicorn
    return stages


def installed_requirements(stages: list[Stage]) -> tuple[str, str]:
    """(requirements file in the build context, pip command) of the hash-checked install."""
    for stage in stages:
        for run in stage.runs:
            if "pip install" in run:
                assert "--require-hashes" in run, f"pip install without --require-hashes: {run}"
                target = re.search(r"-r\s+(\S+)", run)
                assert target, f"pip install without -r: {run}"
                for src, dst, _ in stage.copies:
                    if dst == target.group(1):
                        return src, run
    raise AssertionError("no hash-checked pip install from a copied requirements file")
