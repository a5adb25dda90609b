"""The first images exist before the first sync needs them.

The tags the cluster will run are the `newTag`s of overlays/<env>/images/kustomization.yaml; each
must exist in its ECR repository (Terraform output `ecr_repository_urls`) before the root syncs, or
every pod sits in ImagePullBackOff. On a new account ECR is empty:

- dev: unless the revision the cluster follows already pins tags that exist (read through the
  GitLab API: a first build's tag commit may not be pulled here), start the GitLab pipeline that
  builds every service (BUILD_ALL=true) at that revision, wait for it, then wait until the
  revision's images file carries tags that exist in ECR (the pipeline's tag writer commits them);
  the root then syncs those.
- prod: never build. Its tags come from dev's by promotion; a missing one is an error that says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import gitlab
import yaml
from botocore.exceptions import ClientError

from cloudctl.bootstrap.context import Context
from cloudctl.bootstrap.inputs import GITLAB_TOKEN, repo_location
from cloudctl.bootstrap.shell import StepError
from cloudctl.bootstrap.state_adopt import BUCKET_NAME
from cloudctl.bootstrap.tfvars import load_tfvars
from cloudctl.bootstrap.waits import wait_for
from cloudctl.errors import CloudctlError

if TYPE_CHECKING:
    from gitlab.v4.objects import Project
    from mypy_boto3_ecr import ECRClient

BUILD_VARIABLE = {"key": "BUILD_ALL", "value": "true"}
PIPELINE_FAILED = ("failed", "canceled", "skipped")
PIPELINE_DONE = "success"


def pinned_tags(text: str, where: str) -> dict[str, str]:
    """{image name: tag} from a kustomize images list (entries {name, newTag})."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise StepError(f"{where}: not YAML ({' '.join(str(err).split())})") from err
    entries = data.get("images") if isinstance(data, dict) else None
    tags = {
        str(entry["name"]): str(entry["newTag"])
        for entry in entries or []
        if isinstance(entry, dict) and entry.get("name") and entry.get("newTag")
    }
    if not tags:
        raise StepError(f"{where}: no images with a newTag")
    return tags


def repository_name(url: str) -> str:
    """`<registry>/cloud-design/dev/api-gateway` -> `cloud-design/dev/api-gateway`."""
    return url.split("/", 1)[1]


