"""make e2e: the `ci` environment synced by Argo CD into a throw-away K3s cluster, then the README's
curl examples through the gateway's NodePort. See e2e/README.md.

The steps are those of `cloudctl up` on a cluster it did not have to create: Argo CD installed with
server-side apply from clusters/ci/argocd, the cluster Secret (gitops-bridge) and clusters/ci/root.yaml
written with cloudctl's own code, then every Application Synced and Healthy. The images are built
here and imported into the cluster, under the names the cluster Secret hands the ci overlay.

Without a Docker engine it says so in one line and exits 1. The cluster is deleted on every exit.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV = "ci"
PINS = ROOT / "e2e" / "pins.env"
K3S_VARIABLES = ROOT / "infrastructure/terraform/modules/cluster/variables.tf"
QUICK_START = ROOT / "README.md"
# Image names under a host that cannot resolve (RFC 6761): a pod whose image was not imported
# fails at once instead of pulling something else from a public registry.
LOCAL_REGISTRY = "e2e.invalid"
GATEWAY_SERVICE = "api-gateway"
README_GATEWAY = "localhost:3000"  # where the README's curl examples reach the gateway (make dev)
# The cluster Secret's AWS values: ci has no AWS (in-cluster PostgreSQL, ESO's fake provider), and
# these are AWS's documentation account and a real region, so nothing mistakes them for an account.
CI_ACCOUNT, CI_REGION = "123456789012", "eu-west-1"
STEP_TIMEOUT_S = 600
SYNC_TIMEOUT = "E2E_SYNC_TIMEOUT"  # seconds; the default below
POLL_S = 10


class E2EError(Exception):
    """Ends the run: str() is the one line printed."""


def say(text: str) -> None:
    print(f"e2e: {text}", flush=True)


def run(
    *command: str, stdin: str | None = None, capture: bool = False, timeout: int = STEP_TIMEOUT_S, env=None
):
    """Run a command; output streams to the log unless captured. A failure is an E2EError."""
    try:
        done = subprocess.run(
            list(command),
            input=stdin,
            text=True,
            capture_output=capture or stdin is not None,
            timeout=timeout,
            check=False,
            env=env,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired as err:
        raise E2EError(f"{shlex.join(command[:4])}: no result in {timeout} s") from err
    if done.returncode != 0:
        said = " ".join(((done.stderr or "") + (done.stdout or "")).split())[-400:]
        raise E2EError(f"{shlex.join(command[:4])} exited {done.returncode}{': ' + said if said else ''}")
    return done.stdout or ""


# --- preflight ---------------------------------------------------------------------------------
def pins() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in PINS.read_text().splitlines() if re.match(r"[A-Z0-9_]+=", line))
    return {key: value.strip() for key, value in pairs}


def docker_engine() -> str:
    """The engine's version; an E2EError naming why there is none."""
    if shutil.which("docker") is None:
        raise E2EError(
            "no Docker engine: `docker` is not on PATH (make e2e needs Docker; CI's e2e job has one)"
        )
    where = os.environ.get("DOCKER_HOST") or "the default socket"
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise E2EError(f"no Docker engine answers at {where} within 30 s: make e2e needs one") from err
    version = done.stdout.strip()
    if done.returncode != 0 or not version:
        return_line = " ".join(done.stderr.split())[:200] or f"docker info exited {done.returncode}"
        raise E2EError(f"no Docker engine answers at {where}: make e2e needs one ({return_line})")
    return version


def k3d_version(wanted: str) -> None:
    if shutil.which("k3d") is None:
        raise E2EError(f"k3d is not on PATH: `e2e/install-k3d DIR` installs the pinned {wanted}")
    said = run("k3d", "version", capture=True, timeout=30)
    found = re.search(r"k3d version (\S+)", said)
    if not found or found.group(1) != wanted:
        raise E2EError(
            f"k3d {found.group(1) if found else '?'} found, {wanted} pinned (e2e/pins.env): e2e/install-k3d"
        )


def k3s_image() -> str:
    """rancher/k3s at the release the AWS nodes run (v1.34.1+k3s1 -> rancher/k3s:v1.34.1-k3s1)."""
    text = K3S_VARIABLES.read_text()
    block = re.search(r'variable "k3s_version" \{.*?\n\}', text, re.S)
    version = re.search(r'default\s*=\s*"([^"]+)"', block.group(0)) if block else None
    if not version:
        raise E2EError(f"{K3S_VARIABLES.relative_to(ROOT)}: no k3s_version default")
    return "rancher/k3s:" + version.group(1).replace("+", "-")


