"""Steps against the cluster: kubeconfig from SSM, Argo CD and its waits, the root app, pruning on down."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import yaml

from cloudctl.bootstrap.context import Context
from cloudctl.bootstrap.kubeconfig import read_parameter, wait_for_kubeconfig, write_private
from cloudctl.bootstrap.layout import Layout
from cloudctl.bootstrap.shell import KubectlCall, StepError
from cloudctl.bootstrap.waits import wait_for
from cloudctl.errors import CloudctlError

ARGOCD_NAMESPACE = "argocd"
ARGOCD_CRDS = ("applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io")
APPLICATIONS = "applications.argoproj.io"
# kubectl's answer when Argo CD (its CRDs) is not installed: nothing of it left to delete.
MISSING_CRD = "doesn't have a resource type"
CRD_TIMEOUT = "120s"
ROLLOUT_TIMEOUT = "600s"
DELETE_TIMEOUT = "900s"


def kubectl(ctx: Context, *args: str) -> KubectlCall:
    return KubectlCall(kubeconfig=ctx.kubeconfig, args=args, cwd=ctx.layout.root)


@dataclass(frozen=True)
class RootApp:
    name: str
    namespace: str


def root_app(layout: Layout) -> RootApp:
    """The app of apps declared in clusters/<env>/root.yaml (its name is the GitOps tree's to choose)."""
    path = layout.root_app
    try:
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict)]
    except (OSError, yaml.YAMLError) as err:
        raise CloudctlError(f"cannot read {layout.rel(path)}: {' '.join(str(err).split())}") from err
    for doc in docs:
        if doc.get("kind") == "Application":
            meta = doc.get("metadata") or {}
            if meta.get("name"):
                return RootApp(meta["name"], meta.get("namespace", ARGOCD_NAMESPACE))
    raise CloudctlError(f"{layout.rel(path)} declares no Argo CD Application with a name")


# --- up -------------------------------------------------------------------------------------


def _show_ssm_read(ctx: Context, note: str) -> None:
    """The CLI equivalent of the boto3 call, for people reading the plan."""
    name, region, path = (
        ctx.outputs.kubeconfig_parameter,
        ctx.outputs.region,
        shlex.quote(str(ctx.kubeconfig)),
    )
    ctx.shell.show(
        f"aws ssm get-parameter --region {region} --name {name} --with-decryption > {path}", note=note
    )


def fetch_kubeconfig(ctx: Context) -> None:
    name, region = ctx.outputs.kubeconfig_parameter, ctx.outputs.region
    waits = ctx.waits
    _show_ssm_read(
        ctx, f"boto3; polled every {waits.interval_s:.0f} s up to {waits.timeout_s:.0f} s; file mode 0600"
    )
    if ctx.dry_run:
        return
    placeholder = ctx.outputs.kubeconfig_placeholder
    text = wait_for_kubeconfig(ctx.aws.ssm(region), name, placeholder, ctx.waits, ctx.say)
    write_private(ctx.kubeconfig, text)
    ctx.kubeconfig_ready = True


def wait_for_api(ctx: Context) -> None:
    """The API server answers from here (the kubeconfig can be in SSM a moment before 6443 is reachable)."""
    call = kubectl(ctx, "get", "--raw", "/readyz")
    ctx.shell.show(call.shown(ctx.layout), note="polled until it answers ok")
    if ctx.dry_run:
        return

    def answers() -> bool | None:
        return True if call.execute(capture=True)[0] == 0 else None

    wait_for("the Kubernetes API server", answers, ctx.waits)


def install_argocd(ctx: Context) -> None:
    # Server-side apply: converges on every run, never "already exists"; --force-conflicts takes back fields
    # Argo CD's own self-management may have touched.
    path = ctx.layout.rel(ctx.layout.argocd_install)
    ctx.shell.run(kubectl(ctx, "apply", "--server-side", "--force-conflicts", "-k", path))


def wait_for_argocd_crds(ctx: Context) -> None:
    crds = [f"crd/{name}" for name in ARGOCD_CRDS]
    ctx.shell.run(kubectl(ctx, "wait", "--for", "condition=established", f"--timeout={CRD_TIMEOUT}", *crds))


