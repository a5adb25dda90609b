"""schemathesis (its CLI, pinned in requirements/dev.in) fuzzes the running stack
through the gateway against services/api-gateway/openapi.yaml: every check, every phase
(examples, coverage, fuzzing, stateful), a bounded number of examples, zero failures. So the
spec is a contract the code cannot drift from; the second test proves the run fails when the
two disagree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import servicekit
import yaml

DOCUMENT = servicekit.SERVICES / "api-gateway" / "openapi.yaml"
CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
# Per operation and phase: about 780 requests in 15-20 s on the 2-core machine. Fixed seed: a
# failure reproduces with the same command.
MAX_EXAMPLES = 30
SEED = 14


def schemathesis(
    document: Path, base_url: str, workdir: Path, *only: str
) -> subprocess.CompletedProcess[str]:
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(CONFIG),
        "run",
        str(document),
        "--url",
        base_url,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        # One worker: hypothesis describes its strategies with ast.parse, which on CPython 3.11
        # fails now and then under threads ("AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--no-color",
        *only,
    ]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=300)


def test_the_stack_obeys_its_spec(stack, tmp_path) -> None:
    done = schemathesis(DOCUMENT, stack.url, tmp_path)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]
    assert "No issues found" in done.stdout, done.stdout[-5000:]
    print(done.stdout[-1800:])  # the summary: phases, test cases, seconds (pytest -rP shows it)


def undocument_400_of_listing_movies(spec: dict) -> None:
    del spec["paths"]["/api/movies"]["get"]["responses"]["400"]


def shorten_text_to_3(spec: dict) -> None:
    spec["components"]["schemas"]["Text"]["maxLength"] = 3


WRONG_SPECS = {
    # name: (how the copy is wrong, the one operation fuzzed, the failure schemathesis must report)
    "undocumented status": (undocument_400_of_listing_movies, "listMovies", "ST103 Undocumented status code"),
    "schema stricter than the code": (
        shorten_text_to_3,
        "createMovie",
        "ST201 Schema-violating request accepted",
    ),
}


@pytest.mark.parametrize("wrong", WRONG_SPECS.values(), ids=WRONG_SPECS.keys())
def test_a_spec_the_stack_does_not_obey_fails_the_run(stack, tmp_path, wrong) -> None:
    """A deliberately wrong copy of the spec: the gateway answers 400 to a bad limit, which the
    copy no longer lists; or it accepts 4-character titles, which the copy forbids."""
    break_spec, operation, failure = wrong
    spec = yaml.safe_load(DOCUMENT.read_text())
    break_spec(spec)
    copy = tmp_path / "wrong-openapi.yaml"
    copy.write_text(yaml.safe_dump(spec, sort_keys=False))
    done = schemathesis(copy, stack.url, tmp_path, "--include-operation-id", operation)
    assert done.returncode != 0, done.stdout[-5000:]
    assert failure in done.stdout, done.stdout[-5000:]
