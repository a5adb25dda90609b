"""Promotion and the CI bot's tag commit: GitLab through a local stand-in server; the image copy
for real (skopeo and Debian's docker-registry), with only ECR's login a stand-in (botocore's
Stubber: there is no AWS here)."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
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
from cloudctl.manifests import tree

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
IMAGES = tree.ecr_repository_names()  # contract.yaml's images


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


def test_a_target_tag_naming_another_image_is_refused_before_any_copy(tmp_path):
    server = oci_registry.start(tmp_path / "registry")
    try:
        push_dev_images(server, tmp_path / "images")
        other = oci_registry.single_image(tmp_path / "other", "an older build under the same tag")
        assert (
            oci_registry.push(other, f"{server.host}/cloud-design/prod/inventory-app:{TAG}").returncode == 0
        )
        with pytest.raises(CloudctlError, match=r"prod/inventory-app:3f2a9c1 already names sha256:\w+, not"):
            promote.copy(promote.plan(server.host, dict.fromkeys(IMAGES, TAG), "dev", "prod"))
        assert server.tags("cloud-design/prod/api-gateway") == []  # sorted first, still not copied
    finally:
        server.stop()


def ecr_login_standin(monkeypatch, server: oci_registry.Registry) -> Stubber:
    """ECR's GetAuthorizationToken answering with the private registry's login (botocore's Stubber:
    the one stand-in, there is no AWS here), as registry.login hands it to skopeo."""
    ecr = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ecr)
    token = base64.b64encode(str(server.creds).encode()).decode()
    for _ in range(3):
        stub.add_response("get_authorization_token", {"authorizationData": [{"authorizationToken": token}]})
    monkeypatch.setattr(registry, "login", lambda host: registry.ecr_credentials(ecr))
    return stub


def test_the_ecr_login_reaches_skopeo_through_a_private_auth_file(
    private_registry, tmp_path, monkeypatch, capsys
):
    """The registry asks for a login; ECR's token (the stand-in above) supplies it, and skopeo presents it."""
    push_dev_images(private_registry, tmp_path / "images")
    with ecr_login_standin(monkeypatch, private_registry):
        checkout = local_checkout(tmp_path / "checkout")
        assert (
            cli("promote", "--copy-images", "--registry", private_registry.host, "--repo", str(checkout)) == 0
        )
    assert "copied api-gateway, billing-app, inventory-app" in capsys.readouterr().out
    assert private_registry.tags("cloud-design/prod/billing-app") == [TAG]
    # without the login the same registry refuses: the check above depends on it
    with (
        registry.auth_file(private_registry.host, "AWS:wrong") as authfile,
        pytest.raises(
            CloudctlError,
            match=r"cannot tell whether .*dev/api-gateway:3f2a9c1 exists: .*(unauthorized|authentication)",
        ),
    ):
        promote.plan(private_registry.host, {"api-gateway": TAG}, "dev", "prod", authfile=authfile)


# --- CI's three jobs: promote-prod (--plan-out), promote-copy (skopeo), promote-mr (--verify-plan) ---
PLAN_DIR = ".build/promotion"
STANDIN_HELPER = """#!/bin/sh
# STAND-IN for docker-credential-ecr-login (no AWS here): answers skopeo's `get` for the test
# registry with its basic-auth login, as the real helper answers for ECR with the role's token.
[ "$1" = get ] || exit 1
read -r server
if [ "$server" != "{host}" ]; then echo "credentials not found in native keychain"; exit 1; fi
printf '{{"ServerURL": "%s", "Username": "{user}", "Secret": "{password}"}}\\n' "$server"
"""
STANDIN_CURL = """#!/bin/sh
# STAND-IN for curl (no internet here): writes the stand-in credential helper where -o says.
while [ $# -gt 0 ]; do
  if [ "$1" = -o ]; then shift; cp {helper} "$1"; fi
  shift
done
"""


@pytest.fixture
def chain(tmp_path, monkeypatch, gitlab_server):
    """A private HTTPS registry holding dev's three images, ECR's login stand-in, and a pipeline
    clone (gitlab_ci_local.py) with main's .gitlab-ci.yml where promote-copy runs."""
    import gitlab_ci_local

    server = oci_registry.start(tmp_path / "registry", creds="AWS:ecr-token-for-tests", tls=True)
    pushed = push_dev_images(server, tmp_path / "images")
    stub = ecr_login_standin(monkeypatch, server)
    stub.activate()
    base = gitlab_ci_local.base_repository(tmp_path / "origin")
    clone = gitlab_ci_local.pipeline_clone(base, tmp_path / "pipeline", [])
    yield server, pushed, clone
    stub.deactivate()
    server.stop()


