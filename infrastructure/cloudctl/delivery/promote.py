"""Promotion: copy dev's image tags to prod, optionally copying the images between ECR repositories
and opening the promotion merge request. Merging that MR is what deploys prod.
"""

from __future__ import annotations

import hashlib

import urllib3
from botocore.exceptions import BotoCoreError
from gitlab.v4.objects import Project

from cloudctl.delivery import images
from cloudctl.delivery.ecr_copy import ImageCopier
from cloudctl.delivery.gitlab_api import api_errors, commit_file, read_file
from cloudctl.delivery.registry import EcrRegistry
from cloudctl.errors import CloudctlError


def promotion_tags(source_text: str, source: str) -> dict[str, str]:
    """The tags to copy: every entry of the source environment, which must all have a tag."""
    tags = {name: entry.new_tag for name, entry in images.entries_in_text(source_text, source).items()}
    untagged = sorted(name for name, tag in tags.items() if not tag)
    if untagged:
        raise CloudctlError(f"{source}: no newTag for {', '.join(untagged)}")
    return tags


def copy_images(
    ecr,
    registry: EcrRegistry,
    tags: dict[str, str],
    source_env: str,
    target_env: str,
    http: urllib3.PoolManager | None = None,
) -> list[str]:
    """Copy each image (manifest, and every blob the target lacks) from the source environment's
    repository to the target's under the same tag; see ecr_copy. The repositories are the job's
    own registry's (registry.py), never read from git. Returns the names copied (not those already there)."""
    copied = []
    for name, tag in sorted(tags.items()):
        src, dst = registry.repository(source_env, name), registry.repository(target_env, name)
        try:
            if ImageCopier(ecr, src, dst, http).copy(tag):
                copied.append(name)
        except BotoCoreError as err:
            raise CloudctlError(f"ECR: cannot copy {src.name}:{tag} to {dst.name}: {err}") from err
    return copied


def open_promotion_mr(
    project: Project, *, source_env: str, target_env: str, target_branch: str, copy=None
) -> tuple[str, str | None]:
    """Read both environments' image files at `target_branch`, commit the target's new tags to a
    promotion branch and open (or find) its merge request. `copy(tags)` runs before the commit
    (the ECR copy). Returns (state, MR web URL): state is "opened",
    "exists" or "up-to-date" (nothing to promote, no MR)."""
    source_path = images.images_path(source_env)
    target_path = images.images_path(target_env)
    source_text, _ = read_file(project, source_path, target_branch)
    target_text, target_last_commit = read_file(project, target_path, target_branch)
    tags = promotion_tags(source_text, source_path)
    new_text, changed = images.update_text(target_text, tags, target_path)
    if not changed:
        return "up-to-date", None

    digest = hashlib.sha256(repr(sorted(tags.items())).encode()).hexdigest()[:10]
    branch = f"promote/{target_env}-{digest}"
    with api_errors(f"look for an open merge request from {branch}"):
        open_mrs = project.mergerequests.list(state="opened", source_branch=branch, get_all=False)
    if open_mrs:
        return "exists", open_mrs[0].web_url

    if copy is not None:
        copy(tags)
    summary = ", ".join(f"{name} {tags[name]}" for name in changed)
    commit_file(
        project,
        branch=branch,
        start_branch=target_branch,
        path=target_path,
        content=new_text,
        last_commit_id=target_last_commit,
        message=f"promote {source_env} → {target_env}: {summary}",
    )
    description = "\n".join(
        [
            f"Copies the image tags running in **{source_env}** to **{target_env}**; merging deploys it.",
            "",
        ]
        + [f"- `{name}`: `{tags[name]}`" for name in changed]
        + ["", "The rendered-manifest diff note below shows every object that changes."]
    )
    with api_errors(f"open the merge request from {branch}"):
        mr = project.mergerequests.create(
            {
                "source_branch": branch,
                "target_branch": target_branch,
                "title": f"Promote {source_env} → {target_env}: {summary}",
                "description": description,
                "remove_source_branch": True,
            }
        )
    return "opened", mr.web_url
