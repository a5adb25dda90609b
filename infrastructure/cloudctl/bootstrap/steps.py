"""A plan is an ordered list of steps; the runner prints each, runs it, and on failure says how to resume."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from cloudctl.bootstrap.context import Context
from cloudctl.bootstrap.shell import StepError
from cloudctl.errors import CloudctlError


@dataclass(frozen=True)
class Step:
    name: str
    summary: str
    action: Callable[[Context], None]
    # Read-only steps that later steps depend on (init, outputs, kubeconfig) run even when --from skips past.
    always: bool = False


def step_names(steps: Sequence[Step]) -> list[str]:
    return [step.name for step in steps]


def run_steps(steps: Sequence[Step], ctx: Context, *, rerun: str, start_at: str | None = None) -> None:
    """Run steps in order. rerun is the command line that repeats this plan (every step is idempotent)."""
    names = step_names(steps)
    if start_at is not None and start_at not in names:
        raise CloudctlError(f"--from {start_at}: no such step (steps: {', '.join(names)})")
    skipping = start_at is not None
    for step in steps:
        skipping = skipping and step.name != start_at
        if skipping and not step.always:
            ctx.say(f"==> {step.name}: skipped (--from {start_at})")
            continue
        ctx.say(f"==> {step.name}: {step.summary}")
        try:
            step.action(ctx)
        except (StepError, CloudctlError, ClientError, BotoCoreError, OSError) as err:
            detail = " ".join(str(err).split())  # one line, whatever the source
            raise CloudctlError(
                f"step {step.name} failed: {detail}; every step is idempotent: "
                f"re-run `{rerun}` or resume with `{rerun} --from {step.name}`"
            ) from err
