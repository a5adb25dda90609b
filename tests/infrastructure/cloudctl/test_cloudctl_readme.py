"""infrastructure/cloudctl/README.md: its cost table is what `cloudctl cost` prints today, its step
table and first-`curl` walk-through match the CLI."""

from __future__ import annotations

import re

from cloudctl.bootstrap import commands, cost, workflows
from cloudctl.bootstrap.layout import Layout
from cloudctl.bootstrap.steps import step_names
from cloudctl.bootstrap.tfvars import load_tfvars
from cloudctl_fakes import REAL_ROOT

README = REAL_ROOT / "infrastructure/cloudctl/README.md"


def readme_rows() -> dict[str, tuple[str, str]]:
    text = README.read_text()
    table = re.search(r"<!-- cost-table.*?-->\n(.*?)<!-- /cost-table -->", text, re.S).group(1)
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    return {item.strip(): (dev.strip(), prod.strip()) for item, dev, prod in rows}


def printed(env: str) -> dict[str, str]:
    tfvars = load_tfvars(Layout(REAL_ROOT, env).tfvars, required=cost.TFVARS_USED)
    table = cost.load_price_table(cost.DEFAULT_PRICE_TABLE)
    result = cost.estimate(tfvars, table, cost.Usage(), cost.root_volume_gb(REAL_ROOT))
    return {**{line.item: f"{line.monthly:.2f}" for line in result.lines}, "total": f"{result.total:.2f}"}


def test_the_readme_cost_table_matches_the_estimate():
    dev, prod = printed("dev"), printed("prod")

    assert readme_rows() == {item: (dev[item], prod[item]) for item in dev}


def test_the_readme_names_the_price_tables_date():
    table = cost.load_price_table(cost.DEFAULT_PRICE_TABLE)

    assert f"as known on {table['taken_on']}" in README.read_text()


def test_the_readme_lists_every_step_of_up_in_order():
    """The step table of `cloudctl up` is the newcomer's map of what it waits for: keep it whole."""
    text = README.read_text()
    table = text[text.index("### `cloudctl up --env dev|prod`") :]
    listed = re.findall(r"^\| `([a-z-]+)` \|", table, re.M)

    assert listed[: len(workflows.UP)] == step_names(workflows.UP)


def test_the_readme_walks_from_up_to_the_first_curl_with_the_inputs_the_cli_requires():
    text = README.read_text()
    command = re.search(r"^cloudctl up --env dev (.*)$", text, re.M).group(1)

    assert set(re.findall(r"--[a-z-]+", command)) == {
        "--" + name.replace("_", "-") for name in commands.REQUIRED_INPUTS["up"]
    }
    assert "curl -s http://<alb_dns_name>/api/movies" in text