def repository() -> tuple[str, str]:
    """The git URL and the commit Argo CD syncs: E2E_REPO_URL / E2E_REVISION, else origin and HEAD.

    Argo CD clones it from inside the cluster, so the commit must be pushed: uncommitted work is
    not what the cluster runs.
    """

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    url = os.environ.get("E2E_REPO_URL") or git("remote", "get-url", "origin")
    revision = os.environ.get("E2E_REVISION") or git("rev-parse", "HEAD")
    if not url:
        raise E2EError("no repository for Argo CD to clone: set E2E_REPO_URL or a git remote `origin`")
    if not revision:
        raise E2EError("no revision for Argo CD to sync: set E2E_REVISION or run in a git checkout")
    return url, revision


def service_images() -> dict[str, str]:
    """Image name -> service folder: contract.yaml, read as the build jobs read it (delivery.builds)."""
    from cloudctl.delivery import builds
    from cloudctl.errors import CloudctlError

    try:
        return {source.image: source.folder for source in builds.sources(ROOT)}
    except CloudctlError as err:
        raise E2EError(str(err)) from err


def image_refs() -> dict[str, str]:
    """Image name -> the local reference the ci overlay runs (its tag from overlays/ci/images)."""
    from cloudctl.delivery import images, registry

    tags = images.read_tags(images.images_file(ROOT, ENV))
    folders = service_images()
    if set(tags) != set(folders):
        raise E2EError(f"overlays/{ENV}/images names {sorted(tags)}, the build jobs {sorted(folders)}")
    untagged = sorted(name for name, tag in tags.items() if not tag)
    if untagged:
        raise E2EError(f"overlays/{ENV}/images: no newTag for {', '.join(untagged)}")
    return {
        name: f"{LOCAL_REGISTRY}/{registry.repository_name(ENV, name)}:{tag}" for name, tag in tags.items()
    }


def rendered_workloads() -> list[dict]:
    """overlays/ci/workloads as kustomize renders it (what movies-workloads syncs)."""
    rendered = run("kubectl", "kustomize", f"overlays/{ENV}/workloads", capture=True, timeout=120)
    return [doc for doc in yaml.safe_load_all(rendered) if isinstance(doc, dict)]


def gateway_node_port(objects: list[dict]) -> int:
    """The gateway Service's nodePort: the port k3d publishes."""
    for doc in objects:
        if doc.get("kind") == "Service" and doc["metadata"]["name"] == GATEWAY_SERVICE:
            for port in doc["spec"].get("ports") or []:
                if port.get("nodePort"):
                    return int(port["nodePort"])
    raise E2EError(f"overlays/{ENV}/workloads renders no Service {GATEWAY_SERVICE} with a nodePort")


def check_pull_policies(objects: list[dict], images: set[str]) -> None:
    """Imported images exist only in the node's containerd: a container of ours that must pull
    (imagePullPolicy Always) would fail with ErrImagePull, so say so before building anything."""
    for doc in objects:
        template = (doc.get("spec") or {}).get("template") or {}
        if doc.get("kind") == "CronJob":
            template = doc["spec"]["jobTemplate"]["spec"]["template"]
        pod = template.get("spec") or {}
        for container in (pod.get("initContainers") or []) + (pod.get("containers") or []):
            name = container.get("image", "").rsplit(":", 1)[0].rsplit("/", 1)[-1]
            if name in images and container.get("imagePullPolicy") == "Always":
                raise E2EError(
                    f"overlays/{ENV}/workloads: {doc['kind']} {doc['metadata']['name']} pulls {name} "
                    "with imagePullPolicy Always; images imported into k3d need IfNotPresent"
                )


def engine_host() -> str:
    """Where ports the engine publishes are reached: the DOCKER_HOST host (CI's dind: `docker`)."""
    docker_host = os.environ.get("DOCKER_HOST", "")
    if docker_host.startswith(("tcp://", "http://", "https://")):
        return urlparse(docker_host).hostname or "127.0.0.1"
    return "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the cluster -------------------------------------------------------------------------------
