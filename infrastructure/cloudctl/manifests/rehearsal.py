"""A rehearsal of the first sync into an empty cluster: what exists when, and who waits for what.

Validating each object alone misses what breaks a first deploy: order and reach. This module
lays every object a cluster deploys on one timeline, in the order things come to exist:

1. cloudctl's steps: `kubectl apply -k clusters/<env>/argocd`, then `kubectl apply -f root.yaml`;
2. Argo CD syncing the root Application's folder, then each child Application by sync wave (the
   root's own resources of wave w go in after its child Applications of waves below w);
3. within an Application: the destination namespace (CreateNamespace), then the PreSync, Sync and
   PostSync phases, each by resource sync wave; and what controllers create: the Secret an
   ExternalSecret targets, and what a Helm chart Application installs (its CRDs).

Then it checks that everything a pod or custom resource refers to exists no later than it: its
namespace, its ServiceAccount, the ConfigMaps and Secrets it reads down to each key, its PVCs'
StorageClass, the CRD of its kind, every Service a DNS name in its configuration resolves to (from
the namespace of whoever resolves it), its Application's AppProject (destination and kinds) and
source folder, and for its images the ECR repository Terraform creates. No value may still be a
`from-cluster-secret:` placeholder: the cluster Secret fills every one before the first sync.
Objects in the same phase and wave of one sync go in together, so they may refer to each other.
It is not a Kubernetes emulator: no controller runs, no pod starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from cloudctl.bootstrap.cluster_secret import PLACEHOLDER
from cloudctl.delivery.registry import repository_name
from cloudctl.manifests import tree
from cloudctl.manifests.render import Obj, Rendering

# What exists in every K3s cluster before anything is applied.
BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
BUILTIN_STORAGE_CLASSES = frozenset({"local-path"})  # K3s's local-path-provisioner
BUILTIN_API_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "admissionregistration.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
    }
)
# The API groups a Helm chart Application installs the CRDs of (charts are not rendered offline).
CHART_API_GROUPS = {"external-secrets": "external-secrets.io", "keda": "keda.sh"}
# Who resolves the host names in a KEDA TriggerAuthentication's parameters: the KEDA operator, in
# the namespace of the Application that installs the keda chart.
KEDA_CHART = "keda"
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterSecretStore",
        "APIService",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "StorageClass",
        "PriorityClass",
    }
)
# Objects a container creates at start, by a word of its command: the Argo CD install's redis
# Deployment creates its password Secret in an init container (`argocd admin redis-initial-password`).
CREATED_BY_COMMAND = {"redis-initial-password": ("Secret", "argocd-redis")}
WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"})
PHASES = {"PreSync": 0, "Sync": 1, "PostSync": 2}
HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?)?([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?):\d{2,5}\b")


@dataclass(frozen=True, order=True)
class Moment:
    """When an object comes to exist; a smaller moment is earlier."""

    step: int  # 0: cloudctl installs Argo CD, 1: cloudctl applies root.yaml, 2: Argo CD syncs
    app_wave: int = 0
    app: str = ""
    phase: int = 1
    wave: int = 0

    def describe(self) -> str:
        if self.step == 0:
            return "cloudctl's Argo CD install"
        if self.step == 1:
            return "cloudctl's root.yaml"
        phase = {v: k for k, v in PHASES.items()}.get(self.phase, "namespace creation")
        return f"Application {self.app} (wave {self.app_wave}), {phase} wave {self.wave}"


@dataclass
class Placed:
    obj: Obj
    namespace: str
    moment: Moment


@dataclass
class Timeline:
    env: str
    placed: list[Placed] = field(default_factory=list)
    namespaces: dict[str, Moment] = field(default_factory=dict)
    api_groups: dict[str, Moment] = field(default_factory=dict)
    app_projects: dict[str, tuple[Obj, str]] = field(default_factory=dict)  # name -> (app, destination)
    keda_namespace: str | None = None
    missing_sources: list[str] = field(default_factory=list)  # Applications whose folder is not rendered

    def add(self, obj: Obj, namespace: str, moment: Moment) -> None:
        namespace = "" if obj.kind in CLUSTER_SCOPED else namespace
        self.placed.append(Placed(obj, namespace, moment))
        if obj.kind == "Namespace":
            self.namespaces.setdefault(obj.name, moment)
        if obj.kind == "CustomResourceDefinition":
            group = obj.doc.get("spec", {}).get("group", "")
            self.api_groups[group] = min(moment, self.api_groups.get(group, moment))


def _annotation(obj: Obj, key: str, default: str = "") -> str:
    value: str = ((obj.doc.get("metadata") or {}).get("annotations") or {}).get(key, default)
    return value


def _wave(obj: Obj) -> int:
    return int(_annotation(obj, "argocd.argoproj.io/sync-wave", "0"))


def _phase(obj: Obj) -> int:
    hooks = [hook.strip() for hook in _annotation(obj, "argocd.argoproj.io/hook", "Sync").split(",")]
    return min(PHASES.get(hook, 1) for hook in hooks)


def build(renderings: dict[str, Rendering], env: str) -> Timeline:
    """Every object the cluster of `env` deploys, at the moment it comes to exist."""
    timeline = Timeline(env)
    for obj in renderings[f"clusters/{env}/argocd"].objects:
        timeline.add(obj, obj.namespace, Moment(0))
    root = renderings[f"clusters/{env}"]
    for obj in root.objects:
        if obj.source.endswith(f"clusters/{env}/root.yaml"):
            timeline.add(obj, obj.namespace, Moment(1))
    root_app = next(o for o in root.objects if o.kind == "Application" and o.name == "root")
    apps = [root_app] + sorted(
        (o for o in root.objects if o.kind == "Application" and o.name != "root"),
        key=lambda o: (_wave(o), o.name),
    )
    for app in apps:
        _sync(timeline, renderings, app)
    return timeline


def _sync(timeline: Timeline, renderings: dict[str, Rendering], app: Obj) -> None:
    spec = app.doc["spec"]
    destination = spec.get("destination", {}).get("namespace", "")
    wave = -100 if app.name == "root" else _wave(app)
    start = Moment(2, wave, app.name, -1)
    timeline.app_projects[app.name] = (app, destination)
    options = (spec.get("syncPolicy") or {}).get("syncOptions") or []
    if "CreateNamespace=true" in options and destination:
        timeline.namespaces.setdefault(destination, start)
    source = spec.get("source") or {}
    if "chart" in source:
        group = CHART_API_GROUPS.get(source["chart"])
        if group:
            timeline.api_groups.setdefault(group, start)
        if source["chart"] == KEDA_CHART:
            timeline.keda_namespace = destination
        return
    rendering = renderings.get(source.get("path", ""))
    if rendering is None:
        timeline.missing_sources.append(
            f"{timeline.env}: {app.where()} waits for its source folder {source.get('path')!r}, "
            "which is not a kustomization of this repository"
        )
        return
    for obj in rendering.objects:
        # The root's own resources go in by their wave among its child Applications: a child of
        # wave w is synced (and, with the Application health check, healthy) before wave w+1.
        app_wave = _wave(obj) if app.name == "root" else wave
        moment = Moment(2, app_wave, app.name, _phase(obj), _wave(obj))
        timeline.add(obj, obj.namespace or destination, moment)


# --- what objects refer to -----------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    kind: str
    namespace: str
    name: str
    key: str | None = None  # a key of a ConfigMap or Secret
    why: str = ""


def _pod_spec(obj: Obj) -> dict[str, Any] | None:
    spec: dict[str, Any] = obj.doc.get("spec") or {}
    if obj.kind == "Pod":
        return spec
    pod: dict[str, Any] | None = None
    if obj.kind == "CronJob":
        pod = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec")
    elif obj.kind in WORKLOADS:
        pod = (spec.get("template") or {}).get("spec")
    return pod


def _containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod.get("initContainers") or []
    yield from pod.get("containers") or []


def needs(placed: Placed) -> Iterator[Need]:
    obj, ns = placed.obj, placed.namespace
    pod = _pod_spec(obj)
    if pod is not None:
        yield Need("ServiceAccount", ns, pod.get("serviceAccountName") or "default", why="serviceAccountName")
        for container in _containers(pod):
            for source in container.get("envFrom") or []:
                for kind, field_ in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    ref = source.get(field_)
                    if ref and not ref.get("optional"):
                        yield Need(kind, ns, ref["name"], why=f"envFrom of {container['name']}")
            for env in container.get("env") or []:
                ref_from = env.get("valueFrom") or {}
                for kind, field_ in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                    ref = ref_from.get(field_)
                    if ref and not ref.get("optional"):
                        yield Need(
                            kind, ns, ref["name"], ref["key"], why=f"env {env['name']} of {container['name']}"
                        )
        for volume in pod.get("volumes") or []:
            if "secret" in volume and not volume["secret"].get("optional"):
                yield Need("Secret", ns, volume["secret"]["secretName"], why=f"volume {volume['name']}")
            if "configMap" in volume and not volume["configMap"].get("optional"):
                yield Need("ConfigMap", ns, volume["configMap"]["name"], why=f"volume {volume['name']}")
            claim = volume.get("persistentVolumeClaim")
            if claim:
                yield Need("PersistentVolumeClaim", ns, claim["claimName"], why=f"volume {volume['name']}")
    for template in (obj.doc.get("spec") or {}).get("volumeClaimTemplates") or []:
        storage_class = (template.get("spec") or {}).get("storageClassName")
        if storage_class and storage_class not in BUILTIN_STORAGE_CLASSES:
            yield Need("StorageClass", "", storage_class, why="volumeClaimTemplates")
    if obj.kind == "ExternalSecret":
        store = (obj.doc.get("spec") or {}).get("secretStoreRef") or {}
        kind = store.get("kind", "SecretStore")
        yield Need(
            kind, "" if kind == "ClusterSecretStore" else ns, store.get("name", ""), why="secretStoreRef"
        )
    if obj.kind == "TriggerAuthentication":
        for ref in (obj.doc.get("spec") or {}).get("secretTargetRef") or []:
            yield Need("Secret", ns, ref["name"], ref["key"], why=f"secretTargetRef {ref['parameter']}")
    if obj.kind == "ScaledObject":
        for trigger in (obj.doc.get("spec") or {}).get("triggers") or []:
            auth = trigger.get("authenticationRef")
            if auth:
                yield Need(
                    auth.get("kind", "TriggerAuthentication"), ns, auth["name"], why="authenticationRef"
                )


def _secret_keys(placed: Placed) -> set[str] | None:
    """The keys a Secret or ConfigMap will hold; None when they cannot be known offline."""
    doc = placed.obj.doc
    if placed.obj.kind in ("Secret", "ConfigMap"):
        return (
            set(doc.get("data") or {}) | set(doc.get("stringData") or {}) | set(doc.get("binaryData") or {})
        )
    if placed.obj.kind != "ExternalSecret":
        return None  # made by a container at start (CREATED_BY_COMMAND)
    spec = doc.get("spec") or {}
    template = ((spec.get("target") or {}).get("template") or {}).get("data")
    if template:
        return set(template)
    if spec.get("dataFrom"):
        return None
    return {item["secretKey"] for item in spec.get("data") or []}


def _providers(timeline: Timeline) -> dict[tuple[str, str, str], Placed]:
    """What each (kind, namespace, name) is made by: the object itself, or for a Secret the
    ExternalSecret that creates it (its target), at the ExternalSecret's moment."""
    found: dict[tuple[str, str, str], Placed] = {}
    for placed in timeline.placed:
        key = (placed.obj.kind, placed.namespace, placed.obj.name)
        found.setdefault(key, placed)
        for container in _containers(_pod_spec(placed.obj) or {}):
            for word in [*(container.get("command") or []), *(container.get("args") or [])]:
                if word in CREATED_BY_COMMAND:
                    kind, name = CREATED_BY_COMMAND[word]
                    found.setdefault((kind, placed.namespace, name), placed)
        if placed.obj.kind == "ExternalSecret":
            target = (placed.obj.doc.get("spec") or {}).get("target") or {}
            if target.get("creationPolicy", "Owner") == "Merge":
                continue  # adds keys to a Secret someone else owns
            found.setdefault(("Secret", placed.namespace, target.get("name") or placed.obj.name), placed)
    return found


