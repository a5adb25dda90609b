"""Real image builds and runs with Debian's buildah (1.28), for the image tests.

No container engine runs here (no Docker daemon; podman's runtime cannot start containers in this
sandbox), but buildah can: `vfs` storage and `chroot` isolation need neither overlay mounts nor
namespaces beyond a mount namespace. Each test session gets its own storage (--root, --runroot
and TMPDIR under one directory, removed at the end), so nothing touches the machine's storage.

Under chroot isolation a `buildah run` process shares the host's network and PID namespaces: the
service binds 127.0.0.1:<PORT> on this machine, and its processes can be read in /proc (their
root is the container's root filesystem, their parent buildah's `buildah-chroot-exec` helper).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# RUN steps reach PyPI with the CAs this machine trusts (its egress may re-sign TLS), bind-mounted
# read-only for the build only: nothing of it lands in an image. Debian's pip uses this bundle.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

# FROM [--platform=...] <image> [AS <name>]
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE | re.MULTILINE)


def base_images(dockerfile: Path) -> list[str]:
    """The images a Dockerfile's stages start FROM (not its own earlier stages), in order.

    Read from the text because they must be substituted before the build can run; the build then
    proves the list complete: with --pull=never in a storage holding only the stand-in, any FROM
    not substituted fails it."""
    stages: set[str] = set()
    bases = []
    for match in _FROM.finditer(dockerfile.read_text()):
        image, name = match.group(1), match.group(2)
        if image.lower() not in stages and image not in bases:
            bases.append(image)
        if name:
            stages.add(name.lower())
    return bases


class Buildah:
    """`buildah` on a private storage under `state_dir` (vfs, chroot isolation)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.tmp = state_dir / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        # Held while this storage is in use: remove_stale() skips it, and takes what no one holds.
        self._in_use = (state_dir / IN_USE).open("w")
        fcntl.flock(self._in_use, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.global_args = [
            "--root", str(state_dir / "storage"),
            "--runroot", str(state_dir / "runroot"),
            "--storage-driver", "vfs",
        ]  # fmt: skip
        self.env = {
            **os.environ,
            "STORAGE_DRIVER": "vfs",
            "BUILDAH_ISOLATION": "chroot",
            "TMPDIR": str(self.tmp),  # buildah run's bind-mount scratch dirs land here, not /var/tmp
        }

    def command(self, *args: str) -> list[str]:
        return ["buildah", *self.global_args, *args]

    def __call__(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise BuildahError(args, done.returncode, done.stdout + done.stderr)
        return done.stdout.strip()

    def image_inspect(self, image: str) -> dict:
        return json.loads(self("inspect", "--type", "image", image))

    def image_config(self, image: str) -> dict:
        return self.image_inspect(image)["OCIv1"]["config"]

    def build(
        self, dockerfile: Path, context: Path, tag: str, substitutes: Mapping[str, str], log: Path
    ) -> None:
        """`buildah bud` with every FROM in `substitutes` replaced by its local image.

        buildah 1.28's `bud --from` replaces only the first FROM, and these Dockerfiles have two;
        `--build-context <name>=docker-image://<local image>` replaces every FROM <name>, so the
        pinned reference never has to be faked in the storage."""
        args = ["bud", "--pull=never", "--isolation", "chroot", "--layers=false", "--quiet"]
        args += ["--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"]
        for name, image in substitutes.items():
            args += ["--build-context", f"{name}=docker-image://{image}"]
        args += ["-f", str(dockerfile), "-t", tag, str(context)]
        with log.open("ab") as out:
            done = subprocess.run(
                self.command(*args), env=self.env, stdout=out, stderr=subprocess.STDOUT, timeout=900
            )
        if done.returncode != 0:
            raise BuildahError(args, done.returncode, log.read_text(errors="replace")[-4000:])

    def remove_everything(self) -> None:
        """Delete this storage: containers, images and the directory itself."""
        for args in (("rm", "--all"), ("rmi", "--all", "--force")):
            subprocess.run(self.command(*args), env=self.env, capture_output=True, timeout=300, check=False)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self._in_use.close()


IN_USE = "in-use.lock"


def remove_stale(parent: Path, pattern: str) -> list[Path]:
    """Delete the storages under `parent` matching `pattern` that no live session holds (left by
    an interrupted run: vfs keeps a full copy per layer, a session's storage reaches 1.5 GB)."""
    removed = []
    for state_dir in sorted(parent.glob(pattern)):
        lock_path = state_dir / IN_USE
        if not lock_path.exists():
            continue  # not a storage of ours, or one still being set up
        with lock_path.open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # in use
            shutil.rmtree(state_dir, ignore_errors=True)
            removed.append(state_dir)
    return removed


class BuildahError(RuntimeError):
    def __init__(self, args: Sequence[str], returncode: int, output: str) -> None:
        super().__init__(f"buildah {' '.join(args)} exited {returncode}:\n{output[-4000:]}")
        self.output = output


# --- processes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    uids: tuple[int, ...]  # real, effective, saved, filesystem
    gids: tuple[int, ...]
    cap_eff: int
    root: str
    argv: tuple[str, ...]


def read_proc(pid: int) -> Proc | None:
    try:
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        root = os.readlink(f"/proc/{pid}/root")
        argv = tuple(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None  # gone meanwhile
    return Proc(
        pid=pid,
        ppid=int(status["PPid"]),
        uids=tuple(int(v) for v in status["Uid"].split()),
        gids=tuple(int(v) for v in status["Gid"].split()),
        cap_eff=int(status["CapEff"].strip(), 16),
        root=root,
        argv=argv,
    )


def descendants(pid: int) -> list[Proc]:
    procs = [p for p in (read_proc(int(d)) for d in os.listdir("/proc") if d.isdigit()) if p]
    children: dict[int, list[Proc]] = {}
    for proc in procs:
        children.setdefault(proc.ppid, []).append(proc)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


CHROOT_HELPER = "buildah-chroot-exec"


@dataclass
class Running:
    """A command started with `buildah run` in a working container."""

    process: subprocess.Popen
    log_path: Path

    def in_container(self) -> list[Proc]:
        """The processes inside the container's root (buildah's helper included)."""
        return [p for p in descendants(self.process.pid) if p.root != "/"]

    def main(self) -> Proc:
        """The command itself: the process the chroot helper started."""
        inside = self.in_container()
        helpers = {p.pid for p in inside if p.argv[:1] == (CHROOT_HELPER,)}
        mains = [p for p in inside if p.ppid in helpers and p.pid not in helpers]
        assert len(mains) == 1, f"expected one command under {CHROOT_HELPER}: {inside}"
        return mains[0]

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float) -> int:
        """SIGTERM to the command itself (buildah answers its own SIGTERM with SIGKILL)."""
        if self.process.poll() is None:
            try:
                os.kill(self.main().pid, signal.SIGTERM)
            except (AssertionError, ProcessLookupError):
                self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def run_in_container(
    buildah: Buildah, container: str, command: Sequence[str], env: Mapping[str, str], log_path: Path
) -> Running:
    """Start `command` in `container` as the image's USER, in its WORKDIR, with its ENV plus `env`."""
    args = ["run", "--isolation", "chroot"]
    for name, value in env.items():
        args += ["--env", f"{name}={value}"]
    args += [container, "--", *command]
    with log_path.open("ab") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            buildah.command(*args), env=buildah.env, stdout=out, stderr=subprocess.STDOUT
        )
    return Running(process, log_path)


def wait_for(predicate, timeout: float, what: str, running: Running | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running is not None and running.process.poll() is not None:
            code, logs = running.process.returncode, running.logs()[-3000:]
            raise AssertionError(f"exited {code} before {what}:\n{logs}")
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# --- the container's filesystem ----------------------------------------------------------------

Entry = tuple[int, int, int, int, int, str]  # mode, uid, gid, size, mtime_ns, symlink target


# `buildah run` bind-mounts /run/.containerenv, creating the mount target in the container's /run
# and removing it afterwards on every run: /run's own mtime is buildah's doing. Anything the
# service leaves in /run still shows.
BUILDAH_TOUCHES = ("/run",)


def snapshot(root: Path, exclude: Sequence[str]) -> dict[str, Entry]:
    """Every path under `root` (a mounted container) with its metadata, except the top-level
    directories in `exclude` and everything below them (and the mtimes of BUILDAH_TOUCHES)."""
    entries: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        relative_dir = os.path.relpath(dirpath, root)
        if relative_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in exclude]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            target = os.readlink(path) if stat.S_ISLNK(info.st_mode) else ""
            key = "/" + os.path.normpath(os.path.join(relative_dir, name))
            mtime = 0 if key in BUILDAH_TOUCHES else info.st_mtime_ns
            entries[key] = (info.st_mode, info.st_uid, info.st_gid, info.st_size, mtime, target)
    return entries


def changed_paths(before: Mapping[str, Entry], after: Mapping[str, Entry]) -> list[str]:
    """Paths added, removed or modified (metadata, size or mtime) between two snapshots."""
    changes = [f"added {p}" for p in after.keys() - before.keys()]
    changes += [f"removed {p}" for p in before.keys() - after.keys()]
    changes += [f"changed {p}" for p in before.keys() & after.keys() if before[p] != after[p]]
    return sorted(changes, key=lambda c: c.split(" ", 1)[1])
