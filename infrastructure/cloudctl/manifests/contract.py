"""Contract checks between one environment's rendered manifests and the real code.

Reads the services' own Setting tuples, gunicorn configs, Flask routes, worker health server and
queue topology (docs/contract.md), and the rendered objects of the environment; returns every
mismatch as 'file: Kind/name: what is wrong'.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cloudctl.manifests import esotemplate, netpol
from cloudctl.manifests.policy import containers, pod_spec
from cloudctl.manifests.render import Obj

ACCOUNT = r"\d{12}"
REGION = "eu-west-1"
RABBITMQ_IMAGE = re.compile(r"^rabbitmq:3\.12\.\d+-management$")
# The ci cluster's stand-in for RDS (overlays/ci/postgres): not a workload of ours.
POSTGRES_IMAGE = re.compile(r"^postgres:15\.\d+-bookworm$")
PROBE_SCRIPT = Path(__file__).with_name("code_probe.py")
# Settings every process may see without declaring them (set by the images or gunicorn configs).
UNDECLARED_OK = {"PROMETHEUS_MULTIPROC_DIR"}


@dataclass(frozen=True)
class Workload:
    folder: str  # services/<folder>
    settings: str  # module:ATTRIBUTE
    image: str  # ECR repository's last segment
    app: str | None = None  # Flask factory, module:function (None: the worker's health server)
    node_port: int | None = None


WORKLOADS = {
    "api-gateway": Workload(
        "api-gateway", "api_gateway.config:SETTINGS", "api-gateway", "api_gateway:create_app", 30000
    ),
    "inventory": Workload(
        "inventory", "inventory.config:SETTINGS", "inventory-app", "inventory:create_app", 30001
    ),
    "billing": Workload("billing", "billing.config:API_SETTINGS", "billing-app", "billing:create_app", 30002),
    "billing-worker": Workload("billing", "billing.config:WORKER_SETTINGS", "billing-app"),
}
# One-shot commands (the migrations Job): python -m <module> → its settings and image.
COMMANDS = {
    "common.provision": ("common.provision:SETTINGS", "common.config:PGPASSWORD"),
    "inventory.migrate": (
        "common.config:DATABASE_URL",
        "common.config:LOG_LEVEL",
        "common.config:PGPASSWORD",
    ),
    "billing.migrate": ("common.config:DATABASE_URL", "common.config:LOG_LEVEL", "common.config:PGPASSWORD"),
}
COMMAND_IMAGES = {"inventory.migrate": "inventory-app", "billing.migrate": "billing-app"}
# Fixed NodePorts the load balancer targets.
NODE_PORTS = {"api-gateway": 30000, "inventory": 30001, "billing": 30002}
ARGOCD_NODE_PORT = 30080
DNS = netpol.Endpoint("kube-system", {"k8s-app": "kube-dns"})
KEDA_OPERATOR = netpol.Endpoint("keda", {"app.kubernetes.io/name": "keda-operator"})


def services_path(root: Path) -> list[str]:
    return [str(root / "services")] + [str(p) for p in sorted((root / "services").iterdir()) if p.is_dir()]


def load_settings(root: Path, specs: tuple[str, ...] | str) -> dict:
    """name → Setting for the given 'module:ATTRIBUTE' specs (a tuple attribute or one Setting)."""
    for path in reversed(services_path(root)):
        if path not in sys.path:
            sys.path.insert(0, path)
    settings = {}
    for spec in (specs,) if isinstance(specs, str) else specs:
        module, _, attribute = spec.partition(":")
        value = getattr(importlib.import_module(module), attribute)
        for setting in value if isinstance(value, tuple) else (value,):
            settings[setting.name] = setting
    return settings


class Env:
    """One environment's rendered objects, indexed."""

    def __init__(self, name: str, objects: list[Obj]):
        self.name = name
        self.namespace = f"movies-{name}"
        self.objects = objects
        self.config_maps = {o.name: o for o in objects if o.kind == "ConfigMap"}
        self.secrets: dict[str, dict[str, str]] = {}
        self.problems: list[str] = []
        for es in (o for o in objects if o.kind == "ExternalSecret"):
            try:
                self.secrets[esotemplate.secret_name(es)] = esotemplate.secret_data(es)
            except Exception as exc:  # noqa: BLE001 - reported, with the object, as a contract problem
                self.problems.append(str(exc))
        self.workloads = [o for o in objects if pod_spec(o) is not None]
        self.policies = [o.doc for o in objects if o.kind == "NetworkPolicy"]

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o.kind == kind]

    def container_env(self, obj: Obj, container: dict) -> tuple[dict[str, str], list[str]]:
        """The container's environment as the kubelet would build it (secrets: stand-in values)."""
        env, problems = {}, []
        for source in container.get("envFrom") or []:
            ref = source.get("configMapRef") or source.get("secretRef")
            table = (
                self.config_maps.get(ref["name"]).doc.get("data", {})
                if "configMapRef" in source and ref["name"] in self.config_maps
                else self.secrets.get(ref["name"])
            )
            if table is None:
                problems.append(f"envFrom {ref['name']}: no such ConfigMap or ExternalSecret-made Secret")
                continue
            env.update({source.get("prefix", "") + k: v for k, v in table.items()})
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = item["value"]
                continue
            ref = item.get("valueFrom") or {}
            if "secretKeyRef" in ref:
                name, key = ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
                table = self.secrets.get(name)
            elif "configMapKeyRef" in ref:
                name, key = ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
                table = self.config_maps[name].doc.get("data", {}) if name in self.config_maps else None
            else:
                continue
            if table is None or key not in table:
                problems.append(
                    f"env {item['name']}: {name}/{key} is not produced by any ConfigMap or "
                    "ExternalSecret here"
                )
            else:
                env[item["name"]] = table[key]
        return env, [f"{obj.where()}: container {container.get('name')}: {p}" for p in problems]