def _group(obj: Obj) -> str:
    api = obj.doc.get("apiVersion", "")
    return api.split("/")[0] if "/" in api else ""


def _hosts(text: str) -> Iterator[str]:
    for match in HOST.finditer(text):
        yield match.group(1)


def _values(placed: Placed) -> Iterator[str]:
    """The configuration strings an object hands to whoever reads it (where host names live)."""
    doc = placed.obj.doc
    if placed.obj.kind in ("ConfigMap", "Secret"):
        yield from (str(v) for v in (doc.get("data") or {}).values() if placed.obj.kind == "ConfigMap")
        yield from (str(v) for v in (doc.get("stringData") or {}).values())
    if placed.obj.kind == "ExternalSecret":
        template = (((doc.get("spec") or {}).get("target") or {}).get("template") or {}).get("data") or {}
        yield from (str(v) for v in template.values())
    pod = _pod_spec(placed.obj)
    for container in _containers(pod or {}):
        yield from (str(env["value"]) for env in container.get("env") or [] if "value" in env)


def check(timeline: Timeline, root: Path) -> list[str]:
    """Every reference that waits for something nothing creates in time; one line each. `root` is
    the repository being validated: its contract.yaml names the images Terraform creates."""
    problems: list[str] = []
    providers = _providers(timeline)
    homeless: dict[str, list[Placed]] = {}
    for placed in timeline.placed:
        where = f"{timeline.env}: {placed.obj.where()} ({placed.moment.describe()})"
        if placed.namespace and placed.namespace not in BUILTIN_NAMESPACES:
            made = timeline.namespaces.get(placed.namespace)
            if made is None or made > placed.moment:
                homeless.setdefault(placed.namespace, []).append(placed)
        group = _group(placed.obj)
        if group not in BUILTIN_API_GROUPS:
            made = timeline.api_groups.get(group)
            if made is None or made > placed.moment:
                problems.append(
                    f"{where} waits for the CRD of {group} {placed.obj.kind}, not installed before it"
                )
        for need in needs(placed):
            if need.kind == "ServiceAccount" and need.name == "default":
                continue
            provider = providers.get((need.kind, need.namespace, need.name))
            what = f"{need.kind} {need.namespace + '/' if need.namespace else ''}{need.name}"
            if provider is None:
                problems.append(f"{where} waits for {what} ({need.why}), which nothing creates")
                continue
            if provider.moment > placed.moment:
                later = provider.moment.describe()
                problems.append(f"{where} waits for {what} ({need.why}), created only later by {later}")
                continue
            if need.key is not None:
                keys = _secret_keys(provider)
                if keys is not None and need.key not in keys:
                    problems.append(
                        f"{where} waits for key {need.key} of {what} ({need.why}), which it never holds"
                    )
    for namespace, waiting in homeless.items():
        first = min(waiting, key=lambda placed: placed.moment)
        more = f" and {len(waiting) - 1} more objects" if len(waiting) > 1 else ""
        problems.append(
            f"{timeline.env}: {first.obj.where()}{more} ({first.moment.describe()} on) wait for namespace "
            f"{namespace}, which nothing creates before them"
        )
    problems += _check_dns(timeline, providers)
    problems += _check_projects(timeline)
    problems += timeline.missing_sources
    problems += _check_images(timeline, tree.ecr_repository_names(root))
    problems += _check_placeholders(timeline)
    return problems


