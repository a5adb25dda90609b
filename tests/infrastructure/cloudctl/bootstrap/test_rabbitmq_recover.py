"""cloudctl rabbitmq-recover: rabbitmq-0's local-path volume was on a node that is gone.

STAND-INs: kubectl (standin_tool.py) answers with recorded `-o json` objects in the shapes K3s's
API server and local-path provisioner give them; terraform and SSM as in the other tests.
"""

from __future__ import annotations

import json

NAMESPACE = "movies-dev"
CLAIM = "data-rabbitmq-0"
VOLUME = "pvc-5c1f0e2a-9b7d-4a53-8f0e-2d1c6b7a9e10"
GONE_NODE = "ip-10-0-1-20.eu-west-1.compute.internal"
LIVE_NODES = ("ip-10-0-0-10.eu-west-1.compute.internal", "ip-10-0-1-31.eu-west-1.compute.internal")


def pod(uid: str, phase: str, ready: bool) -> dict:
    return {
        "kind": "Pod",
        "metadata": {"name": "rabbitmq-0", "namespace": NAMESPACE, "uid": uid},
        "spec": {
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": CLAIM}},
                {"name": "config", "configMap": {"name": "rabbitmq-config"}},
            ]
        },
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def answers(standins, nodes: tuple[str, ...]) -> None:
    pv = {
        "kind": "PersistentVolume",
        "metadata": {"name": VOLUME},
        "spec": {
            "storageClassName": "local-path",
            "hostPath": {"path": f"/var/lib/rancher/k3s/storage/{VOLUME}_{NAMESPACE}_{CLAIM}"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/hostname", "operator": "In", "values": [GONE_NODE]}
                            ]
                        }
                    ]
                }
            },
        },
    }
    rules = [
        ({"match": ["get", "pods", "--all-namespaces"]}, {"items": [pod("old-uid", "Pending", False)]}),
        ({"match": ["get", "pvc", CLAIM]}, {"kind": "PersistentVolumeClaim", "spec": {"volumeName": VOLUME}}),
        ({"match": ["get", "pv", VOLUME]}, pv),
        (
            {"match": ["get", "nodes", "-o", "json"]},
            {"items": [{"metadata": {"name": name}} for name in nodes]},
        ),
        ({"match": ["get", "pod", "rabbitmq-0"], "times": 1}, pod("new-uid", "Pending", False)),
        ({"match": ["get", "pod", "rabbitmq-0"]}, pod("new-uid", "Running", True)),
    ]
    for rule, answer in reversed(rules):
        standins.prepend("kubectl", {**rule, "stdout": json.dumps(answer)})
    # Right after the delete the StatefulSet has not recreated the pod yet.
    standins.prepend(
        "kubectl",
        {
            "match": ["get", "pod", "rabbitmq-0"],
            "times": 1,
            "exit": 1,
            "stderr": 'Error from server (NotFound): pods "rabbitmq-0" not found\n',
        },
    )


def recover(run, repo, tmp_path):
    return run(
        "rabbitmq-recover", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", str(tmp_path / "k")
    )


def kubectl_calls(standins) -> list[list[str]]:
    return [call["argv"][2:] for call in standins.calls() if call["tool"] == "kubectl"]


def test_recreates_the_volume_of_a_node_that_is_gone_and_waits_for_ready(
    run, repo, standins, ssm, clock, tmp_path
):
    answers(standins, LIVE_NODES)
    ssm.holds()

    result = recover(run, repo, tmp_path)

    assert result.code == 0, result.err
    deletes = [argv for argv in kubectl_calls(standins) if "delete" in argv]
    assert deletes == [
        ["-n", NAMESPACE, "delete", "pvc", CLAIM, "--ignore-not-found", "--wait=false"],
        ["delete", "pv", VOLUME, "--ignore-not-found", "--wait=false"],
        ["-n", NAMESPACE, "delete", "pod", "rabbitmq-0", "--ignore-not-found", "--wait=true"],
    ]
    polls = [argv for argv in kubectl_calls(standins) if argv[:4] == ["-n", NAMESPACE, "get", "pod"]]
    assert len(polls) == 3  # not found, Pending, Ready
    assert clock.sleeps == 2
    assert f"volume {VOLUME} was on node {GONE_NODE}, which is gone" in result.out
    assert "rabbitmq-0 is Ready on a new volume" in result.out
    assert not any(argv[0] in ("apply", "destroy") for argv in kubectl_calls(standins))


def test_refuses_while_the_volumes_node_still_exists(run, repo, standins, ssm, clock, tmp_path):
    answers(standins, (*LIVE_NODES, GONE_NODE))
    ssm.holds()

    result = recover(run, repo, tmp_path)

    assert result.code == 1
    assert result.err.startswith(
        f"cloudctl rabbitmq-recover: error: step rabbitmq-recover failed: rabbitmq-0's volume {VOLUME} is on "
        f"node {GONE_NODE}, which still exists: its data is intact, so nothing is deleted (drain or restart "
        "that node instead); "
    )
    assert result.err.count("\n") == 1
    assert not any("delete" in argv for argv in kubectl_calls(standins))


def test_without_a_cluster_there_is_nothing_to_recover(run, repo, standins, ssm, clock, tmp_path):
    ssm.not_yet()

    result = recover(run, repo, tmp_path)

    assert result.code == 1
    assert result.err.startswith(
        "cloudctl rabbitmq-recover: error: step rabbitmq-recover failed: no cluster to talk to (see above): "
        "nothing to recover; "
    )
    assert kubectl_calls(standins) == []


def test_a_pod_without_a_claim_is_one_line(run, repo, standins, ssm, clock, tmp_path):
    lonely = pod("uid", "Running", True)
    lonely["spec"]["volumes"] = []
    standins.prepend(
        "kubectl", {"match": ["get", "pods", "--all-namespaces"], "stdout": json.dumps({"items": [lonely]})}
    )
    ssm.holds()

    result = recover(run, repo, tmp_path)

    assert result.code == 1
    assert result.err.startswith(
        "cloudctl rabbitmq-recover: error: step rabbitmq-recover failed: pod rabbitmq-0 mounts no "
        "PersistentVolumeClaim; "
    )
