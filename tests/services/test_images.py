"""Each service's image, built for real from its Dockerfile and run as the image says.

Real: `buildah bud` (Debian's buildah 1.28, vfs storage, chroot isolation; buildahkit.py) runs
every Dockerfile instruction with the build context services/, including the build stage's
`pip install --require-hashes` of the service's lock from PyPI. Each built image is then started
with `buildah run` using its own CMD (or the contract's command for the worker, which shares
billing's image), its own USER, WORKDIR and ENV, against this machine's real PostgreSQL and
RabbitMQ (chroot isolation shares the host's network). The test reads the image config, the
processes' credentials in /proc, the venv's installed distributions, the /health, /ready and
/metrics answers, the exit code after SIGTERM, and the container's filesystem before and after
serving (nothing may change outside /tmp: the cluster mounts the root filesystem read-only and
only /tmp as an emptyDir).

STAND-IN: the pinned base `python:3.11.<patch>-slim-bookworm` cannot be pulled here (no Docker
Hub). Every FROM of it is replaced (buildah's `--build-context <pinned>=docker-image://...`) by
`localhost/standin/python:3.11-slim-bookworm`, built locally with debootstrap and Debian's
python3.11 (standin_base.py; cached under .build/images/ by recipe hash). So the Python is
Debian's 3.11.2, not the pinned patch release, and the base layers are not the official ones;
the Dockerfiles' pinned reference itself is checked as text only (the FROM lines are read to know
what to substitute; with --pull=never a FROM left unsubstituted fails the build). The RUN steps
see this machine's CA bundle (bind-mounted, not in the image): its egress may re-sign TLS.

Each Dockerfile is built once per session (the three in parallel) and every assertion runs
against those builds; the session's buildah storage (about 1.5 GB: vfs copies every layer) is
removed at the end. The session prints its timings ("test_images timings: ...").

Not reproduced: the cluster's read-only root filesystem and dropped capabilities are not applied
by `buildah run` (the filesystem diff and CapEff stand for them), nor its seccomp profile.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import buildahkit
import pytest
import requests
import servicekit
import standin_base
from buildahkit import Buildah
from common.gunicorn_base import GRACEFUL_TIMEOUT_SECONDS

ROOT = servicekit.ROOT
WORKLOADS = servicekit.WORKLOADS  # contract.yaml's workloads: folder (from `source`) and command
FOLDERS = sorted({workload.folder for workload in WORKLOADS.values()})
DOCKERFILES = {folder: servicekit.SERVICES / folder / "Dockerfile" for folder in FOLDERS}
CACHE_DIR = ROOT / ".build" / "images"  # git-ignored; the stand-in archive lives here

EXACT_SLIM_BASE = re.compile(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$")
NON_ROOT_USER = re.compile(r"^[1-9][0-9]*:[1-9][0-9]*$")  # numeric, so runAsNonRoot can verify it
UNREACHABLE = "http://127.0.0.1:9"  # upstreams the test does not start (discard port)

TIMINGS: dict[str, float] = {}

# The first test to need an image also builds the stand-in (debootstrap: about a minute, more on a
# loaded machine) and the three images (PyPI): beyond pyproject's 300 s when the lane is busy.
# Every build and run carries its own timeout (buildahkit, standin_base).
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="session")
def buildah(request) -> Buildah:
    """A private buildah storage for this session, under .build/images/run-<id>, removed at the end."""
    buildahkit.remove_stale(CACHE_DIR, "run-*")
    tool = Buildah(CACHE_DIR / f"run-{servicekit.RUN_ID}")
    started = time.monotonic()

    def report() -> None:
        tool.remove_everything()
        TIMINGS["whole image session"] = time.monotonic() - started
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:  # the CI log shows what the lane spends here
            figures = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMINGS.items())
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"test_images timings: {figures}")

    request.addfinalizer(report)
    return tool


@pytest.fixture(scope="session")
def standin(buildah: Buildah) -> str:
    """The stand-in base, loaded into this session's storage (built first unless cached)."""
    _, timings = standin_base.load(buildah, CACHE_DIR)
    TIMINGS.update({f"stand-in {step}": seconds for step, seconds in timings.items()})
    return standin_base.IMAGE


def build_image(buildah: Buildah, standin: str, dockerfile: Path, context: Path, tag: str, log: Path) -> None:
    bases = buildahkit.base_images(dockerfile)
    assert bases, f"{dockerfile}: no FROM"
    buildah.build(dockerfile, context, tag, dict.fromkeys(bases, standin), log)