def _check_env(obj: Obj, container: dict, env: dict, settings: dict) -> list[str]:
    problems = []
    for name, setting in settings.items():
        if name not in env:
            if setting.required:
                problems.append(f"required {name} is not set")
            continue
        try:
            setting.parse(env[name])
        except ValueError as exc:
            problems.append(f"{name}={env[name]!r} is rejected by the code: {exc}")
    for name in sorted(set(env) - set(settings) - UNDECLARED_OK):
        problems.append(f"{name} is set but the code declares no such setting")
    return [f"{obj.where()}: container {container['name']}: {p}" for p in problems]


def _probe_paths(container: dict) -> list[str]:
    return [
        p["httpGet"]["path"]
        for key in ("startupProbe", "readinessProbe", "livenessProbe")
        if (p := container.get(key)) and "httpGet" in p
    ]


# The same code with the same environment answers the same: ask it once per process.
_PROBE_ANSWERS: dict[str, dict] = {}


def _run_probe(root: Path, workload: Workload, env: dict, paths: list[str]) -> dict:
    key = json.dumps([str(root), workload.folder, workload.app, env, paths], sort_keys=True)
    if key not in _PROBE_ANSWERS:
        _PROBE_ANSWERS[key] = _ask_code(root, workload, env, paths)
    return _PROBE_ANSWERS[key]


