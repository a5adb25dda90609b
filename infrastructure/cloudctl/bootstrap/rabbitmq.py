"""`cloudctl rabbitmq-recover`: bring rabbitmq-0 back after the node holding its volume was replaced.

RabbitMQ's volume is K3s `local-path`: a directory on one node, and its PersistentVolume carries a
nodeAffinity for that node. When the node is gone (replaced by Terraform, terminated), the pod stays
Pending forever. The data is gone with the node; what matters comes back without it:

- queues, exchanges, users and their permissions: RabbitMQ loads definitions.json at boot
  (base/rabbitmq: `load_definitions`, the `rabbitmq` Secret);
- unconfirmed order messages: still rows of billing's outbox, which the relay publishes again;
- confirmed but not yet consumed messages are lost with the node; their orders stay `pending`
  and `python -m billing.redrive` queues them again (services/billing/README.md).

So: delete the PVC (and its PV) and the Pending pod; the StatefulSet recreates both on a live node.
Refused while the node still exists: then the volume is intact and deleting it would lose messages.
"""

from __future__ import annotations

import json
from typing import Any

from cloudctl.bootstrap.context import Context
from cloudctl.bootstrap.kube_steps import kubectl
from cloudctl.bootstrap.shell import Shell, StepError
from cloudctl.bootstrap.waits import wait_for
from cloudctl.errors import CloudctlError

POD = "rabbitmq-0"
SELECTOR = "app.kubernetes.io/name=rabbitmq"
HOSTNAME_KEY = "kubernetes.io/hostname"


def _get_json(ctx: Context, *args: str) -> dict[str, Any]:
    call = kubectl(ctx, *args, "-o", "json")
    code, out, err = ctx.shell.run_code(call, capture=True)
    if code != 0:
        raise StepError(Shell.failure(call, code, err))
    answer = json.loads(out)
    if not isinstance(answer, dict):
        raise StepError(f"{call.shown(ctx.layout)} answered no JSON object")
    return answer


def find_pod(ctx: Context) -> dict[str, Any]:
    pods: list[dict[str, Any]] = _get_json(ctx, "get", "pods", "--all-namespaces", "-l", SELECTOR)["items"]
    for pod in pods:
        if pod["metadata"]["name"] == POD:
            return pod
    raise CloudctlError(f"no pod {POD} (label {SELECTOR}) in the cluster: nothing to recover")


def claim_of(pod: dict[str, Any]) -> str:
    for volume in pod["spec"].get("volumes") or []:
        claim = volume.get("persistentVolumeClaim")
        if claim:
            name: str = claim["claimName"]
            return name
    raise CloudctlError(f"pod {POD} mounts no PersistentVolumeClaim")


def pinned_node(pv: dict[str, Any]) -> str:
    """The node a local-path PersistentVolume is bound to, from its nodeAffinity."""
    required = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for expression in term.get("matchExpressions") or []:
            if expression.get("key") == HOSTNAME_KEY and expression.get("values"):
                node: str = expression["values"][0]
                return node
    raise CloudctlError(f"volume {pv['metadata']['name']} is pinned to no node: not a local-path volume")


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def recover(ctx: Context) -> None:
    if ctx.dry_run:
        ctx.shell.show(
            f"kubectl get pods -A -l {SELECTOR}; get pvc, pv, nodes",
            note="refuse if the volume's node exists; else delete the PVC, PV and pod, wait for Ready",
        )
        return
    if not ctx.kubeconfig_ready:
        raise CloudctlError("no cluster to talk to (see above): nothing to recover")
    pod = find_pod(ctx)
    namespace, old_uid = pod["metadata"]["namespace"], pod["metadata"]["uid"]
    claim = claim_of(pod)
    pvc = _get_json(ctx, "-n", namespace, "get", "pvc", claim)
    volume = (pvc.get("spec") or {}).get("volumeName")
    if not volume:
        raise CloudctlError(f"PVC {namespace}/{claim} is bound to no volume yet: nothing to recover")
    node = pinned_node(_get_json(ctx, "get", "pv", volume))
    nodes = {item["metadata"]["name"] for item in _get_json(ctx, "get", "nodes")["items"]}
    if node in nodes:
        raise CloudctlError(
            f"{POD}'s volume {volume} is on node {node}, which still exists: its data is intact, "
            "so nothing is deleted (drain or restart that node instead)"
        )
    ctx.say(f"    {POD}'s volume {volume} was on node {node}, which is gone: recreating it on a live node")
    # --wait=false: the PVC's protection finalizer lets go only once the pod is deleted, next.
    ctx.shell.run(kubectl(ctx, "-n", namespace, "delete", "pvc", claim, "--ignore-not-found", "--wait=false"))
    ctx.shell.run(kubectl(ctx, "delete", "pv", volume, "--ignore-not-found", "--wait=false"))
    ctx.shell.run(kubectl(ctx, "-n", namespace, "delete", "pod", POD, "--ignore-not-found", "--wait=true"))
    call = kubectl(ctx, "-n", namespace, "get", "pod", POD, "-o", "json")
    ctx.shell.show(call.shown(ctx.layout), note="polled until a new pod is Ready")

    def new_pod_ready() -> bool | None:
        code, out, _ = call.execute(capture=True)
        if code != 0:
            ctx.say(f"    {POD} not recreated yet")
            return None
        current = json.loads(out)
        if current["metadata"]["uid"] != old_uid and _ready(current):
            return True
        ctx.say(f"    {POD}: {(current.get('status') or {}).get('phase', 'unknown')}")
        return None

    wait_for(f"{namespace}/{POD} to be Ready", new_pod_ready, ctx.waits)
    ctx.say(
        f"    {POD} is Ready on a new volume: queues and users came back from its definitions; "
        "orders whose messages were lost stay pending until `python -m billing.redrive` (services/billing)"
    )
