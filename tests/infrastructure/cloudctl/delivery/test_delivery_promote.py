"""Promotion and the CI bot's tag commit: GitLab through a local stand-in server; the image copy
for real (skopeo and Debian's docker-registry), with only ECR's login a stand-in (botocore's
Stubber: there is no AWS here)."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import oci_registry
import pytest
from botocore.stub import Stubber
from cloudctl.delivery import commands, gitlab_api, images, promote, registry
from cloudctl.errors import CloudctlError

FIXTURES = Path(__file__).parent / "fixtures"
DEV_PATH = "overlays/dev/images/kustomization.yaml"
PROD_PATH = "overlays/prod/images/kustomization.yaml"
FILES = "/api/v4/projects/42/repository/files/"
ENCODED = {DEV_PATH: DEV_PATH.replace("/", "%2F"), PROD_PATH: PROD_PATH.replace("/", "%2F")}


def fixture_text(path: str) -> str:
    return (FIXTURES / path).read_text()


def file_reply(path: str, text: str, last_commit: str) -> dict:
    return {
        "file_path": path,
        "encoding": "base64",
        "content": base64.b64encode(text.encode()).decode(),
        "last_commit_id": last_commit,
        "ref": "main",
    }


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def serve_files(server, dev_text: str | None = None, prod_text: str | None = None) -> None:
    server.reply(
        "GET", FILES + ENCODED[DEV_PATH], file_reply(DEV_PATH, dev_text or fixture_text(DEV_PATH), "d" * 40)
    )
    server.reply(
        "GET",
        FILES + ENCODED[PROD_PATH],
        file_reply(PROD_PATH, prod_text or fixture_text(PROD_PATH), "p" * 40),
    )


def test_promotion_commits_the_dev_tags_to_a_branch_and_opens_the_mr(gitlab_server, capsys):
    serve_files(gitlab_server)
    gitlab_server.reply("GET", "/api/v4/projects/42/merge_requests", [])
    gitlab_server.reply("POST", "/api/v4/projects/42/repository/commits", {"id": "c" * 40}, status=201)
    gitlab_server.reply(
        "POST",
        "/api/v4/projects/42/merge_requests",
        {"iid": 12, "web_url": "https://gitlab.example/mr/12"},
        status=201,
    )

    assert cli("promote", "--open-mr", "--target-branch", "main") == 0

    assert gitlab_server.calls("POST") == [
        ("POST", "/api/v4/projects/42/repository/commits"),
        ("POST", "/api/v4/projects/42/merge_requests"),
    ]
    reads = [r for r in gitlab_server.requests if r.path.startswith(FILES)]
    assert {r.query["ref"][0] for r in reads} == {"main"}
    commit = gitlab_server.requests[-2].body
    branch = commit["branch"]
    assert branch.startswith("promote/prod-") and commit["start_branch"] == "main"
    assert commit["author_name"] == gitlab_api.BOT_AUTHOR_NAME
    (action,) = commit["actions"]
    assert action["action"] == "update" and action["file_path"] == PROD_PATH
    assert action["last_commit_id"] == "p" * 40  # GitLab refuses the commit if prod's file moved
    assert images.tags_in_text(action["content"], "prod") == dict.fromkeys(
        ["api-gateway", "inventory-app", "billing-app"], "3f2a9c1"
    )
    # Only the newTag lines differ from prod's file.
    old, new = fixture_text(PROD_PATH).splitlines(), action["content"].splitlines()
    assert [n for o, n in zip(old, new, strict=True) if o != n] == ['    newTag: "3f2a9c1"'] * 3
    mr = gitlab_server.requests[-1].body
    assert mr["source_branch"] == branch and mr["target_branch"] == "main"
    assert "api-gateway 3f2a9c1" in mr["title"] and mr["remove_source_branch"] is True
    assert "opened https://gitlab.example/mr/12" in capsys.readouterr().out


def test_promotion_reuses_an_open_mr_for_the_same_tags(gitlab_server, capsys):
    serve_files(gitlab_server)
    gitlab_server.reply(
        "GET", "/api/v4/projects/42/merge_requests", [{"iid": 12, "web_url": "https://x/mr/12"}]
    )

    assert cli("promote", "--open-mr") == 0
    assert gitlab_server.calls("POST") == []
    listing = [r for r in gitlab_server.requests if r.path.endswith("/merge_requests")][0]
    assert listing.query["state"] == ["opened"] and listing.query["source_branch"][0].startswith(
        "promote/prod-"
    )
    assert "already open: https://x/mr/12" in capsys.readouterr().out


def test_nothing_to_promote_opens_nothing(gitlab_server, capsys):
    serve_files(gitlab_server, prod_text=fixture_text(PROD_PATH).replace('"1111111"', '"3f2a9c1"'))

    assert cli("promote", "--open-mr") == 0
    assert gitlab_server.calls("POST") == []
    assert "nothing to promote" in capsys.readouterr().out


def test_local_promotion_edits_only_prods_tags(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for path in (DEV_PATH, PROD_PATH):
        (tmp_path / path).parent.mkdir(parents=True)
        shutil.copyfile(FIXTURES / path, tmp_path / path)

    assert cli("promote", "--repo", str(tmp_path)) == 0
    assert images.read_tags(tmp_path / PROD_PATH) == dict.fromkeys(
        ["api-gateway", "inventory-app", "billing-app"], "3f2a9c1"
    )
    assert (tmp_path / DEV_PATH).read_text() == fixture_text(DEV_PATH)


def test_the_bot_commit_of_new_dev_tags_skips_ci_and_locks_on_the_files_last_commit(gitlab_server, capsys):
    serve_files(gitlab_server)
    gitlab_server.reply("POST", "/api/v4/projects/42/repository/commits", {"id": "e" * 40}, status=201)

    assert cli("set-image", "--env", "dev", "--commit-to", "main", "api-gateway=9e8d7c6") == 0

    commit = gitlab_server.requests[-1].body
    assert commit["branch"] == "main" and "start_branch" not in commit
    assert gitlab_api.SKIP_CI in commit["commit_message"]
    assert commit["author_name"] == gitlab_api.BOT_AUTHOR_NAME
    assert commit["actions"][0]["last_commit_id"] == "d" * 40
    assert images.tags_in_text(commit["actions"][0]["content"], "dev")["api-gateway"] == "9e8d7c6"
    assert "commit eeeeeeeeeeee on main" in capsys.readouterr().out


def test_the_bot_commits_nothing_when_dev_already_has_the_tags(gitlab_server, capsys):
    serve_files(gitlab_server)
    assert cli("set-image", "--env", "dev", "--commit-to", "main", "api-gateway=3f2a9c1") == 0
    assert gitlab_server.calls("POST") == []
    assert "nothing committed" in capsys.readouterr().out


def test_a_concurrent_change_is_reported_not_overwritten(gitlab_server):
    serve_files(gitlab_server)
    gitlab_server.reply(
        "POST",
        "/api/v4/projects/42/repository/commits",
        {"message": "A file with this name has been changed"},
        status=400,
    )
    with pytest.raises(
        CloudctlError, match=r"cannot commit overlays/dev/images/kustomization.yaml to main: HTTP 400"
    ):
        cli("set-image", "--env", "dev", "--commit-to", "main", "api-gateway=9e8d7c6")


@pytest.mark.parametrize("pair", ["api-gateway", "=abc", "api-gateway=latest", "api-gateway=a b"])
def test_malformed_name_tag_pairs_are_refused(pair):
    with pytest.raises(CloudctlError):
        cli("set-image", "--env", "dev", pair)


# --- the image copy: skopeo copy --all against a real registry (conftest.py: registry_server) ---
TAG = "3f2a9c1"  # every image's tag in fixtures/overlays/dev
IMAGES = ("api-gateway", "inventory-app", "billing-app")


def local_checkout(folder: Path) -> Path:
    """A git checkout holding the fixture image files of dev and prod."""
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    for path in (DEV_PATH, PROD_PATH):
        (folder / path).parent.mkdir(parents=True)
        shutil.copyfile(FIXTURES / path, folder / path)
    return folder


def push_dev_images(
    server: oci_registry.Registry, folder: Path, names=IMAGES
) -> dict[str, oci_registry.MultiArch]:
    """A two-platform image (amd64, arm64 under an OCI index) at TAG in each dev repository."""
    pushed = {}
    for name in names:
        image = oci_registry.multi_arch_index(folder / name, f"{name} built from {TAG}")
        done = oci_registry.push(
            image.reference, f"{server.host}/cloud-design/dev/{name}:{TAG}", server.creds
        )
        assert done.returncode == 0, done.stderr
        pushed[name] = image
    return pushed


def digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@pytest.fixture(scope="module")
def promoted(registry_server, tmp_path_factory):
    """dev's three images pushed, then `cloudctl promote --copy-images` run once on a checkout."""
    pushed = push_dev_images(registry_server, tmp_path_factory.mktemp("images"))
    checkout = local_checkout(tmp_path_factory.mktemp("checkout"))
    command = ["promote", "--copy-images", "--registry", registry_server.host, "--repo", str(checkout)]
    return pushed, checkout, command


