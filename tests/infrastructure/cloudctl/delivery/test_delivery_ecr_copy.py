"""The promotion's ECR copy, blob by blob. ECR's API is botocore's Stubber (a stand-in for AWS,
which cannot be reached here): it checks every call's parameters and order. The blob downloads are
real: a local HTTPS server (self-signed certificate the client is told to trust) serves the bytes
behind the "pre-signed" URLs, so streaming, part splitting and the digest check all run for real."""

from __future__ import annotations

import hashlib
import json
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
import urllib3
from botocore.stub import Stubber
from cloudctl.delivery import promote
from cloudctl.delivery.ecr_copy import MANIFEST_TYPES, ImageCopier
from cloudctl.delivery.registry import EcrRegistry, Repository
from cloudctl.errors import CloudctlError

SOURCE = Repository("123456789012", "eu-west-1", "cloud-design/dev/api-gateway")
TARGET = Repository("123456789012", "eu-west-1", "cloud-design/prod/api-gateway")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
PART_SIZE = 1000  # small, so a 2500-byte layer goes up in three parts


def digest_of(data: bytes | str) -> str:
    return "sha256:" + hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


class BlobServer:
    """Serves `blobs[path]` over HTTPS and records the paths requested."""

    def __init__(self, cert: str, key: str):
        self.blobs: dict[str, bytes] = {}
        self.requested: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                owner.requested.append(self.path)
                body = owner.blobs.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def blob_server(tls_files):
    server = BlobServer(*tls_files)
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def http(tls_files):
    return urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=tls_files[0])


@pytest.fixture
def ecr():
    client = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    with stub:
        yield client, stub
    stub.assert_no_pending_responses()


def image_manifest(blobs: dict[str, bytes]) -> tuple[str, list[str]]:
    """An OCI manifest whose first blob is the config, the rest layers. Returns (text, digests)."""
    digests = [digest_of(data) for data in blobs.values()]
    descriptors = [{"mediaType": "application/octet-stream", "digest": d, "size": 1} for d in digests]
    text = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptors[0], "layers": descriptors[1:]}
    )
    return text, digests


def expect_get(stub, image_id: dict, text: str, media_type: str) -> None:
    stub.add_response(
        "batch_get_image",
        {
            "images": [
                {
                    "imageId": {"imageDigest": digest_of(text)},
                    "imageManifest": text,
                    "imageManifestMediaType": media_type,
                }
            ],
            "failures": [],
        },
        {
            "registryId": SOURCE.registry,
            "repositoryName": SOURCE.name,
            "imageIds": [image_id],
            "acceptedMediaTypes": MANIFEST_TYPES,
        },
    )


def expect_check(stub, digests: list[str], missing: set[str]) -> None:
    stub.add_response(
        "batch_check_layer_availability",
        {
            "layers": [
                {"layerDigest": d, "layerAvailability": "AVAILABLE"} for d in digests if d not in missing
            ],
            "failures": [
                {"layerDigest": d, "failureCode": "MissingLayerDigest", "failureReason": "missing"}
                for d in digests
                if d in missing
            ],
        },
        {"registryId": TARGET.registry, "repositoryName": TARGET.name, "layerDigests": digests},
    )


def expect_blob_copy(
    stub, server: BlobServer, data: bytes, served: bytes | None = None, complete=True
) -> None:
    """One missing blob: download URL, upload in PART_SIZE parts, complete (unless the copy must stop)."""
    digest = digest_of(data)
    path = f"/blobs/{digest}?X-Amz-Signature=stand-in"
    server.blobs[path] = data if served is None else served
    stub.add_response(
        "get_download_url_for_layer",
        {"downloadUrl": server.url + path, "layerDigest": digest},
        {"registryId": SOURCE.registry, "repositoryName": SOURCE.name, "layerDigest": digest},
    )
    upload_id = "upload-" + digest[7:19]
    stub.add_response(
        "initiate_layer_upload",
        {"uploadId": upload_id, "partSize": PART_SIZE},
        {"registryId": TARGET.registry, "repositoryName": TARGET.name},
    )
    body = server.blobs[path]
    for first in range(0, len(body), PART_SIZE):
        part = body[first : first + PART_SIZE]
        stub.add_response(
            "upload_layer_part",
            {"uploadId": upload_id, "lastByteReceived": first + len(part) - 1},
            {
                "registryId": TARGET.registry,
                "repositoryName": TARGET.name,
                "uploadId": upload_id,
                "partFirstByte": first,
                "partLastByte": first + len(part) - 1,
                "layerPartBlob": part,
            },
        )
    if complete:
        stub.add_response(
            "complete_layer_upload",
            {"layerDigest": digest, "uploadId": upload_id},
            {
                "registryId": TARGET.registry,
                "repositoryName": TARGET.name,
                "uploadId": upload_id,
                "layerDigests": [digest],
            },
        )