def run_promote_copy(tmp_path: Path, server: oci_registry.Registry, clone: Path):
    """promote-copy's script, run by gitlab-ci-local's shell executor with the REAL Debian skopeo
    against the real registry. Stand-ins first on PATH: curl (writes the stand-in credential
    helper, so the job's own pinned-download steps run with their sha256 check) and, through it,
    docker-credential-ecr-login. The registry serves HTTPS with a certificate of its own, which
    skopeo trusts through SSL_CERT_FILE (Go's root store), as it trusts ECR's through the image's:
    no insecure flag, nothing in the job's script changed for the test."""
    import gitlab_ci_local

    tools = tmp_path / "standins"
    tools.mkdir()
    user, _, password = str(server.creds).partition(":")
    helper = STANDIN_HELPER.format(host=server.host, user=user, password=password)
    (tmp_path / "standin-helper").write_text(helper)
    (tools / "curl").write_text(STANDIN_CURL.format(helper=tmp_path / "standin-helper"))
    (tools / "curl").chmod(0o755)
    variables = {
        "CI_PIPELINE_SOURCE": "push",
        "CI_PROJECT_DIR": str(clone),
        "ECR_REGISTRY": server.host,
        "ECR_LOGIN_SHA256": hashlib.sha256(helper.encode()).hexdigest(),
        "SSL_CERT_FILE": str(server.ca_file),
    }
    return gitlab_ci_local.run(
        clone, "--force-shell-executor", "promote-copy", variables=variables, path=[tools]
    )


def test_the_three_jobs_plan_copy_and_verify_then_open_the_mr(chain, gitlab_server, tmp_path, capsys):
    server, pushed, clone = chain
    serve_files(gitlab_server)
    plan_dir = clone / PLAN_DIR
    # promote-prod: every check, the plan written, nothing copied
    assert cli("promote", "--plan-out", str(plan_dir), "--registry", server.host) == 0
    assert all(server.tags(f"cloud-design/prod/{name}") == [] for name in IMAGES)
    copies = (plan_dir / promote.COPY_FILE).read_text().splitlines()
    assert copies == [
        f"{server.host}/cloud-design/dev/{name}@{pushed[name].index_digest} "
        f"{server.host}/cloud-design/prod/{name}:{TAG}"
        for name in sorted(IMAGES)
    ]
    # the artifact holds names and digests: no login (nor its base64) in any file of it
    password = str(server.creds).split(":")[1]
    for path in plan_dir.iterdir():
        text = path.read_text()
        assert password not in text and base64.b64encode(str(server.creds).encode()).decode() not in text
    assert sorted(p.name for p in plan_dir.iterdir()) == [promote.COPY_FILE, promote.PLAN_FILE]

    # promote-copy: the job's own script, real skopeo
    job = run_promote_copy(tmp_path, server, clone)
    assert job.returncode == 0, (job.stdout + job.stderr)[-3000:]
    for name, image in pushed.items():
        prod = f"{server.host}/cloud-design/prod/{name}"
        index = oci_registry.raw_manifest(f"{prod}:{TAG}", creds=server.creds)
        assert digest(index) == image.index_digest
        assert {m["platform"]["architecture"]: m["digest"] for m in json.loads(index)["manifests"]} == (
            image.platforms
        )
        for child in image.platforms.values():
            assert digest(oci_registry.raw_manifest(f"{prod}@{child}", creds=server.creds)) == child
    auth = json.loads((clone / ".build/containers-auth.json").read_text())
    assert auth == {"credHelpers": {server.host: "ecr-login"}}  # the login went through the helper

    # promote-mr: every destination checked against the plan, then the MR for the plan's tags
    gitlab_server.reply("GET", "/api/v4/projects/42/merge_requests", [])
    gitlab_server.reply("POST", "/api/v4/projects/42/repository/commits", {"id": "c" * 40}, status=201)
    gitlab_server.reply(
        "POST", "/api/v4/projects/42/merge_requests", {"iid": 13, "web_url": "https://x/mr/13"}, status=201
    )
    capsys.readouterr()
    assert cli("promote", "--verify-plan", str(plan_dir), "--open-mr", "--registry", server.host) == 0
    out = capsys.readouterr().out
    held = pushed["api-gateway"].index_digest
    assert f"{server.host}/cloud-design/prod/api-gateway:{TAG} holds {held}" in out
    assert "opened https://x/mr/13" in out
    (action,) = gitlab_server.requests[-2].body["actions"]
    assert images.tags_in_text(action["content"], "prod") == dict.fromkeys(IMAGES, TAG)
    assert f"`{pushed['billing-app'].index_digest}`" in gitlab_server.requests[-1].body["description"]

    # a second promote-prod finds everything in place: nothing left to copy
    assert cli("promote", "--plan-out", str(plan_dir), "--registry", server.host) == 0
    assert (plan_dir / promote.COPY_FILE).read_text() == ""