@pytest.fixture(scope="session")
def images(buildah: Buildah, standin: str, tmp_path_factory) -> dict[str, str]:
    """folder -> tag of its image, each Dockerfile built once per session."""
    logs = tmp_path_factory.mktemp("image-builds")

    def build(folder: str) -> str:
        tag = f"localhost/cloud-design-test/{folder}:{servicekit.RUN_ID}"
        started = time.monotonic()
        build_image(buildah, standin, DOCKERFILES[folder], servicekit.SERVICES, tag, logs / f"{folder}.log")
        TIMINGS[f"build {folder}"] = time.monotonic() - started
        return tag

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(FOLDERS)) as pool:  # mostly waiting on I/O and PyPI
        built = dict(zip(FOLDERS, pool.map(build, FOLDERS), strict=True))
    TIMINGS["builds together"] = time.monotonic() - started
    return built


# --- what a run of an image shows ---------------------------------------------------------------

LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted(d.metadata['Name'] + '==' + d.version for d in m.distributions())))"
)


def normalized(requirement: str) -> str:
    name, _, version = requirement.partition("==")
    return f"{re.sub(r'[-_.]+', '-', name).lower()}=={version}"


def locked_pins(lock: Path) -> set[str]:
    return {normalized(m.group(1)) for m in re.finditer(r"^(\S+==\S+)", lock.read_text(), re.MULTILINE)}


@dataclass
class Observation:
    config: dict
    final_stage_history: list[str]
    distributions: set[str]
    processes: list[buildahkit.Proc] = field(default_factory=list)
    health: int | None = None
    ready: int | None = None
    metrics: str = ""
    stop_code: int | None = None
    changes: list[str] = field(default_factory=list)
    logs: str = ""


def http_status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return None


def observe(
    buildah: Buildah, standin: str, image: str, command: list[str] | None, env: dict, log_dir: Path, *,
    expect_ready: bool,
) -> Observation:  # fmt: skip
    """Start `image` in a fresh working container and record what it does (see the docstring)."""
    history = buildah.image_inspect(image)["OCIv1"]["history"]
    base_history = buildah.image_inspect(standin)["OCIv1"]["history"]
    config = buildah.image_config(image)
    container = buildah("from", "--pull=never", image)
    try:
        # A first run also lets buildah create what it mounts over (/etc/hosts, ...) before the
        # "before" snapshot; it runs as the image user, like the service.
        listed = buildah("run", "--isolation", "chroot", container, "--", "python", "-c", LIST_DISTRIBUTIONS)
        seen = Observation(
            config=config,
            final_stage_history=[h.get("created_by", "") for h in history[len(base_history) :]],
            distributions={normalized(d) for d in json.loads(listed)},
        )
        mount = Path(buildah("mount", container))
        before = buildahkit.snapshot(mount, exclude=["tmp"])
        port = servicekit.free_port()
        full_env = {"PORT": str(port), "GUNICORN_WORKERS": "2", **env}
        log_path = log_dir / f"{container}.log"
        command = command or config["Cmd"]
        running = buildahkit.run_in_container(buildah, container, command, full_env, log_path)
        base = f"http://127.0.0.1:{port}"
        try:
            buildahkit.wait_for(lambda: http_status(f"{base}/health") == 200, 60, "/health", running)
            seen.health = http_status(f"{base}/health")
            seen.processes = running.in_container()
            if expect_ready:
                deadline = time.monotonic() + 30
                seen.ready = http_status(f"{base}/ready")
                while seen.ready != 200 and time.monotonic() < deadline:
                    time.sleep(0.3)
                    seen.ready = http_status(f"{base}/ready")
            seen.metrics = requests.get(f"{base}/metrics", timeout=5).text
        finally:
            # A SIGTERM that lands while a gunicorn worker is still booting is lost on that worker;
            # the master then waits graceful_timeout for it before exiting cleanly.
            seen.stop_code = running.stop(timeout=GRACEFUL_TIMEOUT_SECONDS + 10)
            seen.logs = running.logs()
        seen.changes = buildahkit.changed_paths(before, buildahkit.snapshot(mount, exclude=["tmp"]))
        return seen
    finally:
        buildah("rm", container)


