"""Promotion: copy dev's image tags to prod, with the images copied between the two environments'
repositories first, and open the promotion merge request. Merging that MR is what deploys prod.

The image copy is `skopeo copy --all --preserve-digests`: the image index and every platform's
image, byte for byte, so prod runs exactly the digests dev ran. ECR's tags are IMMUTABLE and ECR
refuses even an identical re-push of a tag, so every source and destination is looked at first
(`plan`): a missing source, or a destination tag naming another image, stops the promotion before
anything is written; a destination already holding the same digest is left alone (re-running is
safe). The plan names each source by its digest, so what is copied is what was looked at.

In CI the three steps are three jobs (docs/delivery.md): `promote-prod` writes the plan
(`write_plan`: plan.json, and copy.txt, one `SOURCE@DIGEST DESTINATION` line per image to copy),
`promote-copy` runs skopeo on copy.txt in the pinned skopeo image, `promote-mr` reads plan.json
back (`read_plan`), checks every destination holds its digest (`verify`) and opens the MR for the
plan's tags. `cloudctl promote --copy-images` runs the same plan, copy and check in one process.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitlab.v4.objects import Project

from cloudctl.delivery import images, registry
from cloudctl.delivery.gitlab_api import api_errors, commit_file, read_file
from cloudctl.errors import CloudctlError

COPY_TIMEOUT = 1800  # seconds for one image: a service's layers, over the AWS network
PLAN_FILE = "plan.json"  # everything promote-mr needs: registry, environments, tags, digests
COPY_FILE = "copy.txt"  # what promote-copy reads: one `SOURCE@DIGEST DESTINATION` line per copy
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
IMAGE_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


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


def source_tags(project: Project, source_env: str, branch: str) -> dict[str, str]:
    """The source environment's tags as `branch` holds them now (the GitLab API, not a checkout:
    the pipeline's own commit predates the bot's tag commits)."""
    path = images.images_path(source_env)
    text, _ = read_file(project, path, branch)
    return promotion_tags(text, path)


@dataclass(frozen=True)
class PlannedImage:
    name: str
    tag: str
    digest: str  # the source's manifest (or image index) digest
    present: bool  # the destination already holds exactly this digest: not copied


@dataclass(frozen=True)
class Plan:
    host: str  # the registry (the job's own, never read from git)
    source_env: str
    target_env: str
    images: tuple[PlannedImage, ...]

    def source(self, image: PlannedImage) -> str:
        """host/cloud-design/<source env>/<image>@<digest>: exactly what the plan looked at."""
        return f"{self.host}/{registry.repository_name(self.source_env, image.name)}@{image.digest}"

    def target(self, image: PlannedImage) -> str:
        return registry.reference(self.host, self.target_env, image.name, image.tag)

    @property
    def tags(self) -> dict[str, str]:
        return {image.name: image.tag for image in self.images}

    @property
    def to_copy(self) -> list[PlannedImage]:
        return [image for image in self.images if not image.present]


def plan(
    host: str,
    tags: dict[str, str],
    source_env: str,
    target_env: str,
    *,
    authfile: Path | None = None,
    skopeo: str = "skopeo",
) -> Plan:
    """Look at every source and destination in `host`; raise before anything is written when a
    source is missing or a destination tag names another image."""
    return Plan(
        host,
        source_env,
        target_env,
        tuple(
            _plan_image(host, name, tag, source_env, target_env, authfile, skopeo)
            for name, tag in sorted(tags.items())
        ),
    )


def _plan_image(
    host: str,
    name: str,
    tag: str,
    source_env: str,
    target_env: str,
    authfile: Path | None,
    skopeo: str,
) -> PlannedImage:
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
    return PlannedImage(name, tag, digest, present=existing is not None)


def write_plan(promotion: Plan, folder: Path) -> None:
    """plan.json and copy.txt in `folder` (names and digests only: never a credential)."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "registry": promotion.host,
        "from": promotion.source_env,
        "to": promotion.target_env,
        "images": [
            {"name": i.name, "tag": i.tag, "digest": i.digest, "present": i.present} for i in promotion.images
        ],
    }
    (folder / PLAN_FILE).write_text(json.dumps(document, indent=2) + "\n")
    lines = [f"{promotion.source(i)} {promotion.target(i)}\n" for i in promotion.to_copy]
    (folder / COPY_FILE).write_text("".join(lines))


