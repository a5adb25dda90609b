"""cloudctl cost: the real tfvars of each env against the pinned price table (hand-checked figures)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cloudctl.bootstrap import cost
from cloudctl.bootstrap.layout import Layout
from cloudctl.bootstrap.tfvars import load_tfvars
from cloudctl.errors import CloudctlError
from cloudctl_fakes import REAL_ROOT

TABLE = cost.load_price_table(cost.DEFAULT_PRICE_TABLE)


def tfvars(env: str) -> dict:
    return load_tfvars(Layout(REAL_ROOT, env).tfvars, required=cost.TFVARS_USED)


DEFAULT_USAGE = cost.Usage()


def lines(env: str, usage: cost.Usage = DEFAULT_USAGE) -> dict[str, float]:
    result = cost.estimate(tfvars(env), TABLE, usage, cost.root_volume_gb(REAL_ROOT))
    return {line.item: line.monthly for line in result.lines}


def test_the_price_table_says_when_and_where_its_prices_are_from():
    assert TABLE["region"] == "eu-west-1"
    assert dt.date.fromisoformat(TABLE["taken_on"])
    assert "AWS public on-demand price pages" in TABLE["source"]
    for env in ("dev", "prod"):
        values = tfvars(env)
        assert values["master_instance_type"] in TABLE["ec2_linux_hourly"]
        assert values["db_instance_class"] in TABLE["rds_postgresql_single_az_hourly"]


def test_dev_compute_database_and_network_lines_by_hand():
    # envs/dev/terraform.tfvars fixes these sizes: t3.medium master, 2 x t3.small, db.t3.micro
    # single-AZ with 20 GB; the cluster module gives each node a 30 GB root volume.
    dev = lines("dev")

    assert dev["EC2 master"] == pytest.approx(0.0456 * 730)  # 33.29
    assert dev["EC2 workers"] == pytest.approx(2 * 0.0228 * 730)  # 33.29
    assert dev["EBS root volumes"] == pytest.approx(3 * 30 * 0.088)  # 7.92
    assert dev["RDS PostgreSQL"] == pytest.approx(0.019 * 730)  # 13.87
    assert dev["RDS storage"] == pytest.approx(20 * 0.127)  # 2.54
    assert dev["ALB"] == pytest.approx((0.0252 + 0.5 * 0.008) * 730)  # 21.32
    assert dev["Public IPv4"] == pytest.approx(5 * 0.005 * 730)  # 18.25: 3 nodes + 2 ALB addresses
    assert dev["Data transfer out"] == 0  # 20 GB is inside the 100 GB free allowance


def test_prod_pays_twice_for_the_multi_az_database():
    dev, prod = lines("dev"), lines("prod")

    assert (tfvars("dev")["db_multi_az"], tfvars("prod")["db_multi_az"]) == (False, True)
    assert prod["RDS PostgreSQL"] == pytest.approx(2 * dev["RDS PostgreSQL"])
    assert prod["RDS storage"] == pytest.approx(2 * dev["RDS storage"])
    assert prod["EC2 master"] == dev["EC2 master"]


def test_totals_stay_in_their_band():
    dev = sum(lines("dev").values())
    prod = sum(lines("prod").values())

    # Far above the first README's dev $0-10 (no free tier here; 3 nodes, an ALB and 5 public IPv4
    # run all month); prod is near the top of its $100-150.
    assert 130 < dev < 150
    assert 145 < prod < 170
    assert prod - dev == pytest.approx(
        lines("prod")["RDS PostgreSQL"]
        - lines("dev")["RDS PostgreSQL"]
        + lines("prod")["RDS storage"]
        - lines("dev")["RDS storage"]
        + lines("prod")["CloudWatch logs"]
        - lines("dev")["CloudWatch logs"]
        + lines("prod")["ECR storage"]
        - lines("dev")["ECR storage"]
    )


def test_egress_beyond_the_free_allowance_is_charged():
    assert lines("dev", cost.Usage(egress_gb=150))["Data transfer out"] == pytest.approx(50 * 0.09)


def test_the_cli_prints_the_table_date_region_and_total(run):
    result = run("cost", "--env", "prod")

    assert result.code == 0, result.err
    assert result.out.startswith(
        "cloudctl cost --env prod: monthly estimate from "
        "infrastructure/terraform/envs/prod/terraform.tfvars\n"
        f"prices: eu-west-1 on-demand, USD, as known on {TABLE['taken_on']} "
        "(AWS public price pages; no free tier)"
    )
    total = sum(lines("prod").values())
    assert "total" in result.out and f"~ ${round(total)} a month" in result.out
    assert "RDS PostgreSQL" in result.out and "db.t3.micro Multi-AZ" in result.out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"master_instance_type": "m7i.48xlarge"}, "no price for master_instance_type = 'm7i.48xlarge'"),
        ({"region": "us-east-1"}, "the tfvars deploy to us-east-1, the price table is for eu-west-1"),
        ({"worker_count": -1}, "worker_count = -1 in the tfvars is not a non-negative whole number"),
        ({"db_multi_az": "yes"}, "db_multi_az = 'yes' in the tfvars is not true or false"),
    ],
)
def test_tfvars_the_table_cannot_price_are_one_clear_error(change, message):
    with pytest.raises(CloudctlError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        cost.estimate({**tfvars("dev"), **change}, TABLE, cost.Usage(), 30)


def test_a_price_table_missing_a_price_is_refused(tmp_path):
    broken = {k: v for k, v in TABLE.items() if k != "alb_hourly"}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(broken))

    with pytest.raises(CloudctlError, match="lacks alb_hourly$"):
        cost.load_price_table(path)


def test_cost_of_a_checkout_without_tfvars_is_one_line(run, tmp_path):
    result = run("cost", "--env", "dev", "--repo-root", str(tmp_path))

    assert result.code == 1
    assert result.err.startswith("cloudctl cost: error: cannot read ") and result.err.count("\n") == 1
