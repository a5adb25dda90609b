"""security groups and the load balancer: who may reach what, and which path goes where."""

from __future__ import annotations

import re

import pytest
from terraform_engine import Workspace
from terraform_hcl import (
    ADMIN_CIDR,
    CONTRACT_FILE,
    TERRAFORM,
    common_locals,
    contract_images,
    contract_routes,
    labelled,
    load_dir,
    module_dir,
    resources,
    variable_default,
)

SG = module_dir("security_groups")
LB = module_dir("load_balancer")


# --- routes (contract.yaml's, used by the ALB and the node security group) -----------------------
def test_the_env_roots_read_the_repositorys_contract():
    contract = common_locals()["contract"]
    assert contract == '${yamldecode(file("${path.module}/../../../../contract.yaml"))}'
    for env in ("dev", "prod"):  # path.module is envs/<env>, which links envs/common's files
        assert (TERRAFORM / "envs" / env / "../../../../contract.yaml").resolve() == CONTRACT_FILE
    calls = labelled(TERRAFORM / "envs" / "common", "module")
    assert calls["load_balancer"]["routes"] == "${local.routes}"
    assert calls["security_groups"]["node_ports"] == (
        "${{for name, route in local.routes : name => route.node_port}}"
    )
    assert calls["registry"]["repository_names"] == "${local.images}"


def test_the_contracts_routes_are_public_but_argocds():
    routes = contract_routes()
    # Only Argo CD (admin login, webhook) is admin-only; the application paths stay public.
    assert {name for name, route in routes.items() if route.get("admin_only")} == {"argocd"}
    priorities = [route["priority"] for route in routes.values()]
    assert len(set(priorities)) == len(priorities)