def test_promotion_copies_the_index_and_every_platform_with_their_digests(registry_server, promoted, capsys):
    pushed, checkout, command = promoted
    assert cli(*command) == 0
    out = capsys.readouterr().out
    assert f"{registry_server.host}: copied api-gateway, billing-app, inventory-app from dev to prod" in out
    for name, image in pushed.items():
        prod = f"{registry_server.host}/cloud-design/prod/{name}"
        index = oci_registry.raw_manifest(f"{prod}:{TAG}")
        assert digest(index) == image.index_digest  # the index byte for byte: the same digest
        children = {m["platform"]["architecture"]: m["digest"] for m in json.loads(index)["manifests"]}
        assert children == image.platforms
        for child in image.platforms.values():  # each platform's image is there under its digest
            assert digest(oci_registry.raw_manifest(f"{prod}@{child}")) == child
    assert images.read_tags(checkout / PROD_PATH) == dict.fromkeys(IMAGES, TAG)


def test_promoting_again_copies_nothing_and_succeeds(registry_server, promoted, capsys):
    """ECR refuses even an identical re-push of an immutable tag: a second run must not push."""
    _, _, command = promoted
    assert cli(*command) == 0
    assert cli(*command) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == (
        f"{registry_server.host}: copied nothing from dev to prod; "
        "already there: api-gateway, billing-app, inventory-app"
    )


