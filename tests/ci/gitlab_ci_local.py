"""gitlab-ci-local (pinned in gitlab-ci-local/package-lock.json) on a scratch copy of .gitlab-ci.yml.

It evaluates `workflow:` and every job's `rules:` (`if:` and `changes:`) as GitLab does, and runs a
job's script with the shell executor. `changes:` is what `git diff --name-only origin/<default
branch>` lists, so each pipeline here is a clone whose origin/main is the base commit, plus the
files the push or merge request changes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(__file__).parent / "gitlab-ci-local"  # package.json and its lock: the pin
INSTALL = ROOT / ".build" / "gitlab-ci-local"  # outside the linted tree, like every build output
BINARY = INSTALL / "node_modules/.bin/gitlab-ci-local"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def binary() -> Path:
    """The pinned gitlab-ci-local; `npm ci` from the lock file when that lock is not installed yet."""
    lock = (PACKAGE / "package-lock.json").read_text()
    installed_lock = INSTALL / "package-lock.json"
    if not BINARY.exists() or not installed_lock.exists() or installed_lock.read_text() != lock:
        INSTALL.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(PACKAGE / name, INSTALL / name)
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(INSTALL)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert installed.returncode == 0, installed.stderr[-2000:]
    return BINARY


def git(cwd: Path, *args: str) -> str:
    import os

    done = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True
    )
    return done.stdout


def base_repository(folder: Path, pipeline: str | None = None) -> Path:
    """A repository whose main holds the pipeline file: the `origin` every pipeline clone starts from."""
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    (folder / ".gitlab-ci.yml").write_text(
        pipeline if pipeline is not None else (ROOT / ".gitlab-ci.yml").read_text()
    )
    git(folder, "add", ".gitlab-ci.yml")
    git(folder, "commit", "-q", "-m", "base")
    return folder


def pipeline_clone(base: Path, folder: Path, changed: list[str], branch: str = "main") -> Path:
    """A clone of `base` on `branch` with `changed` files added (staged, so `git diff` lists them)."""
    git(base.parent, "clone", "-q", str(base), str(folder))
    if branch != "main":
        git(folder, "checkout", "-q", "-b", branch)
    for path in changed:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("changed\n")
    if changed:
        git(folder, "add", "--", *changed)
    return folder


def run(
    repo: Path, *args: str, variables: dict[str, str] | None = None, path: list[Path] | None = None
) -> subprocess.CompletedProcess:
    """gitlab-ci-local in `repo`; `path`: folders put first on PATH for the jobs the shell executor
    runs (stand-in tools, named so in the test that writes them)."""
    import os

    command = [str(binary()), "--home", str(repo / ".gcl-home"), "--no-json-schema-validation"]
    for name, value in (variables or {}).items():
        command += ["--variable", f"{name}={value}"]
    env = dict(os.environ)
    if path:
        env["PATH"] = os.pathsep.join([*map(str, path), env.get("PATH", "")])
    return subprocess.run(
        [*command, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def listing(repo: Path, variables: dict[str, str]) -> dict[str, dict[str, object]]:
    """The jobs GitLab would create for this pipeline (`when: never` left out), each with its stage,
    when (on_success, manual, ...), allow_failure and needs, as gitlab-ci-local resolves them."""
    listed = run(repo, "--list-csv", variables=variables)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    lines = listed.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("name;"))
    assert lines[header] == "name;description;stage;when;allowFailure;needs", lines[header]
    table = {}
    for line in lines[header + 1 :]:
        if line.strip():
            name, _description, stage, when, allow_failure, needs = line.rsplit(";", 5)
            assert needs.startswith("[") and needs.endswith("]"), line
            table[name] = {
                "stage": stage,
                "when": when,
                "allow_failure": allow_failure == "true",
                "needs": [need for need in needs[1:-1].split(",") if need],
            }
    return table


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