@contextmanager
def throwaway_cluster(name: str, image: str, host: str, api_port: int, web_port: int, node_port: int):
    """k3d creates the cluster in the background (the images build meanwhile); deleted on any exit."""
    command = [
        "k3d", "cluster", "create", name,
        "--image", image,
        "--servers", "1", "--agents", "0",
        "--api-port", f"0.0.0.0:{api_port}",
        "--port", f"{web_port}:{node_port}@server:0",
        "--k3s-arg", f"--tls-san={host}@server:0",
        "--k3s-arg", "--disable=traefik@server:0",  # the gateway is reached on its NodePort, as the ALB does
        "--kubeconfig-update-default=false", "--kubeconfig-switch-context=false",
        "--wait", "--timeout", "300s",
    ]  # fmt: skip
    say(f"creating K3s cluster {name} ({image}) with k3d")
    creating = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield creating
    finally:
        if creating.poll() is None:
            creating.terminate()
            creating.wait(timeout=60)
        say(f"deleting cluster {name}")
        subprocess.run(
            ["k3d", "cluster", "delete", name], cwd=ROOT, capture_output=True, timeout=300, check=False
        )


def cluster_ready(creating: subprocess.Popen) -> None:
    out, _ = creating.communicate(timeout=STEP_TIMEOUT_S)
    if creating.returncode != 0:
        raise E2EError(f"k3d cluster create exited {creating.returncode}: {' '.join(out.split())[-400:]}")


def write_kubeconfig(name: str, host: str, api_port: int, folder: Path) -> Path:
    config = yaml.safe_load(run("k3d", "kubeconfig", "get", name, capture=True, timeout=60))
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = f"https://{host}:{api_port}"
    path = folder / "kubeconfig"
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(config))
    return path


