"""A real OCI registry and small real images for the delivery tests (no stand-ins here).

`start()` runs Debian's `docker-registry` (the CNCF distribution registry 2.8, the HTTP API ECR
serves) on a free loopback port, optionally behind htpasswd basic auth and optionally over HTTPS
with a certificate made here for 127.0.0.1 (`ca_file`: a client trusts it through SSL_CERT_FILE, as
a client trusts ECR through the system's roots, with no insecure flag). The images are OCI layout
directories written here byte by byte (one tiny layer each), so their digests are known before
skopeo pushes them: `single_image` (one platform) and `multi_arch_index` (amd64 + arm64 images
under an OCI image index).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import socket
import ssl
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import loopback_tls

INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Registry:
    host: str
    process: subprocess.Popen[bytes]
    creds: str | None = None  # USER:PASSWORD when it asks for a login
    ca_file: Path | None = None  # its certificate (PEM) when it serves HTTPS

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_file else 'http'}://{self.host}"

    def _context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def tags(self, repository: str) -> list[str]:
        """The repository's tags through the registry's own API ([] when it has none or does not exist)."""
        request = urllib.request.Request(f"{self.url}/v2/{repository}/tags/list")  # noqa: S310 - http(s)
        if self.creds:
            request.add_header("Authorization", "Basic " + base64.b64encode(self.creds.encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=5, context=self._context()) as answer:  # noqa: S310 - ditto
                return list(json.load(answer).get("tags") or [])
        except urllib.error.HTTPError as err:
            if err.code == 404:  # NAME_UNKNOWN: nothing was ever pushed there
                return []
            raise


def _htpasswd_line(user: str, password: str) -> str:
    """distribution reads bcrypt only; the C library's crypt(3) makes it (Python 3.11's crypt).
    Cost 4, the least bcrypt allows: the registry checks it on every request."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

    salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)  # noqa: S324 - bcrypt ($2b$), what htpasswd needs
    return f"{user}:{crypt.crypt(password, salt)}\n"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, valid for a day."""
    cert_file, key_file = folder / "registry.crt", folder / "registry.key"
    loopback_tls.write_certificate(cert_file, key_file, "oci_registry test registry")
    return cert_file, key_file


def start(folder: Path, creds: str | None = None, tls: bool = False) -> Registry:
    """docker-registry on a free loopback port, storing under `folder`; `creds` turns on basic auth,
    `tls` HTTPS with a certificate of its own (Registry.ca_file)."""
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    assert Path(binary).exists() and shutil.which("skopeo"), "apt-get install docker-registry skopeo"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if creds:
        user, _, password = creds.partition(":")
        (folder / "htpasswd").write_text(_htpasswd_line(user, password))
        auth = f"auth: {{htpasswd: {{realm: test, path: {folder / 'htpasswd'}}}}}\n"
    ca_file = None
    http = f"addr: '127.0.0.1:{port}'"
    if tls:
        ca_file, key_file = _certificate(folder)
        http += f", tls: {{certificate: {ca_file}, key: {key_file}}}"
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {folder / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{{http}}}\n" + auth
    )
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = Registry(f"127.0.0.1:{port}", process, creds, ca_file)
    deadline = time.monotonic() + 20
    while True:
        try:
            probe = f"{server.url}/v2/"  # http(s)://, built here
            urllib.request.urlopen(probe, timeout=1, context=server._context()).close()  # noqa: S310
            break
        except urllib.error.HTTPError as err:  # 401: up, and asking for the login
            if err.code == 401 and creds:
                break
            raise
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                stderr = process.stderr.read().decode()[-500:] if process.stderr else ""
                raise RuntimeError(f"docker-registry did not start: {stderr}") from None
            time.sleep(0.1)
    return server


# --- images: OCI layouts written here, so every digest is known up front -------------------------
@dataclass
class Layout:
    path: Path
    blobs: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.path / "blobs/sha256").mkdir(parents=True)
        (self.path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')

    def blob(self, data: bytes, media_type: str) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (self.path / "blobs/sha256" / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    def image(self, text: str, architecture: str) -> dict[str, object]:
        """A one-layer image holding hello.txt = `text`; returns its manifest's descriptor."""
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            member = tarfile.TarInfo("hello.txt")
            member.size = len(text.encode())
            tar.addfile(member, io.BytesIO(text.encode()))
        layer = archive.getvalue()
        config = {
            "architecture": architecture,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"]},
        }
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": self.blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json"),
            "layers": [
                self.blob(gzip.compress(layer, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")
            ],
        }
        return self.blob(json.dumps(manifest).encode(), MANIFEST_TYPE)

    def tag(self, descriptor: dict[str, object], name: str = "built") -> str:
        entry = {**descriptor, "annotations": {"org.opencontainers.image.ref.name": name}}
        (self.path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
        return f"oci:{self.path}:{name}"


def single_image(folder: Path, text: str) -> str:
    """An OCI layout holding a one-file amd64 image; returns its skopeo reference."""
    layout = Layout(folder / "layout")
    return layout.tag(layout.image(text, "amd64"))


@dataclass(frozen=True)
class MultiArch:
    reference: str  # oci:<layout>:built
    index_digest: str
    platforms: dict[str, str]  # architecture -> manifest digest


def multi_arch_index(folder: Path, text: str) -> MultiArch:
    """amd64 and arm64 images (one layer each) under one OCI image index."""
    layout = Layout(folder / "layout")
    children = []
    platforms = {}
    for architecture in ("amd64", "arm64"):
        child = layout.image(f"{text} on {architecture}", architecture)
        children.append({**child, "platform": {"architecture": architecture, "os": "linux"}})
        platforms[architecture] = str(child["digest"])
    index = layout.blob(
        json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": children}).encode(), INDEX_TYPE
    )
    return MultiArch(layout.tag(index), str(index["digest"]), platforms)


def push(source: str, destination: str, creds: str | None = None) -> subprocess.CompletedProcess[str]:
    """skopeo copy --all of `source` into the registry (how the images get there; the build jobs
    do the same with buildah push)."""
    command = [
        "skopeo",
        "copy",
        "--all",
        "--preserve-digests",
        "--retry-times",
        "0",
        "--dest-tls-verify=false",
    ]
    if creds:
        command += ["--dest-creds", creds]
    return subprocess.run(
        [*command, source, f"docker://{destination}"], capture_output=True, text=True, check=False
    )


def raw_manifest(reference: str, creds: str | None = None) -> bytes:
    command = ["skopeo", "inspect", "--raw", "--tls-verify=false", "--retry-times", "0"]
    if creds:
        command += ["--creds", creds]
    done = subprocess.run([*command, f"docker://{reference}"], capture_output=True, check=True)
    return done.stdout