def problems(seen: Observation, pins: set[str]) -> list[str]:
    """Everything the cluster's pod security and the Dockerfile's promises rule out."""
    found = []
    user = seen.config.get("User", "")
    if not NON_ROOT_USER.match(user):
        found.append(f"image USER {user!r} is not a numeric non-root uid:gid")
    if seen.config.get("WorkingDir") != "/app":
        found.append(f"image WORKDIR {seen.config.get('WorkingDir')!r}")
    runs = [step for step in seen.final_stage_history if "#(nop)" not in step]
    if runs:
        found.append(f"RUN in the final stage (build tools belong in the build stage): {runs}")
    installed = {d for d in seen.distributions if d.split("==")[0] not in ("pip", "setuptools")}
    if installed != pins:
        found.append(f"venv differs from the lock: missing {pins - installed}, extra {installed - pins}")
    if not seen.processes:
        found.append("no process seen in the container")
    for proc in seen.processes:
        if user and NON_ROOT_USER.match(user):
            uid, gid = (int(v) for v in user.split(":"))
        else:
            uid, gid = 1, 1  # any non-root id: reported below when a process has 0
        if set(proc.uids) != {uid} or set(proc.gids) != {gid}:
            found.append(f"process {proc.argv[:3]} runs as uids {proc.uids} gids {proc.gids}")
        if proc.cap_eff:
            found.append(f"process {proc.argv[:3]} has capabilities {proc.cap_eff:#x}")
    if seen.health != 200:
        found.append(f"/health answered {seen.health}")
    if seen.stop_code != 0:
        found.append(f"exit code {seen.stop_code} after SIGTERM")
    found += [f"wrote outside /tmp: {change}" for change in seen.changes]
    return found


def workload_env(workload: str, dbs: dict[str, str], queue: str) -> dict[str, str]:
    """What the workload's settings need, all real (this run's databases and queue, the machine's
    RabbitMQ) except the upstream URLs; a setting a workload does not read is ignored by it."""
    env = {
        "AMQP_URL": servicekit.AMQP_URL,
        "BILLING_QUEUE": queue,  # this run's queue, not the shared default
        "INVENTORY_URL": UNREACHABLE,
        "BILLING_URL": UNREACHABLE,
    }
    folder = WORKLOADS[workload].folder
    if folder in dbs:
        env["DATABASE_URL"] = dbs[folder]
    return env


# --- the tests ---------------------------------------------------------------------------------


def test_every_contract_source_has_the_only_dockerfiles() -> None:
    assert {path.parent.name for path in servicekit.SERVICES.glob("*/Dockerfile")} == set(FOLDERS)