def missing_images(ecr: ECRClient, repositories: dict[str, str], tags: dict[str, str]) -> list[str]:
    """`image:tag` of each pinned tag its ECR repository lacks."""
    missing = []
    for image, tag in sorted(tags.items()):
        if image not in repositories:
            raise StepError(f"image {image} has no ECR repository in Terraform's output ecr_repository_urls")
        try:
            ecr.describe_images(
                repositoryName=repository_name(repositories[image]), imageIds=[{"imageTag": tag}]
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ImageNotFoundException":
                raise
            missing.append(f"{image}:{tag}")
    return missing


def gitlab_project(ctx: Context) -> Project:
    """The repository's GitLab project (API root: --gitlab-url, else the repository's host)."""
    token = os.environ.get(GITLAB_TOKEN)
    if not token:
        raise StepError(f"{GITLAB_TOKEN} is not set: the first images must be built by the GitLab pipeline")
    host, path = repo_location(ctx.inputs.repo_url or "")
    client = gitlab.Gitlab(ctx.inputs.gitlab_url or f"https://{host}", private_token=token)
    return client.projects.get(path, lazy=True)


def require_build_token(ctx: Context, account: str) -> None:
    """Preflight of dev's up: GITLAB_TOKEN must be set if the images step will have to build.

    Asked before anything is created, so from what exists already: the env root's Terraform state
    (its S3 backend, read-only) for the ECR repositories, then ECR for the pinned tags.
    """
    if ctx.env != "dev" or os.environ.get(GITLAB_TOKEN):
        return
    why = _why_a_build_is_needed(ctx, account)
    if why:
        raise CloudctlError(
            f"{GITLAB_TOKEN} is not set, and {why}: dev's first images are built by the GitLab pipeline, "
            "which needs a token with the api scope"
        )


def _why_a_build_is_needed(ctx: Context, account: str) -> str | None:
    backend = load_tfvars(ctx.layout.backend_hcl, required=("key", "region"))
    bucket, key = BUCKET_NAME.format(account=account), str(backend["key"])
    try:
        state = ctx.aws.s3(str(backend["region"])).get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return f"the env has no Terraform state yet (s3://{bucket}/{key})"
    urls = (json.loads(state).get("outputs", {}).get("ecr_repository_urls") or {}).get("value")
    if not urls:
        return "the env has no ECR repositories yet"
    tags = pinned_tags(
        ctx.layout.images_kustomization.read_text(), ctx.layout.rel(ctx.layout.images_kustomization)
    )
    missing = missing_images(ctx.aws.ecr(ctx.region), urls, tags)
    return f"{', '.join(missing)} not in ECR" if missing else None


def ensure_images(ctx: Context) -> None:
    layout, out = ctx.layout, ctx.env_outputs
    where = layout.rel(layout.images_kustomization)
    ctx.shell.show(
        "aws ecr describe-images --repository-name <each of ecr_repository_urls> "
        f"--image-ids imageTag=<its newTag in {where}>",
        note="boto3",
    )
    if ctx.dry_run:
        if ctx.env == "dev":
            _show_build(
                ctx,
                note=f"only if a tag is missing; then waits for it and for {where} at "
                f"{ctx.inputs.revision} to pin tags that exist",
            )
        return
    tags = pinned_tags(layout.images_kustomization.read_text(), where)
    ecr = ctx.aws.ecr(out.region)
    missing = missing_images(ecr, out.ecr_repository_urls, tags)
    if not missing:
        ctx.say(
            f"    every image of {where} is in ECR: {', '.join(f'{i}:{t}' for i, t in sorted(tags.items()))}"
        )
        return
    if ctx.env != "dev":
        raise StepError(
            f"{', '.join(missing)} not in ECR: {ctx.env} never builds; run the promotion first "
            "(run the pipeline's promote-prod job; promote-copy and promote-mr follow) and merge its MR"
        )
    ctx.say(f"    not in ECR: {', '.join(missing)} (pinned by this checkout's {where})")
    project = gitlab_project(ctx)

    def still_missing(found: dict[str, str]) -> list[str]:
        return missing_images(ecr, out.ecr_repository_urls, found)

    # The cluster syncs the revision, not this checkout: after a first build its tag commit is there,
    # so a re-run with a checkout that was not pulled builds nothing again.
    remote = remote_tags(ctx, project)
    absent = still_missing(remote)
    if absent:
        ctx.say(
            f"    {where} at {ctx.inputs.revision} pins {', '.join(absent)}, not in ECR either: "
            "building every service"
        )
        _show_build(ctx, note="python-gitlab")
        run_build(ctx, project)
        remote = wait_for_pinned_images(ctx, project, still_missing)
    pins = ", ".join(f"{image}:{tag}" for image, tag in sorted(remote.items()))
    ctx.say(f"    {where} at {ctx.inputs.revision} pins {pins}, all in ECR: the root will sync them")


def _show_build(ctx: Context, note: str) -> None:
    ctx.shell.show(f"python-gitlab: pipelines.create(ref={ctx.inputs.revision}, BUILD_ALL=true)", note=note)


def run_build(ctx: Context, project: Project) -> None:
    pipeline = project.pipelines.create({"ref": ctx.inputs.revision, "variables": [BUILD_VARIABLE]})
    ctx.say(f"    pipeline {pipeline.id}: {pipeline.web_url}")

    def finished() -> bool | None:
        pipeline.refresh()
        if pipeline.status == PIPELINE_DONE:
            return True
        if pipeline.status in PIPELINE_FAILED:
            raise StepError(f"pipeline {pipeline.web_url} ended {pipeline.status}: the images were not built")
        ctx.say(f"    pipeline {pipeline.id} {pipeline.status}")
        return None

    wait_for(f"pipeline {pipeline.web_url}", finished, ctx.waits, explain=lambda: f"it is {pipeline.status}")


def remote_tags(ctx: Context, project: Project) -> dict[str, str]:
    """The tags the revision's images file pins, read through the GitLab API."""
    path, revision = ctx.layout.rel(ctx.layout.images_kustomization), ctx.inputs.revision
    text = project.files.get(file_path=path, ref=revision).decode().decode()
    return pinned_tags(text, f"{path} at {revision}")


def wait_for_pinned_images(
    ctx: Context, project: Project, missing: Callable[[dict[str, str]], list[str]]
) -> dict[str, str]:
    """The revision's images file (through the GitLab API) once every tag it pins exists in ECR."""
    path = ctx.layout.rel(ctx.layout.images_kustomization)
    revision = ctx.inputs.revision
    last: list[str] = []

    def pinned_and_present() -> dict[str, str] | None:
        nonlocal last
        found = remote_tags(ctx, project)
        last = missing(found)
        if last:
            ctx.say(f"    {path} at {revision} pins {', '.join(last)}, not in ECR yet (the tag commit)")
            return None
        return found

    return wait_for(
        f"{path} at {revision} to pin built images",
        pinned_and_present,
        ctx.waits,
        explain=lambda: f"still missing {', '.join(last)}",
    )
