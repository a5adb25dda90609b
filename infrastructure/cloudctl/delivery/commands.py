"""cloudctl diff | set-image | promote | publish-note: what the GitLab pipeline runs, runnable locally."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cloudctl.delivery import diff as manifest_diff
from cloudctl.delivery import images, render
from cloudctl.errors import CloudctlError

if TYPE_CHECKING:
    from cloudctl.delivery import promote


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("diff", help="render every overlay and cluster at two revisions and diff them")
    p.add_argument("--base", required=True, help="git revision to compare against, e.g. origin/main")
    p.add_argument(
        "--head", help="git revision to compare (default: the working tree, uncommitted changes too)"
    )
    p.add_argument("--format", choices=("text", "markdown"), default="text")
    p.add_argument("--output", type=Path, help="write here instead of stdout")
    p.add_argument("--repo", type=Path, default=Path("."), help="the git checkout (default: .)")
    p.set_defaults(func=run_diff)

    p = subparsers.add_parser("set-image", help="write image tags into overlays/<env>/images (newTag only)")
    p.add_argument("--env", required=True, help="environment, e.g. dev")
    p.add_argument("images", nargs="+", metavar="NAME=TAG", help="e.g. api-gateway=3f2a9c1")
    p.add_argument("--repo", type=Path, default=Path("."), help="the checkout to edit (default: .)")
    p.add_argument(
        "--commit-to",
        metavar="BRANCH",
        help="commit to BRANCH through the GitLab API as the CI bot instead of editing the checkout",
    )
    p.set_defaults(func=run_set_image)

    p = subparsers.add_parser(
        "promote",
        help="copy one environment's image tags (and images) to another",
        description="CI runs it in three jobs: --plan-out, then skopeo copy of the plan's copy.txt, then "
        "--verify-plan --open-mr (docs/delivery.md). --copy-images does all three in one process.",
    )
    p.add_argument("--from", dest="source", default="dev")
    p.add_argument("--to", dest="target", default="prod")
    p.add_argument("--repo", type=Path, default=Path("."), help="the checkout to edit (without --open-mr)")
    images_step = p.add_mutually_exclusive_group()
    images_step.add_argument(
        "--plan-out",
        type=Path,
        metavar="DIR",
        help="look at every source and destination image and write DIR/plan.json and DIR/copy.txt "
        "(the copies still to make); copies nothing and writes no tag. Reads the source tags at "
        "--target-branch through the GitLab API",
    )
    images_step.add_argument(
        "--verify-plan",
        type=Path,
        metavar="DIR",
        help="check every destination of DIR/plan.json holds its digest, then write the plan's tags "
        "(with --open-mr: the promotion MR)",
    )
    images_step.add_argument(
        "--copy-images",
        action="store_true",
        help="plan, copy (skopeo copy --all --preserve-digests) and verify in one process, then "
        "write the tags",
    )
    p.add_argument(
        "--registry",
        default=os.environ.get("ECR_REGISTRY"),
        help="the registry of the images (default: $ECR_REGISTRY, else the caller's AWS account and region)",
    )
    p.add_argument(
        "--open-mr", action="store_true", help="commit to a promotion branch and open its MR (GitLab API)"
    )
    p.add_argument("--target-branch", default=os.environ.get("CI_DEFAULT_BRANCH", "main"))
    p.set_defaults(func=run_promote)

    p = subparsers.add_parser(
        "present-images", help="which of an environment's images already hold a tag in the registry"
    )
    p.add_argument("--env", required=True, help="environment, e.g. dev")
    p.add_argument("--tag", required=True, help="the tag to look for, e.g. the commit SHA")
    p.add_argument(
        "--registry",
        default=os.environ.get("ECR_REGISTRY"),
        help="registry host (default: $ECR_REGISTRY, else the AWS account and region of the caller)",
    )
    p.add_argument(
        "--build-plan",
        type=Path,
        metavar="DIR",
        help="also write DIR/<image>.env per image of contract.yaml: what its build job builds, and where to",
    )
    p.add_argument("--repo", type=Path, default=Path("."), help="the checkout naming the images (default: .)")
    p.set_defaults(func=run_present_images)

    p = subparsers.add_parser(
        "policy-report", help="checkov on rendered manifests, Terraform, Dockerfiles (JUnit)"
    )
    p.add_argument("--output", type=Path, default=Path(".build/policy"), help="report folder")
    p.add_argument("--repo", type=Path, default=Path("."), help="the checkout to scan (default: .)")
    p.set_defaults(func=run_policy_report)

    p = subparsers.add_parser("publish-note", help="create or update this job's one note on a merge request")
    p.add_argument("--key", required=True, help="which note, e.g. manifest-diff (one note per key)")
    p.add_argument("--body-file", required=True, type=Path, help="markdown body ('-' for stdin)")
    p.add_argument("--mr", type=int, default=_env_int("CI_MERGE_REQUEST_IID"), help="MR iid (CI default)")
    p.set_defaults(func=run_publish_note)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None


def _repo_root(path: Path) -> Path:
    result = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CloudctlError(f"{path} is not inside a git checkout")
    return Path(result.stdout.strip())


def run_diff(args: argparse.Namespace) -> int:
    repo = _repo_root(args.repo)
    base_sha = render.resolve(repo, args.base)
    with contextlib.ExitStack() as checkouts:
        if args.head:
            head_sha = render.resolve(repo, args.head)
            head_tree, head_label = checkouts.enter_context(render.checkout(repo, head_sha)), head_sha[:12]
        else:
            head_tree, head_label = repo, "working tree"
        base_tree = checkouts.enter_context(render.checkout(repo, base_sha))
        base, head = manifest_diff.render_pair(base_tree, head_tree)
    diffs = manifest_diff.diff_trees(base, head)
    formatter = manifest_diff.as_markdown if args.format == "markdown" else manifest_diff.as_text
    text = formatter(diffs, f"{args.base} ({base_sha[:12]})", head_label)
    _write(text, args.output)
    return 0


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for pair in pairs:
        name, sep, tag = pair.partition("=")
        if not sep or not name:
            raise CloudctlError(f"expected NAME=TAG, got {pair!r}")
        if name in tags and tags[name] != tag:
            raise CloudctlError(f"two tags for {name}: {tags[name]} and {tag}")
        tags[name] = images.validate_tag(tag)
    return tags


def run_set_image(args: argparse.Namespace) -> int:
    tags = parse_pairs(args.images)
    path = images.images_path(args.env)
    if args.commit_to:
        from cloudctl.delivery import gitlab_api

        _, project = gitlab_api.connect(gitlab_api.GitLabTarget.from_env())
        text, last_commit = gitlab_api.read_file(project, path, args.commit_to)
        new_text, changed = images.update_text(text, tags, path)
        if changed:
            summary = ", ".join(f"{name} {tags[name]}" for name in changed)
            sha = gitlab_api.commit_file(
                project,
                branch=args.commit_to,
                path=path,
                content=new_text,
                last_commit_id=last_commit,
                message=f"{args.env} images: {summary} {gitlab_api.SKIP_CI}",
            )
            print(f"{path}: {summary} (commit {sha[:12]} on {args.commit_to})")
        else:
            print(f"{path}: already at these tags, nothing committed")
        return 0
    changed = images.set_tags(_repo_root(args.repo) / path, tags)
    print(
        f"{path}: " + (", ".join(f"{n} {tags[n]}" for n in changed) if changed else "already at these tags")
    )
    return 0


def run_promote(args: argparse.Namespace) -> int:
    from cloudctl.delivery import promote

    if args.plan_out and args.open_mr:
        raise CloudctlError(
            "--plan-out only plans: open the MR with --verify-plan DIR --open-mr after the copy"
        )
    project = None
    if args.open_mr or args.plan_out:
        from cloudctl.delivery import gitlab_api

        _, project = gitlab_api.connect(gitlab_api.GitLabTarget.from_env())
    digests: dict[str, str] = {}
    if args.verify_plan:
        planned = _verify_plan(args.verify_plan, args.registry, args.source, args.target)
        tags, digests = planned.tags, {image.name: image.digest for image in planned.images}
    elif project is not None:
        tags = promote.source_tags(project, args.source, args.target_branch)
    else:
        root = _repo_root(args.repo)
        source_file = images.images_file(root, args.source)
        tags = promote.promotion_tags(source_file.read_text(), str(source_file))
    if args.plan_out:
        _plan_out(args.plan_out, args.registry, tags, args.source, args.target)
        return 0
    if args.copy_images:
        planned = _copy_images(args.registry, tags, args.source, args.target)
        digests = {image.name: image.digest for image in planned.images}
    if project is not None:
        state, url = promote.open_promotion_mr(
            project,
            tags,
            source_env=args.source,
            target_env=args.target,
            target_branch=args.target_branch,
            digests=digests,
        )
        print(
            {
                "opened": f"opened {url}",
                "exists": f"a promotion MR for these tags is already open: {url}",
                "up-to-date": f"{args.target} already runs {args.source}'s tags: nothing to promote",
            }[state]
        )
        return 0
    root = _repo_root(args.repo)
    target_file = images.images_file(root, args.target)
    changed = images.set_tags(target_file, tags)
    print(
        f"{target_file.relative_to(root)}: " + (", ".join(f"{n} {tags[n]}" for n in changed) or "up to date")
    )
    return 0


def _plan_out(
    folder: Path, explicit_host: str | None, tags: dict[str, str], source: str, target: str
) -> None:
    """promote-prod: every check, then the plan; nothing copied."""
    from cloudctl.delivery import promote, registry

    host = registry.registry_host(explicit_host)
    with registry.auth_file(host, registry.login(host)) as authfile:
        planned = promote.plan(host, tags, source, target, authfile=authfile)
    promote.write_plan(planned, folder)
    for image in planned.images:
        if image.present:
            print(f"{planned.target(image)} already holds {image.digest}: not copied")
        else:
            print(f"to copy: {planned.source(image)} -> {planned.target(image)}")
    count = len(planned.to_copy)
    print(f"plan: {folder / promote.PLAN_FILE}, {count} to copy in {folder / promote.COPY_FILE}")


def _verify_plan(folder: Path, explicit_host: str | None, source: str, target: str) -> promote.Plan:
    """promote-mr: the plan read back, every destination holding the plan's digest."""
    from cloudctl.delivery import promote, registry

    planned = promote.read_plan(folder)
    if (planned.source_env, planned.target_env) != (source, target):
        raise CloudctlError(
            f"{folder / promote.PLAN_FILE} promotes {planned.source_env} to {planned.target_env}, "
            f"not {source} to {target}"
        )
    host = registry.registry_host(explicit_host)
    if planned.host != host:
        raise CloudctlError(f"{folder / promote.PLAN_FILE} is for the registry {planned.host}, not {host}")
    with registry.auth_file(host, registry.login(host)) as authfile:
        promote.verify(planned, authfile=authfile)
    for image in planned.images:
        print(f"{planned.target(image)} holds {image.digest}")
    return planned


