"""Entry point. Each command module exposes register(subparsers); its parser sets func(args) -> int."""

from __future__ import annotations

import argparse
import importlib
import sys

from cloudctl.errors import CloudctlError

# Command modules, each owning its subcommands. A missing module is a bug, not an option.
COMMAND_MODULES = (
    "cloudctl.bootstrap.commands",  # up, down, status, plan, cost
    "cloudctl.manifests.commands",  # render, validate, capacity
    "cloudctl.delivery.commands",  # diff, set-image, promote, publish-note
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudctl",
        description="Operate Cloud-Design: bootstrap AWS and Argo CD, validate manifests, deliver releases.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CloudctlError as err:
        print(f"cloudctl {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"cloudctl {args.command}: interrupted", file=sys.stderr)
        return 130
