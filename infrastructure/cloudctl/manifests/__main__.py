"""`python -m cloudctl.manifests validate|render|capacity`: the manifest commands on their own, so
`make validate` does not depend on the other command modules being importable."""

import argparse
import sys

from cloudctl.errors import CloudctlError
from cloudctl.manifests.commands import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cloudctl.manifests")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CloudctlError as err:
        print(f"cloudctl {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code


raise SystemExit(main())