def unpinned_bases(dockerfile: Path) -> list[str]:
    """The bases that are not the exact slim Python release (the text only: see the docstring)."""
    bases = buildahkit.base_images(dockerfile)
    return [base for base in bases if not EXACT_SLIM_BASE.match(base)] if bases else ["no FROM"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_dockerfile_bases_are_the_pinned_slim_python(folder: str) -> None:
    assert unpinned_bases(DOCKERFILES[folder]) == []


@pytest.mark.parametrize(
    "base", ["python:3.11-slim-bookworm", "python:3.11.14-bookworm", "python:3.11.14-slim", "python:latest"]
)
def test_an_unpinned_or_fat_base_is_reported(base: str, tmp_path) -> None:
    text = DOCKERFILES["inventory"].read_text()
    pinned = buildahkit.base_images(DOCKERFILES["inventory"])[0]
    (tmp_path / "Dockerfile").write_text(text.replace(f"FROM {pinned}\n", f"FROM {base}\n", 1))
    assert unpinned_bases(tmp_path / "Dockerfile") == [base]


@pytest.fixture(scope="session")
def service_dbs(inventory_db: str, billing_db: str) -> dict[str, str]:
    return {"inventory": inventory_db, "billing": billing_db}


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_image_serves_as_non_root_and_writes_only_tmp(
    workload, buildah, standin, images, service_dbs, billing_queue, tmp_path
) -> None:
    folder, command = WORKLOADS[workload].folder, list(WORKLOADS[workload].command)
    image = images[folder]
    config = buildah.image_config(image)
    # The image's CMD is its main workload's command; the worker runs billing's image with its own.
    main = config["Cmd"] == command
    assert main or folder != workload, f"{folder} CMD {config['Cmd']} differs from the contract"
    started = time.monotonic()
    seen = observe(
        buildah, standin, image, None if main else command,
        workload_env(workload, service_dbs, billing_queue), tmp_path,
        expect_ready=folder in service_dbs,
    )  # fmt: skip
    TIMINGS[f"run {workload}"] = time.monotonic() - started
    pins = locked_pins(servicekit.SERVICES / folder / "requirements.txt")
    assert problems(seen, pins) == [], seen.logs[-3000:]
    if folder in service_dbs:  # /ready asks the database (and the worker's, RabbitMQ): all real here
        assert seen.ready == 200, seen.logs[-3000:]
    assert "http_requests_total" in seen.metrics or workload == "billing-worker"
    assert "billing_consumer_up" in seen.metrics or workload != "billing-worker"


# --- the checks fail on broken images ------------------------------------------------------------

# One image breaking every rule at once, derived from the built inventory image: root, a RUN in
# the final stage, a distribution in the venv that the lock does not pin (written by hand, offline),
# another WORKDIR, and a start command that writes outside /tmp.
BROKEN_VARIANT = """\
FROM {image}
USER 0:0
RUN d=/opt/venv/lib/python3.11/site-packages/unlocked_extra-1.0.dist-info && mkdir $d && \\
    printf 'Metadata-Version: 2.1\\nName: unlocked-extra\\nVersion: 1.0\\n' > $d/METADATA
WORKDIR /opt
CMD ["sh", "-c", "cd /app && date > started && exec gunicorn -c gunicorn.conf.py 'inventory:create_app()'"]
"""


def test_checks_report_a_root_image_a_changed_venv_and_writes_outside_tmp(
    buildah, standin, images, service_dbs, tmp_path
) -> None:
    """The same checks as above, on an image built from a temp context that breaks each rule."""
    (tmp_path / "Dockerfile").write_text(BROKEN_VARIANT.format(image=images["inventory"]))
    tag = f"localhost/cloud-design-test/broken:{servicekit.RUN_ID}"
    buildah.build(tmp_path / "Dockerfile", tmp_path, tag, {}, tmp_path / "build.log")
    env = workload_env("inventory", service_dbs, "unused")
    seen = observe(buildah, standin, tag, None, env, tmp_path, expect_ready=False)
    found = "\n".join(problems(seen, locked_pins(servicekit.SERVICES / "inventory" / "requirements.txt")))
    assert seen.health == 200, seen.logs[-3000:]  # it serves: only the rules are broken
    assert "image USER '0:0' is not a numeric non-root uid:gid" in found
    assert "runs as uids (0, 0, 0, 0)" in found
    assert "has capabilities" in found
    assert "RUN in the final stage" in found
    assert "image WORKDIR '/opt'" in found
    assert "venv differs from the lock: missing set(), extra {'unlocked-extra==1.0'}" in found
    assert "wrote outside /tmp: added /app/started" in found
    assert "wrote outside /tmp: changed /app\n" in found  # the directory's mtime


def test_build_fails_when_a_from_is_not_substituted(buildah, standin, tmp_path) -> None:
    """--pull=never in a storage holding only the stand-in: an unsubstituted base cannot resolve,
    so a FROM the test did not replace never slips through to some other image."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.11.14-slim-bookworm\nRUN true\n")
    with pytest.raises(buildahkit.BuildahError, match="python:3.11.14-slim-bookworm: image not known"):
        buildah.build(tmp_path / "Dockerfile", tmp_path, "localhost/unsubstituted:x", {}, tmp_path / "log")


def test_build_fails_on_a_lock_whose_hash_does_not_match(buildah, standin, tmp_path) -> None:
    """The build stage's pip install checks the lock's hashes: a temp copy of the context with one
    hash altered must not build."""
    context = tmp_path / "services"
    for part in ("inventory", "common"):
        src = servicekit.SERVICES / part
        (context / part).mkdir(parents=True)
        for path in src.rglob("*"):
            if "__pycache__" not in path.parts and path.is_file():
                target = context / part / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    lock = context / "inventory" / "requirements.txt"
    # Every hash of the first pinned package (its wheel's and its sdist's), one digit changed.
    text = lock.read_text()
    first = re.search(r"^\S+==\S+ \\\n(?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+", text, re.MULTILINE)
    assert first, "no hashed requirement in the lock"
    flip = r"(--hash=sha256:[0-9a-f]{63})([0-9a-f])"
    block = re.sub(flip, lambda m: m.group(1) + "01"[m.group(2) == "0"], first.group(0))
    lock.write_text(text.replace(first.group(0), block))
    with pytest.raises(buildahkit.BuildahError, match="DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE"):
        dockerfile = context / "inventory" / "Dockerfile"
        build_image(buildah, standin, dockerfile, context, "localhost/tampered:x", tmp_path / "log")