def apply_objects(objects: list[dict], env: dict) -> None:
    """Server-side apply on stdin, as cloudctl does: no value lands in argv."""
    listing = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    run("kubectl", "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=listing, env=env)


def install_argocd(env: dict) -> None:
    from cloudctl.bootstrap import kube_steps

    run("kubectl", "apply", "--server-side", "--force-conflicts", "-k", f"clusters/{ENV}/argocd", env=env)
    crds = [f"crd/{name}" for name in kube_steps.ARGOCD_CRDS]
    run("kubectl", "wait", "--for", "condition=established", "--timeout=120s", *crds, env=env)
    wait = ["kubectl", "-n", "argocd", "wait", "--for", "condition=Available", "deployment", "--all"]
    run(*wait, "--timeout=600s", env=env, timeout=660)


def cluster_objects(repo_url: str, revision: str, refs: dict[str, str]) -> tuple[list[dict], list[dict], str]:
    """What cloudctl up writes, for `ci`: (the cluster Secret and, when CLOUDCTL_GIT_USERNAME and
    CLOUDCTL_GIT_PASSWORD are set, the repository Secret; root.yaml's objects filled; the root's name)."""
    from cloudctl.bootstrap import cluster_secret, kube_steps
    from cloudctl.bootstrap.inputs import GIT_PASSWORD, GIT_USERNAME
    from cloudctl.bootstrap.layout import Layout

    values = cluster_secret.annotations(
        repo_url=repo_url,
        repo_revision=revision,
        region=CI_REGION,
        account_id=CI_ACCOUNT,
        cluster_name=f"cloud-design-{ENV}",
        # the repository part of each local reference: the overlay adds its own tag
        ecr_repository_urls={name: ref.rsplit(":", 1)[0] for name, ref in refs.items()},
    )
    written = [cluster_secret.manifest(ENV, values)]
    username, password = os.environ.get(GIT_USERNAME, ""), os.environ.get(GIT_PASSWORD, "")
    if username and password:
        written.append(kube_steps.repository_secret(repo_url, username, password))
    layout = Layout(ROOT, ENV)
    root = cluster_secret.root_objects(layout.root_app.read_text(), values)
    return written, root, kube_steps.root_app(layout).name


def sync_timeout() -> int:
    value = os.environ.get(SYNC_TIMEOUT, "1500")
    if not value.isdigit() or int(value) == 0:
        raise E2EError(f"{SYNC_TIMEOUT}={value!r}: expected a number of seconds")
    return int(value)


def wait_for_sync(root: str, env: dict, timeout: int) -> None:
    from cloudctl.bootstrap import argo_status

    deadline, last_line, apps = time.monotonic() + timeout, "", []
    while time.monotonic() < deadline:
        listed = run(
            "kubectl", "-n", "argocd", "get", "applications.argoproj.io", "-o", "json", capture=True, env=env
        )
        apps = argo_status.parse(listed, root=root)
        line = argo_status.progress(apps, root)
        if line != last_line:
            say(line)
            last_line = line
        if argo_status.converged(apps, root):
            return
        time.sleep(POLL_S)
    raise E2EError(f"not Synced and Healthy after {timeout} s: {argo_status.diagnosis(apps, root)}")


def quick_start_curls() -> list[str]:
    """The curl commands of the README's quick start, continuation lines joined."""
    text = QUICK_START.read_text()
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", text, re.S | re.M)
    blocks = re.findall(r"```sh\n(.*?)```", section.group(1) if section else "", re.S)
    commands = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        commands += [
            line.split("   #")[0].strip() for line in joined.splitlines() if line.startswith("curl ")
        ]
    if not commands:
        raise E2EError("README.md: no curl example in a ```sh block of its Quick start")
    return commands


def run_curls(base: str) -> None:
    for command in quick_start_curls():
        actual = command.replace(README_GATEWAY, base, 1).replace(
            "curl ", "curl --fail-with-body --retry 5 --retry-connrefused --retry-delay 3 --max-time 30 ", 1
        )
        say(f"$ {actual}")
        done = subprocess.run(
            ["bash", "-c", actual], capture_output=True, text=True, timeout=300, check=False
        )
        print(done.stdout.strip(), flush=True)
        if done.returncode != 0:
            said = " ".join((done.stderr + done.stdout).split())[-300:]
            raise E2EError(f"README example failed (curl exit {done.returncode}): {command} -> {said}")


def main() -> None:
    started = time.monotonic()
    engine = docker_engine()
    pinned = pins()["K3D_VERSION"]
    k3d_version(pinned)
    if shutil.which("kubectl") is None:
        raise E2EError(
            "kubectl is not on PATH: run through `make e2e`, which puts the venv's pinned kubectl first"
        )
    for path in (f"clusters/{ENV}/argocd", f"clusters/{ENV}/root.yaml", f"overlays/{ENV}/workloads"):
        if not (ROOT / path).exists():
            raise E2EError(f"{path} does not exist: the {ENV} environment is what make e2e deploys")
    repo_url, revision = repository()
    timeout = sync_timeout()
    refs, workloads, image = image_refs(), rendered_workloads(), k3s_image()
    check_pull_policies(workloads, set(refs))
    node_port = gateway_node_port(workloads)
    host, api_port, web_port = engine_host(), free_port(), free_port()
    name = f"cloud-design-e2e-{secrets.token_hex(3)}"
    say(f"Docker {engine}, k3d {pinned}, {image}; Argo CD syncs {repo_url} at {revision}")

    folders = service_images()
    with (
        tempfile.TemporaryDirectory(prefix="e2e-") as folder,
        throwaway_cluster(name, image, host, api_port, web_port, node_port) as creating,
    ):
        for image_name, ref in sorted(refs.items()):
            folder_name = folders[image_name]
            say(f"building {ref} from services/{folder_name}")
            dockerfile = f"services/{folder_name}/Dockerfile"
            run("docker", "build", "--quiet", "-t", ref, "-f", dockerfile, "services", timeout=1200)
        cluster_ready(creating)
        say(f"importing {len(refs)} images into {name}")
        run("k3d", "image", "import", "--cluster", name, *sorted(refs.values()), timeout=900)
        env = {**os.environ, "KUBECONFIG": str(write_kubeconfig(name, host, api_port, Path(folder)))}
        say(f"installing Argo CD from clusters/{ENV}/argocd")
        install_argocd(env)
        cluster_secrets, root_yaml, root = cluster_objects(repo_url, revision, refs)
        apply_objects(cluster_secrets, env)
        apply_objects(root_yaml, env)
        say(f"cluster Secret and clusters/{ENV}/root.yaml written; waiting for {root} and every Application")
        wait_for_sync(root, env, timeout)
        run_curls(f"{host}:{web_port}")
    say(f"passed in {time.monotonic() - started:.0f} s")


def stop_on_signal(signum, _frame):
    raise E2EError(f"stopped by signal {signum}")  # unwinds through the cluster's deletion


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    try:
        main()
    except E2EError as err:
        print(f"make e2e: {err}", file=sys.stderr)
        sys.exit(1)
