"""The cost table in infrastructure/cloudctl/README.md is what `cloudctl cost` prints today."""

from __future__ import annotations

import re

from cloudctl.bootstrap import cost
from cloudctl.bootstrap.layout import Layout
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
