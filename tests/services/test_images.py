"""Each service's image, rebuilt without Docker (no engine here: this is the stand-in for
`docker build`): a fresh venv installed with --require-hashes from the file the Dockerfile
installs, the code laid out as the Dockerfile's COPY lines place it under /app, and the
Dockerfile's own CMD started from there with no PYTHONPATH. It must answer /health."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import servicekit
from common.gunicorn_base import GRACEFUL_TIMEOUT_SECONDS
from dockerfile import Stage, installed_requirements, parse

# Every service folder with a Dockerfile (billing included once it exists).
DOCKERFILES = sorted(servicekit.SERVICES.glob("*/Dockerfile"))
EXACT_SLIM_BASE = re.compile(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$")


def final_stage(dockerfile: Path) -> Stage:
    return parse(dockerfile)[-1]


def test_every_contract_workload_has_a_dockerfile() -> None:
    folders = {w.folder for w in servicekit.WORKLOADS.values() if (servicekit.SERVICES / w.folder).exists()}
    assert {path.parent.name for path in DOCKERFILES} == folders


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_is_pinned_multistage_and_non_root(dockerfile: Path) -> None:
    stages = parse(dockerfile)
    assert len(stages) >= 2, "multi-stage: build tools stay in the build stage"
    for stage in stages:
        assert EXACT_SLIM_BASE.match(stage.base), f"unpinned or non-slim base {stage.base}"
    final = stages[-1]
    assert final.user and re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", final.user), f"USER {final.user}"
    assert not final.runs, "nothing is built or installed in the runtime stage"
    assert final.workdir == "/app"
    installed_requirements(stages)  # fails unless pip installs with --require-hashes


def app_layout(dockerfile: Path, stage: Stage, app_dir: Path) -> None:
    """Copy what the final stage COPYs into /app, from the build context services/."""
    for src, dst, from_stage in stage.copies:
        if from_stage is not None:
            continue  # the venv from the build stage: rebuilt by the test itself
        assert dst.startswith("/app/"), f"unexpected destination {dst}"
        source = servicekit.SERVICES / src
        target = app_dir / dst.removeprefix("/app/")
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)


@pytest.fixture(scope="module")
def image_envs(tmp_path_factory) -> dict[str, tuple[Path, Path, list[str]]]:
    """folder -> (venv bin, app dir, CMD), built once per module."""
    built = {}
    for dockerfile in DOCKERFILES:
        folder = dockerfile.parent.name
        stages = parse(dockerfile)
        requirements, _ = installed_requirements(stages)
        root = tmp_path_factory.mktemp(f"image-{folder}")
        venv = root / "venv"
        uv = servicekit.VENV_BIN / "uv"
        subprocess.run(
            [str(uv), "venv", "--quiet", "--python", "python3.11", str(venv)], check=True, timeout=120
        )
        subprocess.run(
            [str(uv), "pip", "install", "--quiet", "--require-hashes", "--only-binary", ":all:",
             "--python", str(venv / "bin" / "python"), "-r", str(servicekit.SERVICES / requirements)],
            check=True,
            timeout=300,
        )  # fmt: skip
        app_layout(dockerfile, stages[-1], root / "app")
        built[folder] = (venv / "bin", root / "app", stages[-1].cmd)
    return built


def start_from_image(image_envs, folder: str, workload: str, env: dict, log_dir: Path, command=None):
    venv_bin, app_dir, cmd = image_envs[folder]
    return servicekit.start_process(
        workload, env, log_dir, command=command or cmd, cwd=app_dir, bin_dir=venv_bin, pythonpath=""
    )


@pytest.fixture(scope="module")
def runtime_env(inventory_db, request) -> dict:
    env = {
        "inventory": {"DATABASE_URL": inventory_db},
        "api-gateway": {"INVENTORY_URL": "http://127.0.0.1:9", "BILLING_URL": "http://127.0.0.1:9"},
    }
    if (servicekit.SERVICES / "billing" / "Dockerfile").exists():
        billing_db = request.getfixturevalue("billing_db")
        queue = request.getfixturevalue("billing_queue")
        env["billing"] = {"DATABASE_URL": billing_db, "AMQP_URL": servicekit.AMQP_URL, "BILLING_QUEUE": queue}
        env["billing-worker"] = {**env["billing"], "INVENTORY_URL": "http://127.0.0.1:9"}
    return env


CASES = [
    (w.folder, w.name)
    for w in servicekit.WORKLOADS.values()
    if (servicekit.SERVICES / w.folder / "Dockerfile").exists()
]


@pytest.mark.parametrize(("folder", "workload"), CASES, ids=[c[1] for c in CASES])
def test_image_environment_starts_and_is_healthy(image_envs, runtime_env, folder, workload, tmp_path) -> None:
    spec = servicekit.WORKLOADS[workload]
    _, _, cmd = image_envs[folder]
    # The Dockerfile's CMD is the contract's start command for the image's main workload; the
    # worker shares billing's image with its own command (docs/contract.md).
    command = None if workload == folder else list(spec.command)
    if command is None:
        assert cmd == list(spec.command), f"{folder} CMD {cmd} differs from the contract"
    service = start_from_image(image_envs, folder, workload, runtime_env[workload], tmp_path, command)
    try:
        assert requests.get(f"{service.url}/health", timeout=5).status_code == 200
        assert (
            "http_requests_total" in requests.get(f"{service.url}/metrics", timeout=5).text
            or workload == "billing-worker"
        )
    finally:
        # A SIGTERM that lands while a worker is still booting (before it installs its own
        # handlers) is lost on that worker; the master then waits graceful_timeout for it
        # before killing it and exiting cleanly. Seen once in about 15 runs.
        assert service.stop(timeout=GRACEFUL_TIMEOUT_SECONDS + 10) == 0, service.logs()[-2000:]