def expect_download_that_fails(stub, text: str, digests: list[str], download_url: str) -> None:
    """The first blob is missing; its download (from download_url) is where the copy must stop."""
    expect_get(stub, {"imageTag": "3f2a9c1"}, text, OCI_MANIFEST)
    expect_check(stub, digests, missing={digests[0]})
    stub.add_response("get_download_url_for_layer", {"downloadUrl": download_url, "layerDigest": digests[0]})
    stub.add_response("initiate_layer_upload", {"uploadId": "u", "partSize": PART_SIZE})


def expect_put(stub, text: str, media_type: str, tag: str | None, error: str | None = None) -> None:
    params = {
        "registryId": TARGET.registry,
        "repositoryName": TARGET.name,
        "imageManifest": text,
        "imageManifestMediaType": media_type,
        "imageDigest": digest_of(text),
    }
    if tag:
        params["imageTag"] = tag
    if error:
        stub.add_client_error("put_image", service_error_code=error, expected_params=params)
    else:
        stub.add_response("put_image", {"image": {"imageManifest": text}}, params)


BLOBS = {"config": b'{"architecture": "amd64"}', "layer-1": bytes(range(256)) * 10, "layer-2": b"x" * 999}


def expect_full_copy(stub, server, tag="3f2a9c1"):
    text, digests = image_manifest(BLOBS)
    expect_get(stub, {"imageTag": tag}, text, OCI_MANIFEST)
    expect_check(stub, digests, missing=set(digests))
    for data in BLOBS.values():
        expect_blob_copy(stub, server, data)
    expect_put(stub, text, OCI_MANIFEST, tag)
    return text, digests


def test_missing_blobs_are_streamed_up_in_parts_before_the_manifest(ecr, blob_server, http):
    client, stub = ecr
    expect_full_copy(stub, blob_server)

    assert ImageCopier(client, SOURCE, TARGET, http).copy("3f2a9c1") is True
    assert len(blob_server.requested) == 3  # every blob downloaded once
    assert len(BLOBS["layer-1"]) == 2560  # three parts: 1000 + 1000 + 560 bytes, checked by the stub


def test_blobs_the_target_has_are_not_uploaded(ecr, blob_server, http):
    client, stub = ecr
    text, digests = image_manifest(BLOBS)
    expect_get(stub, {"imageTag": "3f2a9c1"}, text, OCI_MANIFEST)
    expect_check(stub, digests, missing=set())
    expect_put(stub, text, OCI_MANIFEST, "3f2a9c1")

    assert ImageCopier(client, SOURCE, TARGET, http).copy("3f2a9c1") is True
    assert blob_server.requested == []


def test_a_blob_whose_bytes_do_not_match_its_digest_stops_before_put_image(ecr, blob_server, http):
    client, stub = ecr
    text, digests = image_manifest(BLOBS)
    expect_get(stub, {"imageTag": "3f2a9c1"}, text, OCI_MANIFEST)
    expect_check(stub, digests, missing={digests[1]})
    expect_blob_copy(stub, blob_server, BLOBS["layer-1"], served=b"tampered" * 300, complete=False)

    # No complete_layer_upload and no put_image are queued: the Stubber would raise a different
    # error than CloudctlError if the copier called either.
    with pytest.raises(CloudctlError, match=rf"downloaded bytes have digest sha256:\w+, not {digests[1]}"):
        ImageCopier(client, SOURCE, TARGET, http).copy("3f2a9c1")