def wait_for_argocd_server(ctx: Context) -> None:
    ctx.shell.run(
        kubectl(
            ctx,
            "-n",
            ARGOCD_NAMESPACE,
            "rollout",
            "status",
            "deployment/argocd-server",
            f"--timeout={ROLLOUT_TIMEOUT}",
        )
    )


def apply_root_app(ctx: Context) -> None:
    path = ctx.layout.rel(ctx.layout.root_app)
    ctx.shell.run(kubectl(ctx, "apply", "--server-side", "--force-conflicts", "-f", path))


def print_access(ctx: Context) -> None:
    out = ctx.outputs
    secret = "argocd-initial-admin-secret"  # noqa: S105 -- the Secret's name, not a password
    ctx.say(f"    ALB:         {out.alb_url}")
    ctx.say(f"    application: {out.alb_url}/api/movies")
    ctx.say(f"    Argo CD UI:  {out.argocd_url}  (user admin)")
    ctx.say(
        "    password:    "
        f"kubectl --kubeconfig {shlex.quote(str(ctx.kubeconfig))} -n {ARGOCD_NAMESPACE} get secret {secret} "
        "-o jsonpath='{.data.password}' | base64 -d"
    )


# --- down -----------------------------------------------------------------------------------


def fetch_kubeconfig_if_present(ctx: Context) -> None:
    """down: take the kubeconfig if the cluster still publishes one; no cluster, nothing to prune."""
    if ctx.outputs is None:
        return
    name, region = ctx.outputs.kubeconfig_parameter, ctx.outputs.region
    _show_ssm_read(ctx, "boto3; once; absent means no cluster to prune")
    if ctx.dry_run:
        ctx.kubeconfig_ready = True
        return
    text = read_parameter(ctx.aws.ssm(region), name)
    if text is None or text == ctx.outputs.kubeconfig_placeholder:
        ctx.say(f"    {name} holds no kubeconfig: no cluster to talk to")
        return
    write_private(ctx.kubeconfig, text)
    ctx.kubeconfig_ready = True


def _delete(ctx: Context, what: str, namespace: str, *args: str) -> None:
    """kubectl delete that converges: gone already, or Argo CD's CRDs gone, is success."""
    call = kubectl(ctx, "-n", namespace, "delete", APPLICATIONS, *args)
    code, _, err = ctx.shell.run_code(call, capture=True)
    if code != 0 and MISSING_CRD not in err:
        raise StepError(f"cannot delete {what}: {' '.join(err.split()) or f'kubectl exited {code}'}")


def delete_root_app(ctx: Context) -> None:
    """Delete the app of apps first, so it cannot recreate the child apps deleted next.

    root.yaml has no cascade finalizer on purpose (GitOps tree): this removes only the Application.
    """
    if not ctx.kubeconfig_ready:
        ctx.say("    skipped: no cluster")
        return
    app = root_app(ctx.layout)
    _delete(
        ctx,
        f"application {app.name}",
        app.namespace,
        app.name,
        "--ignore-not-found",
        "--wait=true",
        f"--timeout={DELETE_TIMEOUT}",
    )


def delete_child_apps(ctx: Context) -> None:
    """Delete every other Application; Argo CD prunes what each deployed (their cascade finalizer)."""
    if not ctx.kubeconfig_ready:
        ctx.say("    skipped: no cluster")
        return
    # --wait=false: the finalizers take minutes; prune-wait watches them go.
    _delete(ctx, "the applications", ARGOCD_NAMESPACE, "--all", "--ignore-not-found", "--wait=false")


def wait_for_pruning(ctx: Context) -> None:
    """Every child Application is gone: Argo CD has deleted what they deployed."""
    if not ctx.kubeconfig_ready:
        ctx.say("    skipped: no cluster")
        return
    call = kubectl(ctx, "-n", ARGOCD_NAMESPACE, "get", APPLICATIONS, "-o", "name")
    ctx.shell.show(call.shown(ctx.layout), note="polled until no Application is left")
    if ctx.dry_run:
        return

    def none_left() -> bool | None:
        code, out, err = call.execute(capture=True)
        if code != 0 and MISSING_CRD not in err:
            raise StepError(f"cannot list applications: {' '.join(err.split()) or f'kubectl exited {code}'}")
        left = out.split() if code == 0 else []
        if left:
            ctx.say(f"    still pruning: {' '.join(left)}")
            return None
        return True

    wait_for("Argo CD to prune every application", none_left, ctx.waits)
