"""make e2e where no Docker engine runs (one line, non-zero), and what e2e/run.py reads from the tree.

The full run needs Docker and minutes: CI's e2e job does it. Here PATH and DOCKER_HOST are chosen
by each test, so the result does not depend on what this machine has installed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cloudctl.manifests.contract import spec

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "/usr/bin/make"


def load_run():
    spec = importlib.util.spec_from_file_location("e2e_run", ROOT / "e2e/run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_e2e(path: str, **env: str) -> subprocess.CompletedProcess:
    """`make e2e` with exactly this PATH (and env), outside any outer make's flags."""
    return subprocess.run(
        [MAKE, "--no-print-directory", "e2e"],
        cwd=ROOT,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/root"), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def own_lines(result: subprocess.CompletedProcess) -> list[str]:
    """What make e2e itself printed, without make's own `make: *** ... Error 1` trailer."""
    return [line for line in (result.stdout + result.stderr).splitlines() if not line.startswith("make: ***")]


def stand_in(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_without_docker_on_path_make_e2e_says_so_in_one_line(tmp_path):
    result = make_e2e(str(tmp_path))  # an empty folder: no docker, whatever the machine has
    assert result.returncode != 0
    assert own_lines(result) == [
        "make e2e: no Docker engine: `docker` is not on PATH (make e2e needs Docker; CI's e2e job has one)"
    ]


def test_a_docker_cli_without_an_engine_is_one_line_naming_docker_host(tmp_path):
    # A stand-in docker CLI that answers as the real one does when nothing listens at DOCKER_HOST.
    stand_in(tmp_path, "docker", 'echo "Cannot connect to the Docker daemon at $DOCKER_HOST." >&2; exit 1\n')
    socket = f"unix://{tmp_path}/no-engine.sock"
    result = make_e2e(str(tmp_path), DOCKER_HOST=socket)
    assert result.returncode != 0
    (line,) = own_lines(result)
    assert line.startswith(f"make e2e: no Docker engine answers at {socket}: make e2e needs one")


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker CLI on this machine")
def test_the_real_docker_cli_against_a_socket_nobody_serves(tmp_path):
    cli = Path(shutil.which("docker"))
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/docker").symlink_to(cli)
    socket = f"unix://{tmp_path}/no-engine.sock"
    result = make_e2e(f"{tmp_path}/bin", DOCKER_HOST=socket)
    assert result.returncode != 0
    (line,) = own_lines(result)
    assert line.startswith(f"make e2e: no Docker engine answers at {socket}")


def test_an_engine_but_the_wrong_k3d_is_refused_before_anything_is_created(tmp_path):
    stand_in(tmp_path, "docker", "echo 28.5.2\n")  # stand-in: an engine answers
    stand_in(tmp_path, "k3d", 'echo "k3d version v5.0.0"; echo "k3s version v1.21.2-k3s1 (default)"\n')
    result = make_e2e(str(tmp_path))
    assert result.returncode != 0
    (line,) = own_lines(result)
    pinned = load_run().pins()["K3D_VERSION"]
    assert line == f"make e2e: k3d v5.0.0 found, {pinned} pinned (e2e/pins.env): e2e/install-k3d"


def test_make_test_does_not_run_e2e():
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry = subprocess.run(
        [MAKE, "--no-print-directory", "-n", "test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert dry.returncode == 0, dry.stderr
    assert "e2e/run.py" not in dry.stdout and "tests/ci" in dry.stdout


# --- what the run reads from the tree -----------------------------------------------------------
def test_k3s_is_the_release_terraform_gives_the_nodes():
    variables = (ROOT / "infrastructure/terraform/modules/cluster/variables.tf").read_text()
    image = load_run().k3s_image()
    version = image.removeprefix("rancher/k3s:")
    assert version.replace("-k3s", "+k3s") in variables and image.startswith("rancher/k3s:v")


def test_k3d_is_pinned_with_a_checksum_and_the_installer_checks_it():
    pins = load_run().pins()
    assert pins["K3D_VERSION"].startswith("v") and len(pins["K3D_SHA256_LINUX_AMD64"]) == 64
    installer = (ROOT / "e2e/install-k3d").read_text()
    assert "sha256sum --check" in installer and "${K3D_SHA256_LINUX_AMD64}" in installer


def test_the_images_are_the_build_jobs_and_the_curls_the_readmes():
    run = load_run()
    assert run.service_images() == {
        "api-gateway": "api-gateway",
        "inventory-app": "inventory",
        "billing-app": "billing",
    }
    curls = run.quick_start_curls()
    assert len(curls) == 4 and all(run.README_GATEWAY in curl for curl in curls)
    assert any("-X POST" in curl and "Idempotency-Key" in curl for curl in curls)  # continuation lines joined


@pytest.mark.parametrize(
    ("docker_host", "host"),
    [("tcp://docker:2375", "docker"), ("unix:///var/run/docker.sock", "127.0.0.1"), ("", "127.0.0.1")],
)
def test_published_ports_are_reached_on_the_engines_host(monkeypatch, docker_host, host):
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    assert load_run().engine_host() == host


def test_the_cluster_gets_what_cloudctl_up_writes_with_the_local_images(monkeypatch):
    from cloudctl.bootstrap import cluster_secret
    from cloudctl.bootstrap.inputs import GIT_PASSWORD, GIT_USERNAME

    run = load_run()
    refs = run.image_refs()
    assert refs["api-gateway"].startswith(f"{run.LOCAL_REGISTRY}/cloud-design/ci/api-gateway:")
    monkeypatch.delenv(GIT_USERNAME, raising=False)
    monkeypatch.delenv(GIT_PASSWORD, raising=False)
    written, root_objects, root = run.cluster_objects("https://gitlab.example.com/g/p.git", "c0ffee", refs)
    (secret,) = written  # a public repository: no credentials
    assert secret["metadata"]["labels"][cluster_secret.ENVIRONMENT_LABEL] == "ci"
    notes = secret["metadata"]["annotations"]
    assert notes[cluster_secret.REPO_URL] == "https://gitlab.example.com/g/p.git"
    assert notes[cluster_secret.REPO_REVISION] == "c0ffee"
    assert notes[cluster_secret.ecr_annotation("billing-app")] == refs["billing-app"].rsplit(":", 1)[0]
    assert root and cluster_secret.PLACEHOLDER not in str(root_objects)  # every placeholder filled

    monkeypatch.setenv(GIT_USERNAME, "gitlab-ci-token")
    monkeypatch.setenv(GIT_PASSWORD, "job-token")
    written, _, _ = run.cluster_objects("https://gitlab.example.com/g/p.git", "c0ffee", refs)
    assert written[1]["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}


def test_a_container_that_must_pull_an_imported_image_is_refused_up_front():
    run = load_run()
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "api-gateway"},
        "spec": {
            "template": {"spec": {"containers": [{"image": "api-gateway:1", "imagePullPolicy": "Always"}]}}
        },
    }
    with pytest.raises(
        run.E2EError, match="Deployment api-gateway pulls api-gateway with imagePullPolicy Always"
    ):
        run.check_pull_policies([deployment], {"api-gateway"})
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    run.check_pull_policies([deployment], {"api-gateway"})
    gateway = spec.load(ROOT).workloads["api-gateway"]
    assert run.gateway_node_port(run.rendered_workloads()) == gateway.node_port


def test_install_k3d_refuses_a_download_that_is_not_the_pinned_release(tmp_path):
    # A stand-in curl that "downloads" something else: the checksum must stop the install.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in(bin_dir, "curl", 'while [ "$1" != "--output" ]; do shift; done; echo tampered > "$2"\n')
    target = tmp_path / "target"
    target.mkdir()
    done = subprocess.run(
        [str(ROOT / "e2e/install-k3d"), str(target)],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().endswith("does not match the sha256 in e2e/pins.env: not installed")
    assert list(target.iterdir()) == []
