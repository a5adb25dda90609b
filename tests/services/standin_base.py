"""The STAND-IN for the services' pinned base image `python:3.11.<patch>-slim-bookworm`.

The official image cannot be had here (no Docker Hub), so the image tests build their own: Debian
bookworm from `debootstrap --variant=minbase` plus Debian's python3.11 (3.11.2 with Debian's
patches, not the pinned patch release), laid out the way the official image is where the
Dockerfiles can tell: `python`, `python3`, `pip`, `pip3` under /usr/local/bin, `ENV PATH` with
/usr/local/bin first, `LANG=C.UTF-8`, CMD `python3`, ca-certificates, netbase and tzdata, no apt
lists, no docs. It is named as a stand-in wherever it appears: `localhost/standin/python:...`,
and a label saying so.

Built once per recipe: the image is kept as an OCI archive under .build/images/ (git-ignored),
named by the sha256 of THIS FILE, so any change here rebuilds it and a fresh clone builds it from
nothing. Each test session loads the archive into its own, throw-away buildah storage.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import buildahkit

IMAGE = "localhost/standin/python:3.11-slim-bookworm"
DESCRIPTION = (
    "STAND-IN for python:3.11-slim-bookworm (tests only): debootstrap --variant=minbase bookworm "
    "and Debian's python3.11"
)

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"  # the mirror this machine's apt uses
# python3.11-venv: `python -m venv` (Debian splits ensurepip out); python3-pip: the `pip` on PATH.
PACKAGES = ("python3.11", "python3.11-venv", "python3-pip", "ca-certificates", "netbase", "tzdata")

# The official image's /usr/local/bin (its python is built there; Debian's lives in /usr/bin).
SYMLINKS = {
    "usr/local/bin/python3.11": "/usr/bin/python3.11",
    "usr/local/bin/python3": "python3.11",
    "usr/local/bin/python": "python3",
    "usr/local/bin/pip3.11": "/usr/bin/pip3",
    "usr/local/bin/pip3": "pip3.11",
    "usr/local/bin/pip": "pip3",
}
# The official image's python is not Debian's, so it carries no PEP 668 marker; debian:*-slim
# (its base) ships no docs, man pages or locales and no apt lists. debootstrap copies the build
# machine's hosts, hostname and resolv.conf in: they are not part of an image.
REMOVE = (
    "usr/lib/python3.11/EXTERNALLY-MANAGED",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "var/lib/apt/lists",
    "var/cache/apt",
    "etc/hostname",
    "etc/hosts",
    "etc/resolv.conf",
)
ENV = {"PATH": "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
CMD = '["python3"]'


def recipe_key() -> str:
    """The cache key: this file's content (the recipe is all here)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def archive_path(cache_dir: Path) -> Path:
    return cache_dir / f"standin-python-3.11-slim-bookworm-{recipe_key()}.oci.tar"


def debootstrap(rootfs: Path, log: Path) -> None:
    args = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(rootfs),
        MIRROR,
    ]
    with log.open("ab") as out:
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"debootstrap failed ({done.returncode}):\n{log.read_text()[-3000:]}")


def slim_layout(rootfs: Path) -> None:
    for relative in REMOVE:
        path = rootfs / relative
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    docs = rootfs / "usr/share/doc"
    for entry in docs.iterdir():  # keep only the copyright files, as debian:*-slim does
        if entry.is_dir() and not entry.is_symlink():
            for item in entry.iterdir():
                if item.name != "copyright":
                    shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()
        elif entry.name != "copyright":
            entry.unlink()
    for link, target in SYMLINKS.items():
        path = rootfs / link
        path.unlink(missing_ok=True)
        path.symlink_to(target)


def build(buildah: buildahkit.Buildah, archive: Path, workdir: Path) -> dict[str, float]:
    """debootstrap, lay out, commit and save the stand-in to `archive`; returns timings."""
    timings: dict[str, float] = {}
    rootfs, log = workdir / "rootfs", workdir / "debootstrap.log"
    started = time.monotonic()
    debootstrap(rootfs, log)
    timings["debootstrap"] = time.monotonic() - started
    slim_layout(rootfs)
    started = time.monotonic()
    container = buildah("from", "--pull=never", "scratch")
    try:
        mount = Path(buildah("mount", container))
        pack = subprocess.Popen(["tar", "-C", str(rootfs), "-cf", "-", "."], stdout=subprocess.PIPE)
        unpack = ["tar", "-C", str(mount), "-xf", "-", "--numeric-owner"]
        subprocess.run(unpack, stdin=pack.stdout, check=True, timeout=300)
        assert pack.wait(60) == 0, "tar of the stand-in rootfs failed"
        buildah("umount", container)
        config = ["config", "--cmd", CMD, "--label", f"org.opencontainers.image.description={DESCRIPTION}"]
        config += ["--label", f"cloud-design.standin-recipe={recipe_key()}", "--created-by", DESCRIPTION]
        for name, value in ENV.items():
            config += ["--env", f"{name}={value}"]
        buildah(*config, container)
        image = buildah("commit", "--quiet", container, IMAGE)
    finally:
        buildah("rm", container)
    partial = archive.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    buildah("push", "--quiet", "--disable-compression", image, f"oci-archive:{partial}:{IMAGE}")
    partial.rename(archive)
    timings["commit"] = time.monotonic() - started
    return timings


@contextlib.contextmanager
def _cache_lock(cache_dir: Path) -> Iterator[None]:
    with (cache_dir / ".standin.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions on one checkout: one builds, one waits
        yield


def load(buildah: buildahkit.Buildah, cache_dir: Path) -> tuple[str, dict[str, float]]:
    """Put the stand-in into `buildah`'s storage as IMAGE, building it first unless this recipe's
    archive is cached in `cache_dir`. Returns (image id, timings; "debootstrap" only if built)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    with _cache_lock(cache_dir):
        archive = archive_path(cache_dir)
        if not archive.exists():
            for stale in cache_dir.glob("standin-python-*.oci.tar"):
                stale.unlink()  # another recipe's
            with tempfile.TemporaryDirectory(dir=cache_dir, prefix="standin-build-") as workdir:
                timings.update(build(buildah, archive, Path(workdir)))
            buildah("rmi", IMAGE)  # load it from the archive, exactly as a cached run does
        started = time.monotonic()
        image = buildah("pull", "--quiet", f"oci-archive:{archive}")
        buildah("tag", image, IMAGE)
        timings["load"] = time.monotonic() - started
    labels = buildah.image_config(IMAGE).get("Labels") or {}
    assert labels.get("cloud-design.standin-recipe") == recipe_key(), f"stale stand-in archive {archive}"
    return image, timings
