"""Steps against the cluster: kubeconfig from SSM, Argo CD and its waits, the cluster and repository
Secrets, the root, and on down the Applications in dependency order."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

import yaml

from cloudctl.bootstrap import argo_status, cluster_secret
from cloudctl.bootstrap.context import Context
from cloudctl.bootstrap.inputs import GIT_PASSWORD, GIT_USERNAME
from cloudctl.bootstrap.kubeconfig import read_current, wait_for_kubeconfig, write_private
from cloudctl.bootstrap.layout import Layout
from cloudctl.bootstrap.shell import KubectlCall, StepError
from cloudctl.bootstrap.waits import wait_for
from cloudctl.errors import CloudctlError

ARGOCD_NAMESPACE = cluster_secret.ARGOCD_NAMESPACE
ARGOCD_CRDS = ("applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io")
APPLICATIONS = "applications.argoproj.io"
APPLICATIONSETS = "applicationsets.argoproj.io"
# kubectl's answer when Argo CD (its CRDs) is not installed: nothing of it left to delete.
MISSING_CRD = "doesn't have a resource type"
CRD_TIMEOUT = "120s"
ROLLOUT_TIMEOUT = "600s"
DELETE_TIMEOUT = "900s"
# The Argo CD repository Secret cloudctl writes for a private repository.
REPOSITORY_SECRET = "cloud-design-repository"  # noqa: S105 -- the Secret's name
# Argo CD's projects: the movie Applications run on the platform ones (KEDA, ESO), so go first on down.
MOVIES_PROJECT = "movies"


def kubectl(ctx: Context, *args: str, stdin: str | None = None) -> KubectlCall:
    return KubectlCall(kubeconfig=ctx.kubeconfig, args=args, cwd=ctx.layout.root, stdin=stdin)


@dataclass(frozen=True)
class RootApp:
    """The root: the ApplicationSet of clusters/<env>/root.yaml and the one Application it generates."""

    applicationset: str
    name: str
    namespace: str


def root_app(layout: Layout) -> RootApp:
    """Read from clusters/<env>/root.yaml (the names are the GitOps tree's to choose)."""
    path = layout.root_app
    try:
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict)]
    except (OSError, yaml.YAMLError) as err:
        raise CloudctlError(f"cannot read {layout.rel(path)}: {' '.join(str(err).split())}") from err
    for doc in docs:
        if doc.get("kind") == "ApplicationSet":
            meta = doc.get("metadata") or {}
            generated = (((doc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("name")
            if meta.get("name") and generated:
                return RootApp(meta["name"], generated, meta.get("namespace", ARGOCD_NAMESPACE))
    raise CloudctlError(f"{layout.rel(path)} declares no ApplicationSet with a named Application template")


# --- up -------------------------------------------------------------------------------------


def _show_ssm_read(ctx: Context, note: str) -> None:
    """The CLI equivalent of the boto3 calls, for people reading the plan."""
    name, region, path = (
        ctx.env_outputs.kubeconfig_parameter,
        ctx.env_outputs.region,
        shlex.quote(str(ctx.kubeconfig)),
    )
    ctx.shell.show(
        f"aws ssm get-parameter --region {region} --name {name} --with-decryption > {path}", note=note
    )


def fetch_kubeconfig(ctx: Context) -> None:
    out, waits = ctx.env_outputs, ctx.waits
    _show_ssm_read(
        ctx,
        f"boto3; once its description reads 'published by {out.master_instance_id}'; "
        f"polled every {waits.interval_s:.0f} s up to {waits.timeout_s:.0f} s; file mode 0600",
    )
    if ctx.dry_run:
        return
    ctx.say(f"    waiting for the master {out.master_instance_id} to publish its kubeconfig")
    text = wait_for_kubeconfig(
        ctx.aws.ssm(out.region),
        out.kubeconfig_parameter,
        out.kubeconfig_placeholder,
        out.master_instance_id,
        ctx.waits,
        ctx.say,
    )
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


def _apply_objects(ctx: Context, objects: list[dict[str, Any]], note: str) -> None:
    """Server-side apply of objects given on stdin (a v1 List): converges, and no value lands in argv."""
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=1)
    call = kubectl(ctx, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=text)
    ctx.shell.run(call, note=note)


def cluster_values(ctx: Context) -> dict[str, str]:
    """The cluster Secret's annotations: Terraform's outputs and cloudctl's inputs (gitops-bridge)."""
    out = ctx.env_outputs
    account = "<account id>" if ctx.dry_run else ctx.aws.account_id(ctx.region)
    return cluster_secret.annotations(
        repo_url=ctx.inputs.repo_url or "",
        repo_revision=ctx.inputs.revision,
        region=out.region,
        account_id=account,
        cluster_name=out.cluster_name,
        ecr_repository_urls=out.ecr_repository_urls,
    )


def write_cluster_secret(ctx: Context) -> None:
    secret = cluster_secret.manifest(ctx.env, cluster_values(ctx))
    where = f"{ARGOCD_NAMESPACE}/{cluster_secret.SECRET_NAME}"
    _apply_objects(
        ctx, [secret], f"Secret {where} on stdin: {', '.join(sorted(secret['metadata']['annotations']))}"
    )


def repository_secret(url: str, username: str, password: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": REPOSITORY_SECRET,
            "namespace": ARGOCD_NAMESPACE,
            "labels": {"argocd.argoproj.io/secret-type": "repository"},
        },
        "type": "Opaque",
        "stringData": {"type": "git", "url": url, "username": username, "password": password},
    }


def write_repository_secret(ctx: Context) -> None:
    """A private repository's credentials for Argo CD, from the environment (never git, never argv)."""
    credentials = ctx.inputs.git_credentials()
    where = f"{ARGOCD_NAMESPACE}/{REPOSITORY_SECRET}"
    if credentials is None:
        ctx.say(f"    {GIT_USERNAME} and {GIT_PASSWORD} unset: a public repository, no credentials to write")
        return
    secret = repository_secret(ctx.inputs.repo_url or "", *credentials)
    _apply_objects(ctx, [secret], f"Secret {where} on stdin: url, username, password (from the environment)")


def apply_root_app(ctx: Context) -> None:
    """The objects of root.yaml with the placeholders Argo CD fills later filled now (first apply)."""
    path = ctx.layout.root_app
    try:
        objects = cluster_secret.root_objects(path.read_text(), cluster_values(ctx))
    except KeyError as err:  # a placeholder naming an annotation the Secret lacks
        raise StepError(f"{ctx.layout.rel(path)}: {err.args[0]}") from err
    kinds = ", ".join(f"{obj['kind']} {obj['metadata']['name']}" for obj in objects)
    _apply_objects(ctx, objects, f"{ctx.layout.rel(path)} on stdin ({kinds}), placeholders filled")


def list_applications(ctx: Context) -> list[argo_status.AppState] | None:
    """Every Application with its sync, health and waves; None when Argo CD (its CRD) is not there."""
    call = kubectl(ctx, "-n", ARGOCD_NAMESPACE, "get", APPLICATIONS, "-o", "json")
    code, out, err = call.execute(capture=True)
    if code != 0:
        if MISSING_CRD in err:
            return None
        raise StepError(f"cannot list applications: {' '.join(err.split()) or f'kubectl exited {code}'}")
    return argo_status.parse(out, root=root_app(ctx.layout).name)


def wait_for_sync(ctx: Context) -> None:
    """The root and every child Synced and Healthy; on timeout, the first one that is not, and why."""
    call = kubectl(ctx, "-n", ARGOCD_NAMESPACE, "get", APPLICATIONS, "-o", "json")
    ctx.shell.show(
        call.shown(ctx.layout), note="polled until the root and every Application are Synced and Healthy"
    )
    if ctx.dry_run:
        return
    root = root_app(ctx.layout).name
    last: list[argo_status.AppState] = []

    def all_synced() -> bool | None:
        nonlocal last
        last = list_applications(ctx) or []
        ctx.say(f"    {argo_status.progress(last, root)}")
        return True if argo_status.converged(last, root) else None

    wait_for(
        "every Application to be Synced and Healthy",
        all_synced,
        ctx.waits,
        explain=lambda: argo_status.diagnosis(last, root),
    )


def wait_for_service(ctx: Context) -> None:
    """GET /api/movies through the ALB answers 200: the system serves."""
    url = f"{ctx.env_outputs.alb_url}/api/movies"
    ctx.shell.show(f"curl -fsS {url}", note="urllib; polled until it answers 200")
    if ctx.dry_run:
        return
    last = ""

    def serves() -> bool | None:
        nonlocal last
        last = argo_status.http_status(url)
        if last == "200":
            return True
        ctx.say(f"    {url}: {last}")
        return None

    wait_for(f"GET {url} to answer 200", serves, ctx.waits, explain=lambda: f"last answer: {last}")
    ctx.say(f"    {url} answers 200")


def print_access(ctx: Context) -> None:
    out = ctx.env_outputs
    secret = "argocd-initial-admin-secret"  # noqa: S105 -- the Secret's name, not a password
    ctx.say(f"    ALB:         {out.alb_url}")
    ctx.say(f"    application: {out.alb_url}/api/movies")
    ctx.say(f"    Argo CD UI:  {out.argocd_url}  (user admin)")
    ctx.say(
        "    password:    "
        f"kubectl --kubeconfig {shlex.quote(str(ctx.kubeconfig))} -n {ARGOCD_NAMESPACE} get secret {secret} "
        "-o jsonpath='{.data.password}' | base64 -d"
    )


# --- down, status ---------------------------------------------------------------------------


def fetch_kubeconfig_if_present(ctx: Context) -> None:
    """down, status: take the kubeconfig if the current master published one; else no cluster to talk to."""
    if ctx.outputs is None:
        return
    out = ctx.outputs
    _show_ssm_read(ctx, f"boto3; once; only if published by {out.master_instance_id}")
    if ctx.dry_run:
        ctx.kubeconfig_ready = True
        return
    text, why = read_current(
        ctx.aws.ssm(out.region), out.kubeconfig_parameter, out.kubeconfig_placeholder, out.master_instance_id
    )
    if text is None:
        ctx.say(f"    {why}: no cluster to talk to")
        return
    write_private(ctx.kubeconfig, text)
    ctx.kubeconfig_ready = True


def _delete(ctx: Context, what: str, kind: str, *args: str) -> None:
    """kubectl delete that converges: gone already, or Argo CD's CRDs gone, is success."""
    call = kubectl(ctx, "-n", ARGOCD_NAMESPACE, "delete", kind, *args)
    code, _, err = ctx.shell.run_code(call, capture=True)
    if code != 0 and MISSING_CRD not in err:
        raise StepError(f"cannot delete {what}: {' '.join(err.split()) or f'kubectl exited {code}'}")


def delete_root(ctx: Context) -> None:
    """The ApplicationSet first (else it regenerates the root), then the root Application.

    Neither cascades (preserveResourcesOnDeletion, no finalizer on the root), and with the root gone
    nothing re-creates the child Applications deleted next.
    """
    if not ctx.kubeconfig_ready:
        ctx.say("    skipped: no cluster")
        return
    root = root_app(ctx.layout)
    wait = ("--ignore-not-found", "--wait=true", f"--timeout={DELETE_TIMEOUT}")
    _delete(ctx, f"applicationset {root.applicationset}", APPLICATIONSETS, root.applicationset, *wait)
    _delete(ctx, f"application {root.name}", APPLICATIONS, root.name, *wait)


def _delete_in_waves(ctx: Context, movies: bool) -> None:
    """Delete one project group's Applications, highest sync wave first, each wave gone before the next.

    Their resources-finalizer makes Argo CD prune what each deployed; --wait=true returns once it did.
    """
    if not ctx.kubeconfig_ready:
        ctx.say("    skipped: no cluster")
        return
    group = "movie" if movies else "platform"
    call = kubectl(ctx, "-n", ARGOCD_NAMESPACE, "get", APPLICATIONS, "-o", "json")
    ctx.shell.show(
        call.shown(ctx.layout),
        note=f"then each wave of the {group} Applications, highest first: delete, wait until gone",
    )
    if ctx.dry_run:
        return
    apps = list_applications(ctx)
    if apps is None:
        ctx.say("    Argo CD is not installed: nothing to delete")
        return
    chosen = [app for app in apps if (app.project == MOVIES_PROJECT) == movies]
    if not chosen:
        ctx.say(f"    no {group} Applications left")
    for wave, names in argo_status.waves_descending(chosen):
        ctx.say(f"    wave {wave}: {' '.join(names)}")
        _delete(
            ctx,
            f"application(s) {', '.join(names)}",
            APPLICATIONS,
            *names,
            "--ignore-not-found",
            "--wait=true",
            f"--timeout={DELETE_TIMEOUT}",
        )


def delete_movie_apps(ctx: Context) -> None:
    """Workloads, RabbitMQ, secrets, while KEDA and ESO still run (the ScaledObject finalizer clears)."""
    _delete_in_waves(ctx, movies=True)


def delete_platform_apps(ctx: Context) -> None:
    _delete_in_waves(ctx, movies=False)
