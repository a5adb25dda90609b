"""Promotion: copy dev's image tags to prod, optionally copying the images between the two
environments' repositories first and opening the promotion merge request. Merging that MR is what
deploys prod.

The image copy is `skopeo copy --all --preserve-digests`: the image index and every platform's
image, byte for byte, so prod runs exactly the digests dev ran. ECR's tags are IMMUTABLE and ECR
refuses even an identical re-push of a tag, so every source and destination is looked at first:
a missing source, or a destination tag naming another image, stops the promotion before anything
is written; a destination already holding the same digest is left alone (re-running is safe).
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitlab.v4.objects import Project

from cloudctl.delivery import images, registry
from cloudctl.delivery.gitlab_api import api_errors, commit_file, read_file
from cloudctl.errors import CloudctlError

COPY_TIMEOUT = 1800  # seconds for one image: a service's layers, over the AWS network
Copier = Callable[[dict[str, str]], None]


def promotion_tags(source_text: str, source: str) -> dict[str, str]:
    """The tags to copy: every entry of the source environment, which must all have a tag."""
    tags: dict[str, str] = {}
    untagged = []
    for name, entry in images.entries_in_text(source_text, source).items():
        if entry.new_tag:
            tags[name] = entry.new_tag
        else:
            untagged.append(name)
    if untagged:
        raise CloudctlError(f"{source}: no newTag for {', '.join(sorted(untagged))}")
    return tags


@dataclass(frozen=True)
class ImageCopy:
    name: str
    source: str  # host/cloud-design/<env>/<image>:<tag>
    target: str
    digest: str  # the source's manifest (or image index) digest
    present: bool  # the target already holds exactly this digest


def copy_images(
    host: str,
    tags: dict[str, str],
    source_env: str,
    target_env: str,
    *,
    creds: str | None = None,
    skopeo: str = "skopeo",
) -> list[str]:
    """Copy each image from the source environment's repository to the target's under the same
    tag, in the registry `host` (the job's own, never read from git). `creds` (USER:PASSWORD)
    log in to it. Returns the names copied, leaving out those the target already held."""
    with registry.auth_file(host, creds) as authfile:
        plan = [
            _plan(host, name, tag, source_env, target_env, authfile, skopeo)
            for name, tag in sorted(tags.items())
        ]
        for item in plan:
            if not item.present:
                _skopeo_copy(item, authfile, skopeo)
                copied = registry.manifest(item.target, authfile=authfile, skopeo=skopeo)
                if copied is None or registry.digest_of(copied) != item.digest:
                    raise CloudctlError(f"{item.target} does not hold {item.digest} after the copy")
    return [item.name for item in plan if not item.present]


def _plan(
    host: str,
    name: str,
    tag: str,
    source_env: str,
    target_env: str,
    authfile: Path | None,
    skopeo: str,
) -> ImageCopy:
    source = registry.reference(host, source_env, name, images.validate_tag(tag))
    target = registry.reference(host, target_env, name, tag)
    found = registry.manifest(source, authfile=authfile, skopeo=skopeo)
    if found is None:
        raise CloudctlError(f"{source} does not exist: nothing was copied to {target_env}")
    digest = registry.digest_of(found)
    existing = registry.manifest(target, authfile=authfile, skopeo=skopeo)
    if existing is not None and registry.digest_of(existing) != digest:
        raise CloudctlError(
            f"{target} already names {registry.digest_of(existing)}, not {source}'s {digest}, and "
            "the tag is immutable: nothing was copied"
        )
    return ImageCopy(name, source, target, digest, present=existing is not None)


def skopeo_copy_command(source: str, target: str, authfile: Path | None, skopeo: str = "skopeo") -> list[str]:
    """`skopeo copy --all --preserve-digests`: every platform, the digests unchanged."""
    command = [skopeo, "copy", "--all", "--preserve-digests", "--retry-times", "3"]
    if registry.is_loopback(source):
        command.append("--src-tls-verify=false")
    if registry.is_loopback(target):
        command.append("--dest-tls-verify=false")
    if authfile is not None:
        command += ["--authfile", str(authfile)]
    return [*command, f"docker://{source}", f"docker://{target}"]


def _skopeo_copy(item: ImageCopy, authfile: Path | None, skopeo: str) -> None:
    command = skopeo_copy_command(item.source, item.target, authfile, skopeo)
    try:
        result = subprocess.run(command, capture_output=True, timeout=COPY_TIMEOUT, check=False)
    except FileNotFoundError as err:
        raise CloudctlError(f"{skopeo} not found: install skopeo to copy {item.source}") from err
    except subprocess.TimeoutExpired as err:
        raise CloudctlError(f"skopeo did not copy {item.source} in {COPY_TIMEOUT} s") from err
    if result.returncode != 0:
        message = registry.one_line(result.stderr) or f"skopeo exited {result.returncode}"
        raise CloudctlError(f"cannot copy {item.source} to {item.target}: {message}")


def open_promotion_mr(
    project: Project,
    *,
    source_env: str,
    target_env: str,
    target_branch: str,
    copy: Copier | None = None,
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
