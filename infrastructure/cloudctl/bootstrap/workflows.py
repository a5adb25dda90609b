"""The ordered steps of up, down, plan and rabbitmq-recover, and the read-only status report."""

from __future__ import annotations

from cloudctl.bootstrap import argo_status, images, rabbitmq
from cloudctl.bootstrap import kube_steps as kube
from cloudctl.bootstrap import terraform_steps as tf
from cloudctl.bootstrap.context import Context
from cloudctl.bootstrap.shell import StepError
from cloudctl.bootstrap.state_adopt import adopt_existing_bucket
from cloudctl.bootstrap.steps import Step

STATE_INIT = Step("state-init", "terraform init of the state backend root", tf.init_state, always=True)
BACKEND = Step("backend", "find the env root's S3 backend settings", tf.read_backend_config, always=True)
ENV_INIT = Step("env-init", "terraform init of the env root against the S3 backend", tf.init_env, always=True)
# down and status also work on an env that is not (or no longer) deployed.
OUTPUTS_IF_APPLIED = Step(
    "env-outputs", "read the env root's outputs (if applied)", tf.read_env_outputs_if_applied, always=True
)
KUBECONFIG_IF_PRESENT = Step(
    "kubeconfig",
    "fetch the kubeconfig from SSM (if the cluster exists)",
    kube.fetch_kubeconfig_if_present,
    always=True,
)

UP = (
    STATE_INIT,
    Step(
        "state-adopt",
        "import the state bucket if it exists but this machine lacks its state",
        adopt_existing_bucket,
    ),
    Step("state-apply", "terraform apply of the state backend root (S3 bucket, locking)", tf.apply_state),
    BACKEND,
    ENV_INIT,
    Step("env-apply", "terraform apply of the env root (network, cluster, database, ALB, ...)", tf.apply_env),
    Step("env-outputs", "read the env root's outputs", tf.read_env_outputs, always=True),
    Step("images", "the pinned image tags exist in ECR (dev: build them first)", images.ensure_images),
    Step(
        "kubeconfig",
        "wait for the current master's kubeconfig in SSM and write it (0600)",
        kube.fetch_kubeconfig,
        always=True,
    ),
    Step("cluster-api", "wait for the Kubernetes API server", kube.wait_for_api),
    Step("argocd-install", "install Argo CD (server-side apply)", kube.install_argocd),
    Step("argocd-crds", "wait for Argo CD's CRDs to be established", kube.wait_for_argocd_crds),
    Step("argocd-server", "wait for the argocd-server rollout", kube.wait_for_argocd_server),
    Step(
        "cluster-secret",
        "write the cluster Secret: Terraform's outputs and the inputs",
        kube.write_cluster_secret,
    ),
    Step(
        "repo-credentials", "write the repository Secret (private repositories)", kube.write_repository_secret
    ),
    Step("root-app", "apply the root (AppProject platform, ApplicationSet root)", kube.apply_root_app),
    Step("sync", "wait until the root and every Application are Synced and Healthy", kube.wait_for_sync),
    Step("serve", "wait until GET /api/movies through the ALB answers 200", kube.wait_for_service),
    Step("access", "where to reach it", kube.print_access, always=True),
)

PLAN = (
    STATE_INIT,
    Step("state-plan", "terraform plan of the state backend root", tf.plan_state, always=True),
    BACKEND,
    ENV_INIT,
    Step("env-plan", "terraform plan of the env root", tf.plan_env, always=True),
)


def down_steps(include_state: bool) -> tuple[Step, ...]:
    steps: tuple[Step, ...] = (
        STATE_INIT,
        BACKEND,
        ENV_INIT,
        OUTPUTS_IF_APPLIED,
        KUBECONFIG_IF_PRESENT,
        Step("root-delete", "delete the root ApplicationSet, then the root Application", kube.delete_root),
        Step(
            "movies-delete",
            "delete the movie Applications, highest wave first, while KEDA and ESO still run",
            kube.delete_movie_apps,
        ),
        Step(
            "platform-delete",
            "delete the platform Applications, highest wave first",
            kube.delete_platform_apps,
        ),
        Step("env-destroy", "terraform destroy of the env root", tf.destroy_env),
    )
    if include_state:
        steps += (Step("state-destroy", "terraform destroy of the state backend root", tf.destroy_state),)
    return steps


STATUS = (
    STATE_INIT,
    BACKEND,
    ENV_INIT,
    OUTPUTS_IF_APPLIED,
    KUBECONFIG_IF_PRESENT,
)

RABBITMQ_RECOVER = (
    *STATUS,
    Step("rabbitmq-recover", "recreate rabbitmq-0's volume if its node is gone", rabbitmq.recover),
)


def report_status(ctx: Context) -> bool:
    """Print what is deployed; True when the env root is applied and the cluster and Argo CD answer."""
    out = ctx.outputs
    if out is None:
        ctx.say(f"{ctx.env}: not deployed")
        return False
    ctx.say(f"{ctx.env}: cluster {out.cluster_name} in {out.region}")
    ctx.say(f"    ALB:        {out.alb_url}")
    ctx.say(f"    Argo CD UI: {out.argocd_url}")
    ctx.say(f"    RDS:        {out.rds_endpoint}")
    for name, url in sorted(out.ecr_repository_urls.items()):
        ctx.say(f"    ECR {name}: {url}")
    if not ctx.kubeconfig_ready:
        ctx.say("    cluster:    no kubeconfig in SSM yet")
        return False
    code, text, err = ctx.shell.run_code(kube.kubectl(ctx, "get", "nodes", "-o", "wide"), capture=True)
    if code != 0:
        ctx.say(f"    nodes: unavailable ({' '.join(err.split()) or f'kubectl exited {code}'})")
        return False
    ctx.say("    nodes:")
    for line in text.splitlines():
        ctx.say(f"      {line}")
    ctx.shell.show(
        kube.kubectl(ctx, "-n", kube.ARGOCD_NAMESPACE, "get", kube.APPLICATIONS, "-o", "json").shown(
            ctx.layout
        )
    )
    try:
        apps = kube.list_applications(ctx)
    except StepError as err:
        ctx.say(f"    applications: unavailable ({err})")
        return False
    if apps is None:
        ctx.say("    applications: Argo CD is not installed")
        return False
    ctx.say("    applications:")
    for line in argo_status.table(apps):
        ctx.say(f"      {line}")
    return True