def read_plan(folder: Path) -> Plan:
    """The plan `write_plan` wrote; every value checked, so a damaged file is one line, not a copy."""
    path = folder / PLAN_FILE
    try:
        document = json.loads(path.read_text())
    except OSError as err:
        raise CloudctlError(f"cannot read the promotion plan {path}: {err.strerror}") from err
    except ValueError as err:
        raise CloudctlError(f"{path} is not JSON: {err}") from err
    try:
        entries = document["images"]
        host, source_env, target_env = document["registry"], document["from"], document["to"]
        if not isinstance(entries, list) or not all(
            isinstance(value, str) for value in (host, source_env, target_env)
        ):
            raise TypeError
        planned = tuple(_planned_image(entry) for entry in entries)
    except (KeyError, TypeError) as err:
        raise CloudctlError(
            f"{path} is not a promotion plan (cloudctl promote --plan-out writes one)"
        ) from err
    for env in (source_env, target_env):
        images.images_path(env)  # raises on a malformed environment name
    if len({image.name for image in planned}) != len(planned):
        raise CloudctlError(f"{path} names an image twice")
    return Plan(host, source_env, target_env, planned)


def _planned_image(entry: Any) -> PlannedImage:
    name, tag, digest, present = entry["name"], entry["tag"], entry["digest"], entry["present"]
    if not isinstance(present, bool) or not isinstance(name, str) or not IMAGE_NAME.fullmatch(name):
        raise TypeError
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise TypeError
    return PlannedImage(name, images.validate_tag(tag), digest, present)


def verify(promotion: Plan, *, authfile: Path | None = None, skopeo: str = "skopeo") -> None:
    """Every destination holds the digest the plan names (the copied ones and the ones already there)."""
    problems = []
    for image in promotion.images:
        target = promotion.target(image)
        found = registry.manifest(target, authfile=authfile, skopeo=skopeo)
        if found is None:
            problems.append(f"{target} does not exist")
        elif registry.digest_of(found) != image.digest:
            problems.append(f"{target} holds {registry.digest_of(found)}, not {image.digest}")
    if problems:
        raise CloudctlError(f"{'; '.join(problems)}: not the promotion plan's images")


def copy(promotion: Plan, *, authfile: Path | None = None, skopeo: str = "skopeo") -> list[str]:
    """skopeo copy for each image the plan copies, then `verify`; returns the names copied."""
    for image in promotion.to_copy:
        _skopeo_copy(promotion.source(image), promotion.target(image), authfile, skopeo)
    verify(promotion, authfile=authfile, skopeo=skopeo)
    return [image.name for image in promotion.to_copy]


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


def _skopeo_copy(source: str, target: str, authfile: Path | None, skopeo: str) -> None:
    command = skopeo_copy_command(source, target, authfile, skopeo)
    try:
        result = subprocess.run(command, capture_output=True, timeout=COPY_TIMEOUT, check=False)
    except FileNotFoundError as err:
        raise CloudctlError(f"{skopeo} not found: install skopeo to copy {source}") from err
    except subprocess.TimeoutExpired as err:
        raise CloudctlError(f"skopeo did not copy {source} in {COPY_TIMEOUT} s") from err
    if result.returncode != 0:
        message = registry.one_line(result.stderr) or f"skopeo exited {result.returncode}"
        raise CloudctlError(f"cannot copy {source} to {target}: {message}")


def open_promotion_mr(
    project: Project,
    tags: dict[str, str],
    *,
    source_env: str,
    target_env: str,
    target_branch: str,
    digests: dict[str, str] | None = None,
) -> tuple[str, str | None]:
    """Commit `tags` into the target environment's image file, read at `target_branch`, on a
    promotion branch and open (or find) its merge request. Returns (state, MR web URL): state is
    "opened", "exists" or "up-to-date" (nothing to promote, no MR). `digests` (name -> digest)
    are listed in the description."""
    target_path = images.images_path(target_env)
    target_text, target_last_commit = read_file(project, target_path, target_branch)
    new_text, changed = images.update_text(target_text, tags, target_path)
    if not changed:
        return "up-to-date", None

    digest = hashlib.sha256(repr(sorted(tags.items())).encode()).hexdigest()[:10]
    branch = f"promote/{target_env}-{digest}"
    with api_errors(f"look for an open merge request from {branch}"):
        open_mrs = project.mergerequests.list(state="opened", source_branch=branch, get_all=False)
    if open_mrs:
        return "exists", open_mrs[0].web_url

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
    digests = digests or {}
    description = "\n".join(
        [
            f"Copies the image tags running in **{source_env}** to **{target_env}**; merging deploys it.",
            "",
        ]
        + [
            f"- `{name}`: `{tags[name]}`" + (f" (`{digests[name]}`)" if name in digests else "")
            for name in changed
        ]
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