def _check_images(timeline: Timeline, repositories: tuple[str, ...]) -> list[str]:
    """Every image of ours pulls from an ECR repository Terraform creates for this environment."""
    problems: list[str] = []
    wanted = {repository_name(timeline.env, name) for name in repositories}
    for placed in timeline.placed:
        for container in _containers(_pod_spec(placed.obj) or {}):
            image = container.get("image", "")
            name = image.split("@")[0]
            head, _, last = name.rpartition("/")
            repository = f"{head}/{last.split(':')[0]}" if head else last.split(":")[0]
            where = f"{timeline.env}: {placed.obj.where()}: container {container.get('name')}"
            if ".dkr.ecr." in repository:
                path = repository.split("/", 1)[1] if "/" in repository else ""
                if path not in wanted:
                    problems.append(
                        f"{where} pulls {image}, but Terraform creates no ECR repository {path} "
                        f"(it creates {', '.join(sorted(wanted))})"
                    )
            elif repository in repositories:
                problems.append(
                    f"{where} pulls {image}, which names no registry: nothing maps it to Terraform's "
                    f"ECR repository {repository_name(timeline.env, repository)}"
                )
    return problems


def _strings(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def _check_placeholders(timeline: Timeline) -> list[str]:
    """A `from-cluster-secret:` value nobody filled would reach the cluster as it is."""
    problems = []
    for placed in timeline.placed:
        if placed.obj.kind == "ApplicationSet":
            continue  # its template holds expressions, filled per cluster by the controller
        for path, value in _strings(placed.obj.doc):
            if PLACEHOLDER in value:
                problems.append(
                    f"{timeline.env}: {placed.obj.where()}: {path} is still {value!r}: the root "
                    "ApplicationSet patches no such key of the ConfigMap cluster"
                )
    return sorted(set(problems))


def _check_dns(timeline: Timeline, providers: dict[tuple[str, str, str], Placed]) -> list[str]:
    """Every cluster host name, resolved from the namespace of each reader."""
    problems: list[str] = []
    namespaces = set(timeline.namespaces) | BUILTIN_NAMESPACES
    # (namespace, Secret/ConfigMap name) -> who reads it: (the namespace it resolves from, when).
    readers: dict[tuple[str, str], set[tuple[str, Moment]]] = {}
    for placed in timeline.placed:
        for need in needs(placed):
            if need.kind in ("Secret", "ConfigMap"):
                resolver = placed.namespace
                if placed.obj.kind == "TriggerAuthentication" and timeline.keda_namespace:
                    resolver = timeline.keda_namespace  # the KEDA operator connects, not the pod
                readers.setdefault((need.namespace, need.name), set()).add((resolver, placed.moment))
    for placed in timeline.placed:
        if placed.obj.kind == "ExternalSecret":
            target = ((placed.obj.doc.get("spec") or {}).get("target") or {}).get("name") or placed.obj.name
            resolvers = readers.get((placed.namespace, target), set())
        elif placed.obj.kind == "ConfigMap":
            resolvers = readers.get((placed.namespace, placed.obj.name), set())
        else:
            resolvers = {(placed.namespace, placed.moment)}
        for value in _values(placed):
            for host in _hosts(value):
                parts = host.split(".")
                if len(parts) > 1 and not (
                    (len(parts) == 2 and parts[1] in namespaces)
                    or host.endswith((".svc", ".svc.cluster.local"))
                ):
                    continue  # outside the cluster (RDS, AWS APIs)
                for resolver, moment in sorted(resolvers):
                    namespace = parts[1] if len(parts) > 1 else resolver
                    service = providers.get(("Service", namespace, parts[0]))
                    if service is None:
                        problems.append(
                            f"{timeline.env}: {placed.obj.where()}: host {host}, resolved from namespace "
                            f"{resolver}, is {parts[0]}.{namespace}.svc, and no such Service exists"
                        )
                    elif service.moment > moment:
                        problems.append(
                            f"{timeline.env}: {placed.obj.where()}: host {host} is read by "
                            f"{moment.describe()}, but Service {namespace}/{parts[0]} comes only later "
                            f"({service.moment.describe()})"
                        )
    return sorted(set(problems))


def _check_projects(timeline: Timeline) -> list[str]:
    problems: list[str] = []
    projects = {p.obj.name: p for p in timeline.placed if p.obj.kind == "AppProject"}
    by_app: dict[str, list[Placed]] = {}
    for placed in timeline.placed:
        by_app.setdefault(placed.moment.app, []).append(placed)
    for name, (app, destination) in timeline.app_projects.items():
        project_name = app.doc["spec"].get("project", "default")
        project = projects.get(project_name)
        where = f"{timeline.env}: {app.where()}"
        if project is None:
            problems.append(f"{where} waits for AppProject {project_name}, which nothing creates")
            continue
        spec = project.obj.doc.get("spec") or {}
        allowed = [d.get("namespace", "") for d in spec.get("destinations") or []]
        targets = {destination} | {p.namespace for p in by_app.get(name, []) if p.namespace}
        for namespace in sorted(t for t in targets if t):
            if not any(fnmatch(namespace, pattern) for pattern in allowed):
                problems.append(f"{where}: AppProject {project_name} does not permit namespace {namespace}")
        cluster_kinds = {
            (c.get("group", ""), c.get("kind", "")) for c in spec.get("clusterResourceWhitelist") or []
        }
        for placed in by_app.get(name, []):
            kind = (_group(placed.obj), placed.obj.kind)
            if (
                placed.obj.kind in CLUSTER_SCOPED
                and kind not in cluster_kinds
                and ("*", "*") not in cluster_kinds
            ):
                problems.append(
                    f"{where}: AppProject {project_name} does not permit cluster-scoped {placed.obj.label()}"
                )
    return problems


def rehearse(renderings: dict[str, Rendering], env: str, root: Path) -> tuple[list[str], int, int]:
    """(problems, objects on the timeline, references checked) for one cluster of the repository `root`."""
    timeline = build(renderings, env)
    references = sum(1 for placed in timeline.placed for _ in needs(placed))
    return check(timeline, root), len(timeline.placed), references