def _copy_images(explicit_host: str | None, tags: dict[str, str], source: str, target: str) -> promote.Plan:
    """--copy-images: plan, copy and verify in this process, logged in to the registry first."""
    from cloudctl.delivery import promote, registry

    host = registry.registry_host(explicit_host)
    with registry.auth_file(host, registry.login(host)) as authfile:
        planned = promote.plan(host, tags, source, target, authfile=authfile)
        promote.copy(planned, authfile=authfile)
    copied = [image.name for image in planned.to_copy]
    kept = [image.name for image in planned.images if image.present]
    print(
        f"{host}: copied {', '.join(copied) or 'nothing'} from {source} to {target}"
        + (f"; already there: {', '.join(kept)}" if kept else "")
    )
    return planned


def run_present_images(args: argparse.Namespace) -> int:
    """A build job skips the push of an image this finds: with IMMUTABLE tags, ECR would refuse it."""
    from cloudctl.delivery import builds, registry

    tag = images.validate_tag(args.tag)
    root = _repo_root(args.repo)
    names = sorted(images.read_tags(images.images_file(root, args.env)))
    if args.build_plan:
        built = [source.image for source in builds.sources(root)]
        if built != names:
            raise CloudctlError(
                f"{builds.CONTRACT} builds {', '.join(built)} but {images.images_path(args.env)} "
                f"names {', '.join(names)}"
            )
    host = registry.registry_host(args.registry)
    present = registry.present_images(host, args.env, names, tag, registry.login(host))
    for name in names:
        state = "already there, the build job skips its push" if name in present else "not there yet"
        print(f"{registry.reference(host, args.env, name, tag)}: {state}")
    if args.build_plan:
        builds.write_plan(args.build_plan, builds.plan(root, host, args.env, tag, present))
    return 0


def run_publish_note(args: argparse.Namespace) -> int:
    from cloudctl.delivery import gitlab_api, notes

    if args.mr is None:
        raise CloudctlError(
            "no merge request: pass --mr or run in a merge request pipeline (CI_MERGE_REQUEST_IID)"
        )
    try:
        body = sys.stdin.read() if str(args.body_file) == "-" else args.body_file.read_text()
    except OSError as err:
        raise CloudctlError(f"cannot read {args.body_file}: {err.strerror}") from err
    client, project = gitlab_api.connect(gitlab_api.GitLabTarget.from_env())
    state, note_id = notes.publish_note(client, project, args.mr, args.key, body)
    print(f"merge request !{args.mr}: note {note_id} {state}")
    return 0


def run_policy_report(args: argparse.Namespace) -> int:
    from cloudctl.delivery import policy_report

    root = _repo_root(args.repo)
    return policy_report.run(root, (root / args.output) if not args.output.is_absolute() else args.output)
