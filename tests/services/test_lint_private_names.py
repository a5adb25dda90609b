"""`make lint` refuses an import of a dependency's private name (ruff's PLC2701, pyproject.toml).

Each case is a probe file written into the real tree for the length of one ruff run, so ruff reads
it with the repository's own settings (pyproject.toml), exactly as `make lint` does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).parent / "ruff"


def private_name_findings(source: str) -> list[str]:
    probe = ROOT / "services" / "common" / f"lint_probe_{uuid.uuid4().hex}.py"
    probe.write_text(source)
    try:
        done = subprocess.run(
            [str(RUFF), "check", "--output-format", "json", "--no-cache", str(probe)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        probe.unlink()
    return [finding["message"] for finding in json.loads(done.stdout) if finding["code"] == "PLC2701"]


@pytest.mark.parametrize(
    "source",
    [
        "from gunicorn.workers.gthread import _DEFER\n\nprint(_DEFER)\n",
        "from psycopg2.pool import _ext as extensions\n\nprint(extensions)\n",
    ],
)
def test_a_private_import_from_a_dependency_fails_the_lint(source: str) -> None:
    assert private_name_findings(source), "ruff let a private import through"


def test_the_same_imports_of_public_names_pass() -> None:
    source = "from gunicorn.workers.gthread import ThreadWorker\n\nprint(ThreadWorker)\n"
    assert private_name_findings(source) == []


def test_the_repository_imports_no_private_name() -> None:
    done = subprocess.run(
        [str(RUFF), "check", "--select", "PLC2701", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
