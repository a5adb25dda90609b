"""Contract checks between the rendered environments, contract.yaml and the real code: the real
tree passes; contract.yaml itself is read strictly; the Argo CD rule reaches the UI. Each kind of
drift is caught, with the file and object named, in test_contract_<check>.py."""

from __future__ import annotations

import copy

import pytest
from cloudctl.errors import CloudctlError
from cloudctl.manifests import contract, render, tree
from cloudctl.manifests.contract import spec
from contract_helpers import contract_root
from manifest_helpers import ENVS, ROOT, find


@pytest.mark.parametrize("env", ENVS)
def test_the_real_environments_honour_the_contract(env, env_objects):
    assert contract.check(ROOT, env, env_objects(env)) == []


def test_the_contract_names_each_image_once_in_its_order():
    loaded = spec.load(ROOT)
    assert loaded.images == tuple(dict.fromkeys(w.image for w in loaded.workloads.values()))
    assert tree.ecr_repository_names(ROOT) == loaded.images


def test_a_contract_field_missing_is_one_line(tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["inventory"].pop("image"))
    with pytest.raises(
        CloudctlError, match=r"^contract.yaml: workloads.inventory.image is missing or not a string$"
    ):
        spec.load(root)


def test_a_route_without_a_node_port_is_refused(tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["billing"].update(node_port=None))
    with pytest.raises(CloudctlError, match="workloads.billing: a node_port needs a route"):
        spec.load(root)


def test_a_command_from_an_unknown_image_is_refused(tmp_path):
    root = contract_root(tmp_path, lambda d: d["commands"]["billing.migrate"].update(image="billing"))
    with pytest.raises(CloudctlError, match="commands.billing.migrate.image billing is no workload's image"):
        spec.load(root)


def test_no_contract_is_one_line(tmp_path):
    with pytest.raises(CloudctlError, match="contract.yaml: cannot read the contract"):
        spec.load(tmp_path)


@pytest.fixture(scope="module")
def argocd_objects(tmp_path_factory):
    return render.render_all(ROOT, tmp_path_factory.mktemp("argocd"), only=["clusters/prod/argocd"])[
        0
    ].objects


def test_the_argocd_install_honours_the_contract(argocd_objects):
    assert contract.check_argocd(argocd_objects) == []


def test_an_argocd_node_port_the_contract_moved_is_caught(argocd_objects, tmp_path):
    root = contract_root(tmp_path, lambda d: d["platform"]["argocd"].update(node_port=30081))
    assert [p.split(": ", 1)[1] for p in contract.check_argocd(argocd_objects, root)] == [
        "Service/argocd-server: the http port must be NodePort 30081 "
        "(contract.yaml: the load balancer's target)"
    ]


def test_an_argocd_rootpath_off_the_rule_is_caught(argocd_objects):
    argocd_objects = copy.deepcopy(argocd_objects)
    find(argocd_objects, "ConfigMap", "argocd-cmd-params-cm").doc["data"]["server.rootpath"] = "/cd"
    assert any(
        "server.rootpath must be /argocd (the load balancer forwards /argocd*)" in p
        for p in contract.check_argocd(argocd_objects)
    )
