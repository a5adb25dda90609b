"""Makes the state root converge on a machine that lacks its local state.

The state root keeps its own state locally (it creates the bucket every other root stores state in). On a
fresh checkout that file is missing while the bucket exists, and a plain apply would fail with
BucketAlreadyOwnedByYou. So before applying, import what exists into the local state: `up` stays idempotent
from any machine.
"""

from __future__ import annotations

from cloudctl.bootstrap.context import Context
from cloudctl.bootstrap.shell import Shell, StepError, TerraformCall

# The resources of infrastructure/terraform/state/main.tf; the provider imports each by the bucket's name.
STATE_RESOURCES = (
    "aws_s3_bucket.state",
    "aws_s3_bucket_versioning.state",
    "aws_s3_bucket_server_side_encryption_configuration.state",
    "aws_s3_bucket_public_access_block.state",
    "aws_s3_bucket_ownership_controls.state",
    "aws_s3_bucket_lifecycle_configuration.state",
    "aws_s3_bucket_policy.state",
)
# state/main.tf: coalesce(var.bucket_name, "cloud-design-tfstate-${account_id}"), bucket_name unset.
BUCKET_NAME = "cloud-design-tfstate-{account}"
NO_STATE = "No state file was found"


def tracked_resources(ctx: Context) -> set[str]:
    call = TerraformCall(ctx.layout.state_root, "state", args=("list",))
    code, out, err = ctx.shell.run_code(call, capture=True)
    if code == 0:
        return set(out.split())
    if NO_STATE in err:
        return set()
    raise StepError(Shell.failure(call, code, err))


def adopt_existing_bucket(ctx: Context) -> None:
    tracked = tracked_resources(ctx)
    if ctx.dry_run:
        ctx.shell.show(
            "aws sts get-caller-identity; aws s3api head-bucket --bucket cloud-design-tfstate-<account>",
            note="boto3; only when the local state lacks the bucket but AWS has it, import each resource:",
        )
        for address in STATE_RESOURCES:
            call = TerraformCall(ctx.layout.state_root, "import", {"input": False}, (address, "<bucket>"))
            ctx.shell.show(call.shown(ctx.layout), note="only if missing from the local state")
        return
    missing = [address for address in STATE_RESOURCES if address not in tracked]
    if not missing:
        ctx.say("    the local state tracks the state bucket")
        return
    bucket = BUCKET_NAME.format(account=ctx.aws.account_id(ctx.region))
    if not ctx.aws.bucket_exists(bucket, ctx.region):
        ctx.say(f"    {bucket} does not exist yet: the apply creates it")
        return
    ctx.say(f"    {bucket} exists but this machine's local state lacks it: importing")
    for address in missing:
        ctx.shell.run(TerraformCall(ctx.layout.state_root, "import", {"input": False}, (address, bucket)))
