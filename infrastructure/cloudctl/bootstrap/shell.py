"""Runs (or, in a dry run, only prints) the external commands of a plan: terraform and kubectl.

terraform is driven through python-terraform; its own argv builder also produces what we print, so the
printed command is exactly the one that runs.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from python_terraform import IsFlagged, Terraform

from cloudctl.bootstrap.layout import Layout

__all__ = ["IsFlagged", "KubectlCall", "Shell", "StepError", "TerraformCall"]


class StepError(Exception):
    """A step could not finish; the message (one line) says why. The runner adds how to resume."""


@dataclass(frozen=True)
class TerraformCall:
    """`terraform <subcommand> [options] [args]` run in one root module."""

    workdir: Path
    subcommand: str
    options: dict[str, Any] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    # Input variables as TF_VAR_<name> in the environment: values that are not in git (admin_cidr).
    variables: tuple[tuple[str, str], ...] = ()

    def _terraform(self) -> Terraform:
        return Terraform(working_dir=str(self.workdir), terraform_bin_path="terraform")

    def argv(self) -> list[str]:
        # python_terraform has no type hints; its generate_cmd_string builds the argv as strings.
        argv: list[str] = self._terraform().generate_cmd_string(self.subcommand, *self.args, **self.options)
        return argv

    def environment(self) -> dict[str, str]:
        return {f"TF_VAR_{name}": value for name, value in self.variables}

    def shown(self, layout: Layout) -> str:
        assignments = [f"{key}={shlex.quote(value)}" for key, value in self.environment().items()]
        command = " ".join([*assignments, shlex.join(self.argv())])
        return f"(cd {shlex.quote(layout.rel(self.workdir))} && {command})"

    def execute(self, capture: bool) -> tuple[int, str, str]:
        with _environment(self.environment()):
            code, out, err = self._terraform().cmd(
                self.subcommand, *self.args, capture_output=capture, **self.options
            )
        return code, out or "", err or ""


@contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    """os.environ plus extra for the duration: python-terraform hands its child a copy of os.environ
    and takes no environment of its own."""
    saved = {key: os.environ.get(key) for key in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class KubectlCall:
    """`kubectl --kubeconfig <file> <args>` run from the checkout's root (args' paths are relative to it)."""

    kubeconfig: Path
    args: tuple[str, ...]
    cwd: Path
    # Objects for `apply -f -`: on stdin, so a Secret's value never appears in argv or the output.
    stdin: str | None = None

    def argv(self) -> list[str]:
        return ["kubectl", "--kubeconfig", str(self.kubeconfig), *self.args]

    def shown(self, layout: Layout) -> str:
        return shlex.join(self.argv())

    def execute(self, capture: bool) -> tuple[int, str, str]:
        if capture:
            done = subprocess.run(
                self.argv(), cwd=self.cwd, input=self.stdin, capture_output=True, text=True, check=False
            )
            return done.returncode, done.stdout, done.stderr
        done = subprocess.run(self.argv(), cwd=self.cwd, input=self.stdin, text=True, check=False)
        return done.returncode, "", ""


Call = TerraformCall | KubectlCall


def last_line(text: str) -> str:
    """The last non-empty line of a tool's output: usually the line that says what went wrong."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@dataclass
class Shell:
    """Prints each command before it runs; in a dry run prints it and runs nothing."""

    layout: Layout
    dry_run: bool
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def show(self, shown: str, note: str = "") -> None:
        self.say(f"$ {shown}" + (f"   # {note}" if note else ""))

    def run(
        self, call: Call, *, capture: bool = False, ok_codes: tuple[int, ...] = (0,), note: str = ""
    ) -> str:
        """Run call; return its stdout when captured. Any exit code outside ok_codes is a StepError."""
        code, out, _ = self.run_code(call, capture=capture, note=note)
        if code not in ok_codes:
            raise StepError(self.failure(call, code, _))
        return out

    def run_code(self, call: Call, *, capture: bool = False, note: str = "") -> tuple[int, str, str]:
        """Run call; hand back (exit code, stdout, stderr) for the caller to judge. Dry run: (0, '', '')."""
        self.show(call.shown(self.layout), note)
        if self.dry_run:
            return 0, "", ""
        sys.stdout.flush()
        try:
            return call.execute(capture)
        except FileNotFoundError as err:  # the binary vanished after the preflight
            raise StepError(f"cannot run {call.argv()[0]}: {err.strerror}") from err

    @staticmethod
    def failure(call: Call, code: int, stderr: str) -> str:
        # terraform: the subcommand (the step names the root); kubectl: all but --kubeconfig, to retry it.
        head = (
            " ".join(call.argv()[:2])
            if isinstance(call, TerraformCall)
            else shlex.join(["kubectl", *call.args])
        )
        detail = last_line(stderr)
        return f"`{head}` exited {code}" + (f": {detail}" if detail else " (its output is above)")
