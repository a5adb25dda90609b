"""Steps that drive terraform in the state root and the env root (through python-terraform)."""

from __future__ import annotations

from cloudctl.bootstrap.context import Context
from cloudctl.bootstrap.outputs import EnvOutputs, parse_env_outputs, parse_state_bucket
from cloudctl.bootstrap.shell import IsFlagged, Shell, StepError, TerraformCall

# -input=false: never stop at a prompt; a missing variable is an error, not a question.
INIT = {"input": False, "no_color": IsFlagged}
APPLY = {"input": False, "auto_approve": IsFlagged}
DESTROY = {"input": False, "auto_approve": IsFlagged}
# -detailed-exitcode: 0 no changes, 2 changes pending, 1 error.
PLAN = {"input": False, "no_color": IsFlagged, "detailed_exitcode": IsFlagged}
OUTPUT = {"json": IsFlagged}
PLAN_CHANGES = 2


def init_state(ctx: Context) -> None:
    ctx.shell.run(TerraformCall(ctx.layout.state_root, "init", INIT))


def apply_state(ctx: Context) -> None:
    ctx.shell.run(TerraformCall(ctx.layout.state_root, "apply", APPLY))


def destroy_state(ctx: Context) -> None:
    ctx.shell.run(TerraformCall(ctx.layout.state_root, "destroy", DESTROY))


def read_backend_config(ctx: Context) -> None:
    """The env root's backend: envs/<env>/backend.hcl (key, region, locking) plus the state root's bucket."""
    text = ctx.shell.run(TerraformCall(ctx.layout.state_root, "output", OUTPUT), capture=True)
    where = ctx.layout.rel(ctx.layout.state_root)
    bucket = "<state_bucket output of the state root>" if ctx.dry_run else parse_state_bucket(text, where)
    ctx.backend_config = [ctx.layout.backend_hcl.name, f"bucket={bucket}"]


def init_env(ctx: Context) -> None:
    # -reconfigure: the backend settings come from us on every run; never migrate state silently.
    options = {**INIT, "reconfigure": IsFlagged, "backend_config": ctx.backend_config}
    ctx.shell.run(TerraformCall(ctx.layout.env_root, "init", options))


def apply_env(ctx: Context) -> None:
    ctx.shell.run(TerraformCall(ctx.layout.env_root, "apply", APPLY, variables=ctx.terraform_variables()))


def destroy_env(ctx: Context) -> None:
    ctx.shell.run(TerraformCall(ctx.layout.env_root, "destroy", DESTROY, variables=ctx.terraform_variables()))


def env_output_text(ctx: Context) -> str:
    return ctx.shell.run(TerraformCall(ctx.layout.env_root, "output", OUTPUT), capture=True)


def read_env_outputs(ctx: Context) -> None:
    text = env_output_text(ctx)
    where = ctx.layout.rel(ctx.layout.env_root)
    ctx.outputs = (
        EnvOutputs.placeholder(ctx.env, ctx.region) if ctx.dry_run else parse_env_outputs(text, where)
    )


def read_env_outputs_if_applied(ctx: Context) -> None:
    """Like read_env_outputs, but an env root without outputs (never applied, destroyed) is no error."""
    text = env_output_text(ctx)
    if ctx.dry_run:
        ctx.outputs = EnvOutputs.placeholder(ctx.env, ctx.region)
    elif text.strip() in ("", "{}"):
        ctx.outputs = None
        ctx.say(f"    {ctx.layout.rel(ctx.layout.env_root)} has no outputs: nothing of it is deployed")
    else:
        ctx.outputs = parse_env_outputs(text, ctx.layout.rel(ctx.layout.env_root))


def _plan(ctx: Context, call: TerraformCall) -> None:
    code, _, _ = ctx.shell.run_code(call)
    if code not in (0, PLAN_CHANGES):
        raise StepError(Shell.failure(call, code, ""))
    if not ctx.dry_run:
        verdict = "changes pending" if code == PLAN_CHANGES else "no changes"
        ctx.say(f"    {ctx.layout.rel(call.workdir)}: {verdict}")


def plan_state(ctx: Context) -> None:
    _plan(ctx, TerraformCall(ctx.layout.state_root, "plan", PLAN))


def plan_env(ctx: Context) -> None:
    _plan(ctx, TerraformCall(ctx.layout.env_root, "plan", PLAN, variables=ctx.terraform_variables()))
