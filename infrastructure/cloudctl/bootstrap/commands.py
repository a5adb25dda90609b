"""The bootstrap's subcommands: up, down, plan, status, cost, rabbitmq-recover (cli.py calls register)."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence
from pathlib import Path

from cloudctl.bootstrap import cost, images, inputs, workflows
from cloudctl.bootstrap.context import Aws, Context
from cloudctl.bootstrap.layout import DEFAULT_REPO_ROOT, ENVIRONMENTS, Layout
from cloudctl.bootstrap.preflight import require_credentials, require_tools
from cloudctl.bootstrap.shell import Shell
from cloudctl.bootstrap.steps import Step, run_steps, step_names
from cloudctl.bootstrap.tfvars import load_tfvars
from cloudctl.bootstrap.waits import WaitPolicy
from cloudctl.errors import CloudctlError

# Replaced by tests with stand-ins (a botocore Stubber behind Aws.ssm, a fake clock).
aws_factory = Aws
wait_policy = WaitPolicy()


def default_kubeconfig(env: str) -> Path:
    return Path.home() / ".kube" / f"cloud-design-{env}.yaml"


# The inputs each command needs (inputs.py): up all of them; terraform plan and destroy the admin CIDR.
REQUIRED_INPUTS = {
    "up": ("repo_url", "admin_cidr"),
    "down": ("admin_cidr",),
    "plan": ("admin_cidr",),
    "status": (),
    "rabbitmq-recover": (),
}
INPUT_FLAGS = ("repo_url", "admin_cidr", "revision", "gitlab_url")


def _context(args: argparse.Namespace, layout: Layout, region: str, given: inputs.Inputs) -> Context:
    return Context(
        layout=layout,
        shell=Shell(layout=layout, dry_run=args.dry_run),
        aws=aws_factory(),
        kubeconfig=(args.kubeconfig or default_kubeconfig(args.env)).expanduser().absolute(),
        region=region,
        inputs=given,
        waits=wait_policy,
    )


def _rerun(args: argparse.Namespace) -> str:
    """The command line that repeats this run (minus --from and --dry-run)."""
    words = ["cloudctl", args.command, "--env", args.env]
    if args.repo_root != DEFAULT_REPO_ROOT:
        words += ["--repo-root", str(args.repo_root)]
    if args.kubeconfig:
        words += ["--kubeconfig", str(args.kubeconfig)]
    if getattr(args, "config", None):
        words += ["--config", str(args.config)]
    for name in INPUT_FLAGS:
        if getattr(args, name, None) is not None:
            words += ["--" + name.replace("_", "-"), getattr(args, name)]
    if getattr(args, "include_state", False):
        words.append("--include-state")
    if getattr(args, "yes", False):
        words.append("--yes")
    return shlex.join(words)


def _prepare(args: argparse.Namespace, tools: Sequence[str], needs_cluster_files: bool) -> Context:
    """Everything checked before the first step: inputs, files, tfvars, tools, credentials."""
    layout = Layout(args.repo_root.resolve(), args.env)
    given = inputs.gather(
        {name: getattr(args, name, None) for name in INPUT_FLAGS},
        getattr(args, "config", None),
        layout.root,
        REQUIRED_INPUTS[args.command],
    )
    if args.command == "up":
        given.git_credentials()  # both or neither
    files = [layout.state_root, layout.env_root, layout.tfvars, layout.backend_hcl]
    if needs_cluster_files:
        files += [layout.argocd_install / "kustomization.yaml", layout.root_app]
    if args.command == "up":
        files.append(layout.images_kustomization)
    layout.require(*files)
    tfvars = load_tfvars(layout.tfvars, required=("region", "environment"))
    if tfvars["environment"] != args.env:
        raise CloudctlError(
            f"{layout.rel(layout.tfvars)} sets environment = {tfvars['environment']!r}, not {args.env!r}"
        )
    ctx = _context(args, layout, str(tfvars["region"]), given)
    if args.dry_run:
        ctx.say(f"preflight: skipped in a dry run ({', '.join(tools)}, AWS credentials); nothing below runs")
    else:
        require_tools(tools)
        account = require_credentials(ctx.aws, ctx.region)
        if args.command == "up":
            images.require_build_token(ctx, account)
        ctx.say(f"preflight: {', '.join(tools)} on PATH; AWS account {account}")
    return ctx


def _run_plan(
    args: argparse.Namespace, steps: Sequence[Step], tools: Sequence[str], cluster_files: bool
) -> int:
    ctx = _prepare(args, tools, cluster_files)
    run_steps(steps, ctx, rerun=_rerun(args), start_at=getattr(args, "start_at", None))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    return _run_plan(args, workflows.UP, ("terraform", "kubectl"), cluster_files=True)


def cmd_down(args: argparse.Namespace) -> int:
    if not (args.yes or args.dry_run):
        raise CloudctlError(f"down destroys {args.env}; confirm with --yes (or look first with --dry-run)")
    return _run_plan(
        args, workflows.down_steps(args.include_state), ("terraform", "kubectl"), cluster_files=True
    )


def cmd_plan(args: argparse.Namespace) -> int:
    return _run_plan(args, workflows.PLAN, ("terraform",), cluster_files=False)


def cmd_status(args: argparse.Namespace) -> int:
    ctx = _prepare(args, ("terraform", "kubectl"), needs_cluster_files=False)
    run_steps(workflows.STATUS, ctx, rerun=_rerun(args))
    if ctx.dry_run:
        return 0
    return 0 if workflows.report_status(ctx) else 3


def cmd_rabbitmq_recover(args: argparse.Namespace) -> int:
    return _run_plan(args, workflows.RABBITMQ_RECOVER, ("terraform", "kubectl"), cluster_files=False)


def cmd_cost(args: argparse.Namespace) -> int:
    layout = Layout(args.repo_root.resolve(), args.env)
    tfvars = load_tfvars(layout.tfvars, required=cost.TFVARS_USED)
    table = cost.load_price_table(args.prices)
    usage = cost.Usage(egress_gb=args.egress_gb, log_ingest_gb=args.log_gb, s3_gb=args.s3_gb)
    estimate = cost.estimate(tfvars, table, usage, cost.root_volume_gb(layout.root))
    print(cost.render(estimate, table, args.env, layout.rel(layout.tfvars)))
    return 0


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text}")
    return value


def _env_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS, help="which environment")
    parser.add_argument(
        "--repo-root", type=Path, default=DEFAULT_REPO_ROOT, help="checkout to read (default: this one)"
    )


def _input_arguments(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    """The values cloudctl cannot derive (inputs.py); flags win over the --config file."""
    helps = {
        "repo_url": "the git repository Argo CD syncs: https://... or git@host:path",
        "admin_cidr": "the IPv4 CIDR allowed to reach the Kubernetes API and /argocd (your address/32)",
        "revision": f"the branch or tag Argo CD follows (default {inputs.DEFAULT_REVISION})",
        "gitlab_url": "GitLab's URL when it is not https://<the repository's host> (dev's first build)",
    }
    parser.add_argument(
        "--config", type=Path, help=f"YAML file outside the checkout with keys {', '.join(names)}"
    )
    for name in names:
        parser.add_argument(
            "--" + name.replace("_", "-"), dest=name, metavar=name.split("_")[-1].upper(), help=helps[name]
        )


def _plan_arguments(parser: argparse.ArgumentParser, steps: Sequence[str] = ()) -> None:
    _env_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="print every command in order; run nothing")
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        help="where to write the kubeconfig (default ~/.kube/cloud-design-ENV.yaml)",
    )
    if steps:
        parser.add_argument(
            "--from",
            dest="start_at",
            metavar="STEP",
            choices=steps,
            help=f"resume at STEP, skipping the changing steps before it ({', '.join(steps)})",
        )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = subparsers.add_parser(
        "up", help="from an empty account to a cluster whose Argo CD syncs clusters/ENV"
    )
    _plan_arguments(up, step_names(workflows.UP))
    _input_arguments(up, INPUT_FLAGS)
    up.set_defaults(func=cmd_up)

    down = subparsers.add_parser(
        "down", help="prune the apps, then terraform destroy the env (and the state root)"
    )
    _plan_arguments(down, step_names(workflows.down_steps(include_state=True)))
    _input_arguments(down, ("admin_cidr",))
    down.add_argument(
        "--include-state", action="store_true", help="also destroy the state backend root (last)"
    )
    down.add_argument("--yes", action="store_true", help="confirm the destruction")
    down.set_defaults(func=cmd_down)

    plan = subparsers.add_parser("plan", help="terraform plan of the state root and the env root")
    _plan_arguments(plan)
    _input_arguments(plan, ("admin_cidr",))
    plan.set_defaults(func=cmd_plan)

    status = subparsers.add_parser("status", help="what is deployed: outputs, nodes, Argo CD applications")
    _plan_arguments(status)
    status.set_defaults(func=cmd_status)

    recover = subparsers.add_parser(
        "rabbitmq-recover", help="recreate rabbitmq-0's volume on a live node after its node was replaced"
    )
    _plan_arguments(recover)
    recover.set_defaults(func=cmd_rabbitmq_recover)

    estimate = subparsers.add_parser("cost", help="monthly estimate from the env's terraform.tfvars")
    _env_arguments(estimate)
    estimate.add_argument("--prices", type=Path, default=cost.DEFAULT_PRICE_TABLE, help="price table (JSON)")
    estimate.add_argument(
        "--egress-gb",
        type=_non_negative,
        default=cost.Usage.egress_gb,
        help="GB/month served to the internet (default %(default)s)",
    )
    estimate.add_argument(
        "--log-gb",
        type=_non_negative,
        default=cost.Usage.log_ingest_gb,
        help="GB/month of logs into CloudWatch (default %(default)s)",
    )
    estimate.add_argument(
        "--s3-gb",
        type=_non_negative,
        default=cost.Usage.s3_gb,
        help="GB kept in the log and backup buckets (default %(default)s)",
    )
    estimate.set_defaults(func=cmd_cost)
