"""`cloudctl render | validate | capacity`: the GitOps tree, rendered and proven offline."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from cloudctl.errors import CloudctlError
from cloudctl.manifests import render, tree, validate


def _root(args: argparse.Namespace) -> Path:
    root = Path(args.root).resolve()
    if not all((root / d).is_dir() for d in tree.GITOPS_DIRS):
        raise CloudctlError(f"{root} holds no GitOps tree ({', '.join(tree.GITOPS_DIRS)})")
    return root


def cmd_render(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="cloudctl-render-") as scratch:
        for rendering in render.render_all(_root(args), Path(scratch), only=[args.target]):
            sys.stdout.write(rendering.text())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    stages = tuple(args.only.split(",")) if args.only else validate.STAGES
    unknown = set(stages) - set(validate.STAGES)
    if unknown:
        raise CloudctlError(
            f"--only: unknown stage(s) {', '.join(sorted(unknown))}; choose from {', '.join(validate.STAGES)}"
        )
    validate.run_or_raise(_root(args), stages)
    print("validate: OK")
    return 0


def cmd_capacity(args: argparse.Namespace) -> int:
    validate.run_or_raise(_root(args), ("capacity",))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=str(tree.ROOT), help="repository to check (default: this one)")

    render_parser = subparsers.add_parser("render", parents=[common], help="render one kustomization offline")
    render_parser.add_argument("target", help="kustomization folder, e.g. overlays/dev/workloads")
    render_parser.set_defaults(func=cmd_render)

    validate_parser = subparsers.add_parser(
        "validate", parents=[common], help="render and prove the whole GitOps tree"
    )
    validate_parser.add_argument("--only", help=f"comma-separated stages ({','.join(validate.STAGES)})")
    validate_parser.set_defaults(func=cmd_validate)

    capacity_parser = subparsers.add_parser(
        "capacity", parents=[common], help="print the per-environment capacity table"
    )
    capacity_parser.set_defaults(func=cmd_capacity)
