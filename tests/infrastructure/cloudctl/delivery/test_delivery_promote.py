"""Promotion and the CI bot's tag commit: GitLab through a local stand-in server, ECR through
botocore's Stubber (a stand-in for AWS, which cannot be reached here)."""

from __future__ import annotations

import argparse
import base64
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from cloudctl.delivery import commands, ecr_copy, gitlab_api, images, promote
from cloudctl.delivery.registry import EcrRegistry
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


REGISTRY = EcrRegistry("123456789012", "eu-west-1")  # AWS's documentation account


def ecr_stub():
    client = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_images_are_copied_between_the_environments_repositories_of_the_jobs_registry():
    client, stub = ecr_stub()
    manifest = '{"schemaVersion": 2}'
    for name in ("api-gateway", "billing-app"):
        stub.add_response(
            "batch_get_image",
            {
                "images": [
                    {
                        "imageManifest": manifest,
                        "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
                    }
                ],
                "failures": [],
            },
            {
                "registryId": "123456789012",
                "repositoryName": f"cloud-design/dev/{name}",
                "imageIds": [{"imageTag": "3f2a9c1"}],
                "acceptedMediaTypes": ecr_copy.MANIFEST_TYPES,
            },
        )
        if name == "api-gateway":
            stub.add_response(
                "put_image",
                {"image": {"imageManifest": manifest}},
                {
                    "registryId": "123456789012",
                    "repositoryName": f"cloud-design/prod/{name}",
                    "imageManifest": manifest,
                    "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
                    "imageTag": "3f2a9c1",
                },
            )
        else:  # already promoted earlier: ECR says so, and that is fine
            stub.add_client_error("put_image", service_error_code="ImageAlreadyExistsException")
    with stub:
        copied = promote.copy_images(
            client, REGISTRY, {"api-gateway": "3f2a9c1", "billing-app": "3f2a9c1"}, "dev", "prod"
        )
    stub.assert_no_pending_responses()
    assert copied == ["api-gateway"]


def test_a_missing_source_image_stops_the_promotion():
    client, stub = ecr_stub()
    stub.add_response(
        "batch_get_image",
        {
            "images": [],
            "failures": [{"failureCode": "ImageNotFound", "failureReason": "Requested image not found"}],
        },
    )
    with (
        stub,
        pytest.raises(
            CloudctlError, match="cloud-design/dev/api-gateway:3f2a9c1 cannot be read: Requested image"
        ),
    ):
        promote.copy_images(client, REGISTRY, {"api-gateway": "3f2a9c1"}, "dev", "prod")


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