def run_cloudctl(*argv: str) -> subprocess.CompletedProcess[str]:
    """The installed `cloudctl` console script, as the CI job runs it."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "cloudctl"), *argv], capture_output=True, text=True, check=False
    )


def test_a_missing_source_tag_is_one_line_and_nothing_is_written(tmp_path):
    server = oci_registry.start(tmp_path / "registry")
    try:
        push_dev_images(server, tmp_path / "images", names=("api-gateway", "inventory-app"))  # no billing-app
        checkout = local_checkout(tmp_path / "checkout")
        done = run_cloudctl("promote", "--copy-images", "--registry", server.host, "--repo", str(checkout))
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr == (
            f"cloudctl promote: error: {server.host}/cloud-design/dev/billing-app:{TAG} does not exist: "
            "nothing was copied to prod\n"
        )
        assert all(server.tags(f"cloud-design/prod/{name}") == [] for name in IMAGES)
        assert (checkout / PROD_PATH).read_text() == fixture_text(PROD_PATH)
    finally:
        server.stop()


def test_a_target_tag_naming_another_image_is_refused_before_any_copy(tmp_path):
    server = oci_registry.start(tmp_path / "registry")
    try:
        push_dev_images(server, tmp_path / "images")
        other = oci_registry.single_image(tmp_path / "other", "an older build under the same tag")
        assert (
            oci_registry.push(other, f"{server.host}/cloud-design/prod/inventory-app:{TAG}").returncode == 0
        )
        with pytest.raises(CloudctlError, match=r"prod/inventory-app:3f2a9c1 already names sha256:\w+, not"):
            promote.copy_images(server.host, dict.fromkeys(IMAGES, TAG), "dev", "prod")
        assert server.tags("cloud-design/prod/api-gateway") == []  # sorted first, still not copied
    finally:
        server.stop()


def test_the_ecr_login_reaches_skopeo_through_a_private_auth_file(
    private_registry, tmp_path, monkeypatch, capsys
):
    """The registry asks for a login; ECR's GetAuthorizationToken (botocore's Stubber: the one
    stand-in, there is no AWS here) supplies it, and skopeo presents it."""
    push_dev_images(private_registry, tmp_path / "images")
    ecr = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ecr)
    token = base64.b64encode(private_registry.creds.encode()).decode()
    stub.add_response("get_authorization_token", {"authorizationData": [{"authorizationToken": token}]})
    monkeypatch.setattr(registry, "login", lambda host: registry.ecr_credentials(ecr))
    with stub:
        checkout = local_checkout(tmp_path / "checkout")
        assert (
            cli("promote", "--copy-images", "--registry", private_registry.host, "--repo", str(checkout)) == 0
        )
    assert "copied api-gateway, billing-app, inventory-app" in capsys.readouterr().out
    assert private_registry.tags("cloud-design/prod/billing-app") == [TAG]
    # without the login the same registry refuses: the check above depends on it
    with pytest.raises(
        CloudctlError,
        match=r"cannot tell whether .*dev/api-gateway:3f2a9c1 exists: .*(unauthorized|authentication)",
    ):
        promote.copy_images(private_registry.host, {"api-gateway": TAG}, "dev", "prod", creds="AWS:wrong")


def test_a_copy_failure_happens_before_any_commit(gitlab_server):
    serve_files(gitlab_server)
    gitlab_server.reply("GET", "/api/v4/projects/42/merge_requests", [])

    def failing_copy(*_):
        raise CloudctlError("ECR: cannot copy")

    _, project = gitlab_api.connect(gitlab_api.GitLabTarget.from_env())
    with pytest.raises(CloudctlError, match="ECR: cannot copy"):
        promote.open_promotion_mr(
            project, source_env="dev", target_env="prod", target_branch="main", copy=failing_copy
        )
    assert gitlab_server.calls("POST") == []
