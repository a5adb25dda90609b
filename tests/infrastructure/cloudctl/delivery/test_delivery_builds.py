"""builds.py: what each build job builds, from contract.yaml (read by cloudctl.manifests.contract.spec):
the real one, and broken copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from cloudctl.delivery import builds
from cloudctl.errors import CloudctlError

ROOT = Path(__file__).resolve().parents[4]
HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def test_each_image_of_the_contract_is_built_once_from_its_source_folder():
    contract = yaml.safe_load((ROOT / "contract.yaml").read_text())["workloads"]
    expected = {w["image"]: w["source"].split("/", 1)[1] for w in contract.values()}
    found = builds.sources(ROOT)
    assert {s.image: s.folder for s in found} == expected
    assert len(found) < len(contract)  # billing and billing-worker share billing-app
    assert all((ROOT / s.dockerfile).is_file() for s in found)


def test_the_plan_names_the_destination_and_a_cache_repository_per_image():
    plan = {b.image: b for b in builds.plan(ROOT, HOST, "dev", "3f2a9c1", present=["inventory-app"])}
    billing = plan["billing-app"]
    assert billing.dockerfile == "services/billing/Dockerfile" and billing.context == "services"
    assert billing.destination == f"{HOST}/cloud-design/dev/billing-app:3f2a9c1"
    assert billing.cache == f"{HOST}/cloud-design/dev/billing-app/cache"
    assert [b.image for b in plan.values() if b.present] == ["inventory-app"]
    with pytest.raises(CloudctlError, match="image tag 'latest' is not allowed"):
        builds.plan(ROOT, HOST, "dev", "latest", present=[])


def contract_copy(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((ROOT / "contract.yaml").read_text())
    edit(data["workloads"])
    (tmp_path / "contract.yaml").write_text(yaml.safe_dump(data))
    for folder in ("api-gateway", "inventory", "billing"):
        (tmp_path / "services" / folder).mkdir(parents=True)
        shutil.copyfile(
            ROOT / "services" / folder / "Dockerfile", tmp_path / "services" / folder / "Dockerfile"
        )
    return tmp_path


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (
            lambda w: w["billing-worker"].update(source="services/inventory"),
            "billing-app is built from billing",
        ),
        (lambda w: w["api-gateway"].update(source="api-gateway"), "is not services/<folder>"),
        (lambda w: w["inventory"].pop("image"), "workloads.inventory.image is missing"),  # contract.spec's
        (lambda w: w["inventory"].update(source="services/nowhere"), "no services/nowhere/Dockerfile"),
    ],
)
def test_a_contract_the_builds_cannot_follow_is_one_line(tmp_path, edit, error):
    with pytest.raises(CloudctlError, match=error):
        builds.sources(contract_copy(tmp_path, edit))


def test_the_plan_file_quotes_every_value_for_the_shell():
    build = builds.Build("x", "services", "services/x/Dockerfile", "h/r:t", "h/r/cache; rm -rf /", False)
    assert "CACHE='h/r/cache; rm -rf /'\n" in build.env_file()