def test_promote_copy_with_a_source_gone_fails_and_writes_nothing(chain, tmp_path):
    """A plan line whose source no longer exists: every source is read before the first copy."""
    server, pushed, clone = chain
    gone = "sha256:" + "0" * 64
    planned = promote.Plan(
        server.host,
        "dev",
        "prod",
        tuple(
            promote.PlannedImage(name, TAG, pushed[name].index_digest, present=False)
            if name != "inventory-app"
            else promote.PlannedImage(name, TAG, gone, present=False)
            for name in sorted(IMAGES)
        ),
    )
    promote.write_plan(planned, clone / PLAN_DIR)
    job = run_promote_copy(tmp_path, server, clone)
    assert job.returncode != 0
    assert f"{server.host}/cloud-design/dev/inventory-app@{gone} cannot be read: nothing was copied" in (
        job.stdout + job.stderr
    )
    assert all(server.tags(f"cloud-design/prod/{name}") == [] for name in IMAGES)  # api-gateway too


def test_plan_out_with_a_missing_source_is_one_line_and_writes_no_plan(tmp_path, gitlab_server):
    server = oci_registry.start(tmp_path / "registry")
    try:
        push_dev_images(server, tmp_path / "images", names=("api-gateway", "inventory-app"))  # no billing-app
        serve_files(gitlab_server)
        done = run_cloudctl("promote", "--plan-out", str(tmp_path / "plan"), "--registry", server.host)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr == (
            f"cloudctl promote: error: {server.host}/cloud-design/dev/billing-app:{TAG} does not exist: "
            "nothing was copied to prod\n"
        )
        assert not (tmp_path / "plan").exists()
        assert all(server.tags(f"cloud-design/prod/{name}") == [] for name in IMAGES)
    finally:
        server.stop()


def test_verify_plan_refuses_destinations_the_copy_did_not_fill_and_opens_no_mr(tmp_path, gitlab_server):
    server = oci_registry.start(tmp_path / "registry")
    try:
        pushed = push_dev_images(server, tmp_path / "images", names=("api-gateway",))
        plan_dir = tmp_path / "plan"
        promote.write_plan(promote.plan(server.host, {"api-gateway": TAG}, "dev", "prod"), plan_dir)
        serve_files(gitlab_server)
        gitlab_server.reply("GET", "/api/v4/projects/42/merge_requests", [])
        target = f"{server.host}/cloud-design/prod/api-gateway:{TAG}"
        argv = ("promote", "--verify-plan", str(plan_dir), "--open-mr", "--registry", server.host)
        # the copy never ran
        done = run_cloudctl(*argv)
        assert done.returncode == 1 and done.stderr == (
            f"cloudctl promote: error: {target} does not exist: not the promotion plan's images\n"
        )
        # prod holds another image under the tag than the plan names
        other = oci_registry.single_image(tmp_path / "other", "not what the plan copied")
        assert oci_registry.push(other, target).returncode == 0
        expected = rf"{re.escape(target)} holds sha256:\w+, not {pushed['api-gateway'].index_digest}"
        with pytest.raises(CloudctlError, match=expected):
            cli(*argv)
        assert gitlab_server.calls("POST") == []
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: {**d, "registry": "127.0.0.1:1"}, r"is for the registry 127\.0\.0\.1:1, not "),
        (lambda d: {**d, "to": "staging"}, r"promotes dev to staging, not dev to prod"),
        (lambda d: {**d, "images": [{**d["images"][0], "digest": "sha256:abc"}]}, "is not a promotion plan"),
        (lambda d: {**d, "images": [{**d["images"][0], "tag": "latest"}]}, "tag 'latest' is not allowed"),
        (lambda d: {**d, "images": d["images"] * 2}, r"names an image twice"),
        (lambda d: [], r"is not a promotion plan"),
    ],
)
def test_verify_plan_refuses_a_plan_that_is_not_this_promotions(tmp_path, edit, message):
    """Checked before any registry or GitLab call (none is reachable here)."""
    host = "127.0.0.1:5000"
    image = promote.PlannedImage("api-gateway", TAG, "sha256:" + "a" * 64, present=False)
    planned = promote.Plan(host, "dev", "prod", (image,))
    promote.write_plan(planned, tmp_path)
    assert promote.read_plan(tmp_path) == planned  # what write_plan writes reads back unchanged
    path = tmp_path / promote.PLAN_FILE
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(CloudctlError, match=message):
        cli("promote", "--verify-plan", str(tmp_path), "--registry", host, "--repo", str(tmp_path))


def test_verify_plan_without_a_plan_and_plan_out_with_open_mr_are_refused(tmp_path):
    with pytest.raises(CloudctlError, match=r"cannot read the promotion plan .*none/plan.json: No such file"):
        cli("promote", "--verify-plan", str(tmp_path / "none"), "--registry", "127.0.0.1:1")
    with pytest.raises(CloudctlError, match=r"--plan-out only plans: open the MR with --verify-plan"):
        cli("promote", "--plan-out", str(tmp_path), "--open-mr")
    assert not (tmp_path / promote.PLAN_FILE).exists()
    with pytest.raises(SystemExit):  # argparse: one of the three image steps at a time
        cli("promote", "--plan-out", str(tmp_path), "--verify-plan", str(tmp_path))
