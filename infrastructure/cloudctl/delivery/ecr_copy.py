"""Copy one image between ECR repositories through the ECR API only (no docker, no crane).

PutImage accepts a manifest only once every blob it references (config and layers) is in the
TARGET repository, else it answers LayersNotFoundException. So, per manifest: ask the target which
blobs it lacks (BatchCheckLayerAvailability), stream each missing one from the source's download URL
(an HTTPS pre-signed URL) into a layer upload on the target, checking its sha256 while it streams,
then put the manifest byte for byte. An image index (multi-arch) copies each child manifest first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import urllib3
from botocore.exceptions import ClientError

from cloudctl.delivery.registry import Repository
from cloudctl.errors import CloudctlError

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
MANIFEST_TYPES = [
    *sorted(INDEX_TYPES),
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
]
DEFAULT_MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CHECK_BATCH = 100  # BatchCheckLayerAvailability takes at most 100 digests
READ_CHUNK = 1 << 20  # bytes read from the download at a time; memory stays under partSize + this


@dataclass(frozen=True)
class Manifest:
    text: str
    media_type: str
    digest: str | None

    @property
    def document(self) -> dict:
        return json.loads(self.text)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES or "manifests" in self.document


class ImageCopier:
    """Copies images from `source` to `target`. `http` downloads the blobs (urllib3, certificates
    verified); tests hand in one that trusts their local HTTPS server's certificate."""

    def __init__(self, ecr, source: Repository, target: Repository, http: urllib3.PoolManager | None = None):
        self.ecr, self.source, self.target = ecr, source, target
        self.http = http or urllib3.PoolManager(cert_reqs="CERT_REQUIRED")

    def copy(self, tag: str) -> bool:
        """Copy source:tag to target:tag. Returns False when the target already had it."""
        manifest = self._get_manifest({"imageTag": tag}, f"{self.source.name}:{tag}")
        return self._copy_manifest(manifest, tag)

    def _copy_manifest(self, manifest: Manifest, tag: str | None) -> bool:
        if manifest.is_index:
            for child in manifest.document.get("manifests", []):
                digest = child["digest"]
                self._copy_manifest(
                    self._get_manifest({"imageDigest": digest}, f"{self.source.name}@{digest}"), None
                )
        else:
            for digest in self._missing_blobs(_blob_digests(manifest.document)):
                self._copy_blob(digest)
        return self._put_manifest(manifest, tag)

    def _get_manifest(self, image_id: dict, label: str) -> Manifest:
        found = self._call(
            "batch_get_image",
            label,
            registryId=self.source.registry,
            repositoryName=self.source.name,
            imageIds=[image_id],
            acceptedMediaTypes=MANIFEST_TYPES,
        )
        if not found.get("images"):
            reason = (found.get("failures") or [{}])[0].get("failureReason", "not found")
            raise CloudctlError(f"image {label} cannot be read: {reason}")
        image = found["images"][0]
        text = image["imageManifest"]
        media_type = image.get("imageManifestMediaType") or json.loads(text).get("mediaType")
        return Manifest(
            text, media_type or DEFAULT_MANIFEST_TYPE, image.get("imageId", {}).get("imageDigest")
        )

    def _missing_blobs(self, digests: list[str]) -> list[str]:
        missing = []
        for start in range(0, len(digests), CHECK_BATCH):
            batch = digests[start : start + CHECK_BATCH]
            answer = self._call(
                "batch_check_layer_availability",
                f"{self.target.name} blobs",
                registryId=self.target.registry,
                repositoryName=self.target.name,
                layerDigests=batch,
            )
            available = {
                layer["layerDigest"]
                for layer in answer.get("layers", [])
                if layer.get("layerAvailability") == "AVAILABLE"
            }
            missing += [digest for digest in batch if digest not in available]
        return missing

    def _copy_blob(self, digest: str) -> None:
        algorithm, _, expected = digest.partition(":")
        if algorithm != "sha256" or not expected:
            raise CloudctlError(f"blob {digest} of {self.source.name}: only sha256 digests can be verified")
        label = f"{self.source.name}@{digest}"
        url = self._call(
            "get_download_url_for_layer",
            label,
            registryId=self.source.registry,
            repositoryName=self.source.name,
            layerDigest=digest,
        )["downloadUrl"]
        if not url.startswith("https://"):
            raise CloudctlError(f"blob {label}: ECR gave a download URL that is not HTTPS")
        upload = self._call(
            "initiate_layer_upload", label, registryId=self.target.registry, repositoryName=self.target.name
        )
        hasher, first_byte = hashlib.sha256(), 0
        for part in _parts(self._download(url, label), upload["partSize"]):
            hasher.update(part)
            self._call(
                "upload_layer_part",
                label,
                registryId=self.target.registry,
                repositoryName=self.target.name,
                uploadId=upload["uploadId"],
                partFirstByte=first_byte,
                partLastByte=first_byte + len(part) - 1,  # inclusive, as ECR counts
                layerPartBlob=part,
            )
            first_byte += len(part)
        if hasher.hexdigest() != expected:
            # Never complete an upload whose bytes are not what the manifest names.
            raise CloudctlError(
                f"blob {label}: downloaded bytes have digest sha256:{hasher.hexdigest()}, not {digest}"
            )
        try:
            self.ecr.complete_layer_upload(
                registryId=self.target.registry,
                repositoryName=self.target.name,
                uploadId=upload["uploadId"],
                layerDigests=[digest],
            )
        except ClientError as err:
            if _code(err) != "LayerAlreadyExistsException":  # a concurrent copy got there first
                raise CloudctlError(f"ECR: complete_layer_upload for {label}: {err}") from err

    def _download(self, url: str, label: str) -> Iterator[bytes]:
        try:
            response = self.http.request("GET", url, preload_content=False, redirect=True, retries=2)
        except urllib3.exceptions.HTTPError as err:
            raise CloudctlError(f"blob {label}: download failed: {err}") from err
        try:
            if response.status != 200:
                raise CloudctlError(f"blob {label}: download answered HTTP {response.status}")
            try:
                yield from response.stream(READ_CHUNK)
            except urllib3.exceptions.HTTPError as err:
                raise CloudctlError(f"blob {label}: download broke off: {err}") from err
        finally:
            response.release_conn()

    def _put_manifest(self, manifest: Manifest, tag: str | None) -> bool:
        label = f"{self.target.name}:{tag}" if tag else f"{self.target.name}@{manifest.digest}"
        params = {
            "registryId": self.target.registry,
            "repositoryName": self.target.name,
            "imageManifest": manifest.text,
            "imageManifestMediaType": manifest.media_type,
        }
        if tag:
            params["imageTag"] = tag
        if manifest.digest:
            params["imageDigest"] = manifest.digest  # ECR refuses if the bytes would hash differently
        try:
            self.ecr.put_image(**params)
        except ClientError as err:
            if _code(err) == "ImageAlreadyExistsException":
                return False  # the same manifest already carries this tag: re-running is safe
            if _code(err) == "ImageTagAlreadyExistsException":
                raise CloudctlError(
                    f"ECR: {label} already names a different image and the tag is immutable; "
                    f"{self.source.name}:{tag} was not copied"
                ) from err
            raise CloudctlError(f"ECR: put_image {label}: {err}") from err
        return True

    def _call(self, operation: str, label: str, **params) -> dict:
        try:
            return getattr(self.ecr, operation)(**params)
        except ClientError as err:
            raise CloudctlError(f"ECR: {operation} for {label}: {err}") from err


def _blob_digests(document: dict) -> list[str]:
    """The config and layer digests, once each, in manifest order. Foreign layers (with `urls`)
    live outside the registry and are never uploaded."""
    descriptors = [document["config"]] if "config" in document else []
    descriptors += [layer for layer in document.get("layers", []) if not layer.get("urls")]
    return list(dict.fromkeys(descriptor["digest"] for descriptor in descriptors))


def _parts(chunks: Iterator[bytes], part_size: int) -> Iterator[bytes]:
    """Regroup a stream's chunks into parts of exactly `part_size` bytes (the last may be shorter)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= part_size:
            yield bytes(buffer[:part_size])
            del buffer[:part_size]
    if buffer:
        yield bytes(buffer)


def _code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")