def _ask_code(root: Path, workload: Workload, env: dict, paths: list[str]) -> dict:
    request = {"kind": "gunicorn" if workload.app else "worker", "app": workload.app, "paths": paths}
    clean_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(services_path(root)),
        **env,
    }
    result = subprocess.run(
        [sys.executable, str(PROBE_SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=root / "services" / workload.folder,
        env=clean_env,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"the code refuses to start with this environment: {last}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_workloads(root: Path, env: Env) -> list[str]:
    """Env vars, ports vs gunicorn binds, probes vs routes, images."""
    problems = []
    image_re = {
        name: re.compile(
            rf"^{ACCOUNT}\.dkr\.ecr\.{REGION}\.amazonaws\.com/cloud-design/{env.name}/{name}:[\w.-]+$"
        )
        for name in ("api-gateway", "inventory-app", "billing-app")
    }
    for obj in env.workloads:
        for container in containers(obj):
            image = container.get("image", "")
            if RABBITMQ_IMAGE.match(image) and obj.name == "rabbitmq":
                continue
            if POSTGRES_IMAGE.match(image) and obj.name == "postgres" and env.name == "ci":
                continue
            command = container.get("command") or []
            module = command[2] if command[:2] == ["python", "-m"] and len(command) > 2 else None
            workload = WORKLOADS.get(container["name"]) if module in (None, "billing.worker") else None
            if workload is None and module not in COMMANDS:
                problems.append(
                    f"{obj.where()}: container {container['name']}: not a workload of docs/contract.md"
                )
                continue
            expected_image = workload.image if workload else COMMAND_IMAGES.get(module)
            if expected_image and not image_re[expected_image].match(image):
                problems.append(
                    f"{obj.where()}: container {container['name']}: image {image!r} is not "
                    f"<account>.dkr.ecr.{REGION}.amazonaws.com/cloud-design/{env.name}/{expected_image}:<tag>"
                )
            elif not expected_image and not any(r.match(image) for r in image_re.values()):
                problems.append(
                    f"{obj.where()}: container {container['name']}: image {image!r} is not one of the "
                    "ECR repositories"
                )
            container_env, env_problems = env.container_env(obj, container)
            problems += env_problems
            settings = load_settings(root, workload.settings if workload else COMMANDS[module])
            problems += _check_env(obj, container, container_env, settings)
            if workload is None or env_problems:
                continue
            problems += _check_code(root, obj, container, workload, container_env)
    return problems


def _check_code(root: Path, obj: Obj, container: dict, workload: Workload, container_env: dict) -> list[str]:
    where = f"{obj.where()}: container {container['name']}"
    answer = _run_probe(root, workload, container_env, _probe_paths(container))
    if "error" in answer:
        return [f"{where}: {answer['error']}"]
    problems = []
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
    listen = int(answer["bind"].rsplit(":", 1)[1]) if answer["bind"] else int(container_env.get("PORT", 8080))
    if ports.get("http") != listen:
        problems.append(f"{where}: containerPort http={ports.get('http')} but the code listens on {listen}")
    for path, served in answer["routes"].items():
        if not served:
            problems.append(f"{where}: probe path {path} is not a route the code serves")
    for key in ("startupProbe", "readinessProbe", "livenessProbe"):
        port = ((container.get(key) or {}).get("httpGet") or {}).get("port")
        if port is not None and port not in ports and port not in ports.values():
            problems.append(f"{where}: {key} port {port!r} is not a container port")
    return problems


def _pods(env: Env) -> list[tuple[Obj, netpol.Endpoint]]:
    pods = []
    for obj in env.workloads:
        template = obj.doc["spec"]["template"]
        ports = {
            p["name"]: p["containerPort"]
            for c in containers(obj)
            for p in c.get("ports") or []
            if "name" in p
        }
        pods.append((obj, netpol.Endpoint(env.namespace, template["metadata"].get("labels") or {}, ports)))
    return pods


def check_wiring(env: Env) -> list[str]:
    """Services, PDBs, autoscalers and scale targets point at things that exist."""
    problems = []
    pods = _pods(env)
    for svc in env.of_kind("Service"):
        spec = svc.doc["spec"]
        if spec.get("type") == "ExternalName":
            continue
        chosen = [
            (o, e) for o, e in pods if netpol.selects({"matchLabels": spec.get("selector") or {}}, e.labels)
        ]
        if not spec.get("selector") or not chosen:
            problems.append(f"{svc.where()}: selector {spec.get('selector')} matches no pod template")
            continue
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port["port"])
            for obj, endpoint in chosen:
                numbers = set(endpoint.ports.values())
                if (isinstance(target, str) and target not in endpoint.ports) or (
                    isinstance(target, int) and target not in numbers
                ):
                    problems.append(f"{svc.where()}: targetPort {target!r} is not a port of {obj.label()}")
        if svc.name in NODE_PORTS and [p.get("nodePort") for p in spec.get("ports", [])] != [
            NODE_PORTS[svc.name]
        ]:
            problems.append(
                f"{svc.where()}: nodePort must be {NODE_PORTS[svc.name]} (the load balancer's target)"
            )
    for pdb in env.of_kind("PodDisruptionBudget"):
        if not any(netpol.selects(pdb.doc["spec"].get("selector"), e.labels) for _, e in pods):
            problems.append(f"{pdb.where()}: selector matches no pod template")
    names = {(o.kind, o.name) for o in env.objects}
    for hpa in env.of_kind("HorizontalPodAutoscaler") + env.of_kind("ScaledObject"):
        ref = hpa.doc["spec"]["scaleTargetRef"]
        if (ref.get("kind", "Deployment"), ref["name"]) not in names:
            problems.append(
                f"{hpa.where()}: scales {ref.get('kind', 'Deployment')}/{ref['name']}, which does not exist"
            )
    for so in env.of_kind("ScaledObject"):
        for trigger in so.doc["spec"].get("triggers") or []:
            auth = (trigger.get("authenticationRef") or {}).get("name")
            if auth and ("TriggerAuthentication", auth) not in names:
                problems.append(f"{so.where()}: authenticationRef {auth} does not exist")
            queue = trigger.get("metadata", {}).get("queueName")
            worker = env.config_maps.get(so.doc["spec"]["scaleTargetRef"]["name"])
            wanted = (worker.doc.get("data") or {}).get("BILLING_QUEUE", "billing_queue") if worker else None
            if trigger["type"] == "rabbitmq" and queue != wanted:
                problems.append(f"{so.where()}: scales on queue {queue!r} but the worker consumes {wanted!r}")
    for ta in env.of_kind("TriggerAuthentication"):
        for ref in ta.doc["spec"].get("secretTargetRef") or []:
            if ref["key"] not in env.secrets.get(ref["name"], {}):
                problems.append(
                    f"{ta.where()}: {ref['name']}/{ref['key']} is not produced by any ExternalSecret"
                )
    for obj in env.objects:
        if obj.namespace and obj.namespace != env.namespace:
            problems.append(f"{obj.where()}: namespace {obj.namespace}, expected {env.namespace}")
    return problems


def check_rabbitmq(root: Path, env: Env) -> list[str]:
    """The broker's boot definitions declare exactly the code's topology on the AMQP_URL's vhost."""
    es = next((o for o in env.of_kind("ExternalSecret") if esotemplate.secret_name(o) == "rabbitmq"), None)
    if es is None:
        return [f"{env.namespace}: no ExternalSecret makes the `rabbitmq` Secret (definitions.json)"]
    try:
        definitions = json.loads(env.secrets["rabbitmq"]["definitions.json"])
    except (KeyError, ValueError) as exc:
        return [f"{es.where()}: definitions.json does not render to JSON: {exc}"]
    load_settings(root, "billing.config:API_SETTINGS")
    topology = importlib.import_module("billing.topology")
    queue = (
        (env.config_maps.get("billing").doc.get("data") or {}).get("BILLING_QUEUE", "billing_queue")
        if "billing" in env.config_maps
        else "billing_queue"
    )
    amqp = env.secrets.get("billing-amqp", {}).get("AMQP_URL", "")
    vhost = urlsplit(amqp).path.lstrip("/")
    want = {
        (name, json.dumps(args, sort_keys=True)) for name, args in topology.Topology(queue).declarations()
    }
    have = {
        (q["name"], json.dumps(q.get("arguments") or {}, sort_keys=True))
        for q in definitions.get("queues", [])
    }
    problems = []
    if want != have:
        problems.append(f"{es.where()}: queues {sorted(have)} differ from billing.topology's {sorted(want)}")
    if any(q.get("vhost") != vhost or not q.get("durable") for q in definitions.get("queues", [])):
        problems.append(f"{es.where()}: every queue must be durable and on vhost {vhost!r} (AMQP_URL's)")
    if [v["name"] for v in definitions.get("vhosts", [])] != [vhost]:
        problems.append(f"{es.where()}: vhosts {definitions.get('vhosts')} but AMQP_URL uses {vhost!r}")
    return problems


def _calls(
    env: Env, pods: list[tuple[Obj, netpol.Endpoint]]
) -> list[tuple[str, netpol.Endpoint, netpol.Endpoint, int, str]]:
    """(description, source, destination, port, protocol) for every connection the code makes."""
    services = {s.name: s for s in env.of_kind("Service")}
    external = netpol.Endpoint(None)
    calls = []

    def resolve(host: str, port: int) -> list[tuple[netpol.Endpoint, int]]:
        # A Service of this namespace by its short or fully qualified name.
        for suffix in (f".{env.namespace}.svc.cluster.local", f".{env.namespace}.svc", f".{env.namespace}"):
            host = host.removesuffix(suffix)
        svc = services.get(host)
        if svc is None or svc.doc["spec"].get("type") == "ExternalName":
            return [(external, port)]
        out = []
        for item in svc.doc["spec"].get("ports") or []:
            if item["port"] == port:
                for _, endpoint in pods:
                    if netpol.selects(
                        {"matchLabels": svc.doc["spec"].get("selector") or {}}, endpoint.labels
                    ):
                        target = item.get("targetPort", port)
                        number = endpoint.ports.get(target) if isinstance(target, str) else target
                        if number is not None:  # an unknown port name is reported by check_wiring
                            out.append((endpoint, number))
        return out

    for obj, endpoint in pods:
        calls.append((f"{obj.label()} → DNS", endpoint, DNS, 53, "UDP"))
        for container in containers(obj):
            container_env, _ = env.container_env(obj, container)
            for var in (
                "INVENTORY_URL",
                "BILLING_URL",
                "DATABASE_URL",
                "ADMIN_DATABASE_URL",
                "APP_DATABASE_URL",
                "AMQP_URL",
            ):
                if var not in container_env:
                    continue
                url = urlsplit(container_env[var])
                default = {
                    "http": 80,
                    "https": 443,
                    "postgresql": 5432,
                    "postgres": 5432,
                    "amqp": 5672,
                    "amqps": 5671,
                }
                port = url.port or default.get(url.scheme, 0)
                targets = resolve(url.hostname or "", port)
                if not targets:
                    calls.append(
                        (
                            f"{obj.label()} → {url.hostname}:{port} ({var}): no such Service port",
                            endpoint,
                            external,
                            -1,
                            "TCP",
                        )
                    )
                for dst, dst_port in targets:
                    calls.append(
                        (f"{obj.label()} → {url.hostname}:{port} ({var})", endpoint, dst, dst_port, "TCP")
                    )
    for svc in env.of_kind("Service"):
        if svc.doc["spec"].get("type") == "NodePort":
            for item in svc.doc["spec"]["ports"]:
                for dst, dst_port in resolve(svc.name, item["port"]):
                    calls.append(
                        (
                            f"load balancer → NodePort {item.get('nodePort')} ({svc.name})",
                            external,
                            dst,
                            dst_port,
                            "TCP",
                        )
                    )
    for so in env.of_kind("ScaledObject"):
        for trigger in so.doc["spec"].get("triggers") or []:
            if trigger["type"] == "rabbitmq":
                for dst, dst_port in resolve("rabbitmq", 5672):
                    calls.append(
                        (f"KEDA operator → rabbitmq:5672 ({so.label()})", KEDA_OPERATOR, dst, dst_port, "TCP")
                    )
    return calls


def check_network(env: Env) -> list[str]:
    """Every call the code makes (and the load balancer's, and KEDA's) passes the NetworkPolicies."""
    pods = _pods(env)
    problems = []
    for description, src, dst, port, protocol in _calls(env, pods):
        if port < 0:
            problems.append(f"{env.namespace}: {description}")
            continue
        ok, side = netpol.allowed(env.policies, src, dst, port, protocol)
        if not ok:
            problems.append(
                f"{env.namespace}: NetworkPolicy refuses {description} on port {port}/{protocol} ({side})"
            )
    return problems


def check(root: Path, env_name: str, objects: list[Obj]) -> list[str]:
    env = Env(env_name, objects)
    problems = list(env.problems)
    problems += check_workloads(root, env)
    problems += check_wiring(env)
    problems += check_rabbitmq(root, env)
    problems += check_network(env)
    return problems


def check_argocd(objects: list[Obj]) -> list[str]:
    """The load balancer's /argocd* rule reaches the UI: NodePort 30080, served under /argocd."""
    server = next((o for o in objects if o.kind == "Service" and o.name == "argocd-server"), None)
    params = next((o for o in objects if o.kind == "ConfigMap" and o.name == "argocd-cmd-params-cm"), None)
    if server is None or params is None:
        return ["argocd: the install renders no argocd-server Service or argocd-cmd-params-cm"]
    problems = []
    node_ports = [p.get("nodePort") for p in server.doc["spec"].get("ports", []) if p.get("name") == "http"]
    if server.doc["spec"].get("type") != "NodePort" or node_ports != [ARGOCD_NODE_PORT]:
        problems.append(
            f"{server.where()}: the http port must be NodePort {ARGOCD_NODE_PORT} (the ALB's target)"
        )
    if (params.doc.get("data") or {}).get("server.rootpath") != "/argocd":
        problems.append(
            f"{params.where()}: server.rootpath must be /argocd (the load balancer forwards /argocd*)"
        )
    return problems