@pytest.fixture(scope="module")
def dev_root(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """envs/dev initialised with a local backend, so `terraform console` evaluates its locals."""
    workspace = Workspace.create(tmp_path_factory.mktemp("edge"), {"TF_VAR_admin_cidr": ADMIN_CIDR})
    (workspace.root("envs/dev") / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    workspace.init("envs/dev")
    return workspace


def test_terraform_routes_and_images_are_the_contracts(dev_root: Workspace):
    evaluated = dev_root.console("envs/dev", "{ routes = local.routes, images = local.images }")
    assert evaluated["routes"] == contract_routes()
    assert sorted(evaluated["images"]) == sorted(contract_images())


def test_terraform_follows_a_contract_change(dev_root: Workspace):
    contract = dev_root.tree.parent.parent / "contract.yaml"
    original = contract.read_text()
    contract.write_text(original.replace("node_port: 30001", "node_port: 30011"))
    try:
        routes = dev_root.console("envs/dev", "local.routes")
    finally:
        contract.write_text(original)
    # The real contract no longer matches what Terraform read: the equality above can fail.
    assert routes["inventory"]["node_port"] == 30011
    assert routes != contract_routes()


# --- security groups ------------------------------------------------------------------------------
def ingress():
    return resources(SG, "aws_vpc_security_group_ingress_rule")


def test_alb_open_on_80_and_443_only():
    rule = ingress()["alb_public"]
    assert rule["for_each"] == '${toset(["80", "443"])}'
    assert rule["cidr_ipv4"] == "0.0.0.0/0"
    assert rule["security_group_id"] == "${aws_security_group.alb.id}"


def test_only_the_alb_rule_is_open_to_the_internet():
    open_rules = [name for name, rule in ingress().items() if rule.get("cidr_ipv4") == "0.0.0.0/0"]
    assert open_rules == ["alb_public"]


def test_nodeports_from_the_alb_only():
    rule = ingress()["nodes_from_alb"]
    assert rule["for_each"] == "${var.node_ports}"
    assert rule["referenced_security_group_id"] == "${aws_security_group.alb.id}"
    assert "cidr_ipv4" not in rule


def test_api_from_admin_cidr_and_nodes():
    admin = ingress()["nodes_api_from_admin"]
    assert (admin["from_port"], admin["to_port"], admin["cidr_ipv4"]) == (6443, 6443, "${var.admin_cidr}")
    node_to_node = next(b["node_to_node"] for b in load_dir(SG)["locals"] if "node_to_node" in b)
    assert node_to_node == {
        "k3s-api": {"protocol": "tcp", "port": 6443},
        "flannel": {"protocol": "udp", "port": 8472},
        "kubelet": {"protocol": "tcp", "port": 10250},
    }
    assert ingress()["nodes_from_nodes"]["referenced_security_group_id"] == "${aws_security_group.nodes.id}"


def test_rds_from_nodes_only():
    rds_rules = {
        n: r for n, r in ingress().items() if r["security_group_id"] == "${aws_security_group.rds.id}"
    }
    assert list(rds_rules) == ["rds_from_nodes"]
    rule = rds_rules["rds_from_nodes"]
    assert (rule["from_port"], rule["to_port"]) == (5432, 5432)
    assert rule["referenced_security_group_id"] == "${aws_security_group.nodes.id}"


def test_no_ssh_and_no_all_protocol_rules():
    for kind in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        for name, rule in resources(SG, kind).items():
            assert rule["ip_protocol"] != "-1", name
            assert rule.get("from_port") != 22 and rule.get("to_port") != 22, name
    assert "aws_security_group_rule" not in str(load_dir(SG)["resource"])


# --- load balancer --------------------------------------------------------------------------------
def test_internet_facing_alb_in_public_subnets():
    alb = resources(LB, "aws_lb")["this"]
    assert alb["internal"] is False and alb["load_balancer_type"] == "application"
    assert alb["drop_invalid_header_fields"] is True
    call = labelled(TERRAFORM / "envs" / "common", "module")["load_balancer"]
    assert call["subnet_ids"] == "${module.network.public_subnet_ids}"
    assert call["target_instance_ids"] == "${module.cluster.node_instance_ids}"  # every node


def test_targets_keep_idle_connections_longer_than_the_alb():
    """The ALB may reuse an idle connection for idle_timeout seconds: a target that closes it
    sooner makes the ALB answer 502. gunicorn's keepalive (services/common) must outlast it."""
    alb = resources(LB, "aws_lb")["this"]
    source = (TERRAFORM.parents[1] / "services/common/gunicorn_base.py").read_text()
    keepalive = int(re.search(r"^KEEPALIVE_SECONDS = (\d+)", source, re.M).group(1))
    assert alb["idle_timeout"] == 60 < keepalive


def test_health_checks_every_30_seconds_on_each_route():
    assert variable_default("load_balancer", "health_check_interval_seconds") == 30
    check = resources(LB, "aws_lb_target_group")["this"]["health_check"][0]
    assert check["path"] == "${each.value.health_check_path}"
    assert check["interval"] == "${var.health_check_interval_seconds}"
    assert check["matcher"] == "200"


def test_http_always_https_with_a_certificate_and_redirect():
    listeners = resources(LB, "aws_lb_listener")
    assert (listeners["http"]["port"], listeners["http"]["protocol"]) == (80, "HTTP")
    assert listeners["http"]["default_action"][0]["type"] == '${local.https ? "redirect" : "fixed-response"}'
    https = listeners["https"]
    assert (https["port"], https["protocol"], https["count"]) == (443, "HTTPS", "${local.https ? 1 : 0}")
    assert variable_default("load_balancer", "ssl_policy").startswith("ELBSecurityPolicy-TLS13-1-2")
    rule = resources(LB, "aws_lb_listener_rule")["route"]
    assert rule["listener_arn"] == "${local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn}"


def test_admin_only_routes_match_the_admin_cidr_as_source():
    rule = resources(LB, "aws_lb_listener_rule")["route"]
    (source,) = rule["dynamic"]
    assert source["condition"]["for_each"] == "${each.value.admin_only ? [var.admin_cidr] : []}"
    assert source["condition"]["content"][0]["source_ip"][0]["values"] == ["${condition.value}"]
    assert (
        labelled(TERRAFORM / "envs" / "common", "module")["load_balancer"]["admin_cidr"]
        == "${var.admin_cidr}"
    )
    admin_only = labelled(LB, "variable")["routes"]["type"]
    assert "admin_only" in admin_only and "optional(bool, false)" in admin_only


def test_prod_alb_has_deletion_protection():
    assert resources(LB, "aws_lb")["this"]["enable_deletion_protection"] == "${var.deletion_protection}"
    call = labelled(TERRAFORM / "envs" / "common", "module")["load_balancer"]
    assert call["deletion_protection"] == "${var.deletion_protection}"
    assert call["certificate_arn"] == "${var.certificate_arn}"