def test_an_image_index_copies_each_child_manifest_first(ecr, blob_server, http):
    client, stub = ecr
    amd64, amd64_digests = image_manifest({"config": b"amd64-config", "layer": b"amd64-layer"})
    arm64, arm64_digests = image_manifest({"config": b"arm64-config", "layer": b"arm64-layer"})
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": digest_of(child), "size": len(child)}
                for child in (amd64, arm64)
            ],
        }
    )
    expect_get(stub, {"imageTag": "3f2a9c1"}, index, OCI_INDEX)
    expect_get(stub, {"imageDigest": digest_of(amd64)}, amd64, OCI_MANIFEST)
    expect_check(stub, amd64_digests, missing={amd64_digests[1]})
    expect_blob_copy(stub, blob_server, b"amd64-layer")
    expect_put(stub, amd64, OCI_MANIFEST, tag=None)  # children go up by digest, untagged
    expect_get(stub, {"imageDigest": digest_of(arm64)}, arm64, OCI_MANIFEST)
    expect_check(stub, arm64_digests, missing=set())
    expect_put(stub, arm64, OCI_MANIFEST, tag=None, error="ImageAlreadyExistsException")
    expect_put(stub, index, OCI_INDEX, "3f2a9c1")

    assert ImageCopier(client, SOURCE, TARGET, http).copy("3f2a9c1") is True


def test_a_second_run_uploads_nothing_and_reports_nothing_copied(ecr, blob_server, http):
    client, stub = ecr
    registry = EcrRegistry(SOURCE.registry, SOURCE.region)
    text, digests = expect_full_copy(stub, blob_server)
    # Second run: the target has every blob and the tag already names this manifest.
    expect_get(stub, {"imageTag": "3f2a9c1"}, text, OCI_MANIFEST)
    expect_check(stub, digests, missing=set())
    expect_put(stub, text, OCI_MANIFEST, "3f2a9c1", error="ImageAlreadyExistsException")

    tags = {"api-gateway": "3f2a9c1"}
    first = promote.copy_images(client, registry, tags, "dev", "prod", http)
    requests_after_first = len(blob_server.requested)
    second = promote.copy_images(client, registry, tags, "dev", "prod", http)

    assert (first, second) == (["api-gateway"], [])
    assert len(blob_server.requested) == requests_after_first == 3


def test_an_immutable_tag_on_a_different_image_is_an_error_naming_it(ecr, blob_server, http):
    client, stub = ecr
    text, digests = image_manifest(BLOBS)
    expect_get(stub, {"imageTag": "3f2a9c1"}, text, OCI_MANIFEST)
    expect_check(stub, digests, missing=set())
    expect_put(stub, text, OCI_MANIFEST, "3f2a9c1", error="ImageTagAlreadyExistsException")

    with pytest.raises(
        CloudctlError, match=r"cloud-design/prod/api-gateway:3f2a9c1 already names a different image"
    ):
        ImageCopier(client, SOURCE, TARGET, http).copy("3f2a9c1")


def test_a_failed_download_is_one_clear_error(ecr, blob_server, http):
    client, stub = ecr
    text, digests = image_manifest(BLOBS)
    expect_download_that_fails(stub, text, digests, blob_server.url + "/expired")

    with pytest.raises(
        CloudctlError, match=r"cloud-design/dev/api-gateway@sha256:\w+: download answered HTTP 404"
    ):
        ImageCopier(client, SOURCE, TARGET, http).copy("3f2a9c1")


def test_an_untrusted_certificate_is_refused(ecr, blob_server):
    client, stub = ecr
    text, digests = image_manifest(BLOBS)
    expect_download_that_fails(stub, text, digests, blob_server.url + "/blob")
    system_trust = urllib3.PoolManager(cert_reqs="CERT_REQUIRED")

    with pytest.raises(CloudctlError, match="download failed"):
        ImageCopier(client, SOURCE, TARGET, system_trust).copy("3f2a9c1")
    assert blob_server.requested == []
