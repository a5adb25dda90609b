"""network: a 10.0.0.0/16 VPC over two named AZs, public and private subnets, an IGW and no NAT."""

from __future__ import annotations

from terraform_hcl import (
    MODULE_DIRS,
    ROOT_DIRS,
    data_sources,
    load_dir,
    module_dir,
    resources,
    variable_default,
)

NETWORK = module_dir("network")


def test_cidrs():
    assert variable_default("network", "vpc_cidr") == "10.0.0.0/16"
    assert variable_default("network", "public_subnet_cidrs") == ["10.0.0.0/24", "10.0.1.0/24"]
    assert variable_default("network", "private_subnet_cidrs") == ["10.0.10.0/24", "10.0.11.0/24"]


def test_two_named_availability_zones():
    assert variable_default("network", "availability_zone_suffixes") == ["a", "b"]
    zones = data_sources(NETWORK, "aws_availability_zones")["selected"]
    assert zones["filter"][0]["name"] == "zone-name"


def test_internet_gateway_routes_only_the_public_subnets():
    assert "this" in resources(NETWORK, "aws_internet_gateway")
    route = resources(NETWORK, "aws_route")["public_internet"]
    assert route["destination_cidr_block"] == "0.0.0.0/0"
    assert route["route_table_id"] == "${aws_route_table.public.id}"
    assert "route" not in resources(NETWORK, "aws_route_table")["private"]


def test_no_nat_gateway_anywhere():
    for directory in (*ROOT_DIRS, *MODULE_DIRS):
        for block in load_dir(directory).get("resource", []):
            assert "aws_nat_gateway" not in block


def test_vpc_resolves_private_zones_and_rds_names():
    """The private zone cloud-design.internal and the RDS address resolve only with both on."""
    vpc = resources(NETWORK, "aws_vpc")["this"]
    assert vpc["enable_dns_support"] is True and vpc["enable_dns_hostnames"] is True


def test_subnets_do_not_hand_out_public_addresses():
    for subnet in resources(NETWORK, "aws_subnet").values():
        assert subnet["map_public_ip_on_launch"] is False


def test_default_security_group_denies_everything_and_flow_logs_are_on():
    default = resources(NETWORK, "aws_default_security_group")["this"]
    assert "ingress" not in default and "egress" not in default
    flow = resources(NETWORK, "aws_flow_log")["this"]
    assert flow["traffic_type"] == "ALL" and flow["log_destination_type"] == "s3"
