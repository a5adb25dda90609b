"""GitLab CI → AWS (modules/ci_oidc): trust conditions, no "*" on "*", push scoped to the repos.

The policies are read with python-hcl2; the sub claims are resolved from the module's locals and
the env roots' values (tfvars, then variable defaults), the way Terraform would interpolate them.
"""

from __future__ import annotations

import re

import pytest
import yaml
from terraform_hcl import (
    ENVS,
    ROOT,
    TERRAFORM,
    data_sources,
    labelled,
    load_dir,
    load_file,
    module_dir,
    resources,
    tfvars,
)

MODULE = module_dir("ci_oidc")
COMMON = TERRAFORM / "envs" / "common"
DOCUMENTS = data_sources(MODULE, "aws_iam_policy_document")
ROLES = ("plan", "push")
# Statements allowed to name "*" as a resource, and why (the actions have no resource-level permissions).
STAR_RESOURCE_STATEMENTS = {
    "EcrAuthToken",
    "DescribeWithoutResourceScope",
    "IamFindOidcProvider",
    "GeneratePasswords",
}
WRITE_VERBS = re.compile(
    r":(Put|Create|Delete|Update|Upload|InitiateLayer|CompleteLayer|Attach|Detach|Tag|Untag|Modify|Set|"
    r"Encrypt|GenerateDataKey|Pass|Run|Start|Stop|Terminate|Restore|Reboot|Register|Deregister|Replace|Associate)"
)


def module_locals() -> dict:
    merged: dict = {}
    for block in load_dir(MODULE).get("locals", []):
        merged.update(block)
    return merged


def statements(document: str) -> list[dict]:
    body = DOCUMENTS[document]
    found = list(body.get("statement", []))
    for dynamic in body.get("dynamic", []):
        found.extend(dynamic["statement"]["content"])
    return found


def env_value(env: str, name: str):
    """A variable of the env root as Terraform sees it: tfvars first, then the declared default."""
    values = tfvars(env)
    return values[name] if name in values else labelled(COMMON, "variable")[name]["default"]


def module_call() -> dict:
    return labelled(COMMON, "module")["ci_oidc"]


def module_inputs(env: str) -> dict:
    """The module's variables for one env: the root's `var.x` arguments resolved, else the module default."""
    defaults = {name: body.get("default") for name, body in labelled(MODULE, "variable").items()}
    resolved = dict(defaults)
    for name, expression in module_call().items():
        match = re.fullmatch(r"\$\{var\.(\w+)\}", str(expression))
        if match:
            resolved[name] = env_value(env, match.group(1))
    return resolved


def subjects(env: str) -> dict[str, list[str]]:
    """The sub claims each role trusts, interpolated like Terraform would."""
    local = module_locals()
    inputs = module_inputs(env)
    assert local["sub_prefix"] == "project_path:${var.project_path}:ref_type:branch:ref:"
    assert local["plan_subjects"] == '${[for branch in var.plan_branches : "${local.sub_prefix}${branch}"]}'
    assert local["push_subject"] == "${local.sub_prefix}${var.deploy_branch}"
    prefix = f"project_path:{inputs['project_path']}:ref_type:branch:ref:"
    return {
        "plan": [prefix + branch for branch in inputs["plan_branches"]],
        "push": [prefix + inputs["deploy_branch"]],
    }


def condition(statement: dict, test: str, key: str) -> list:
    conditions = statement.get("condition", [])
    matches = [c["values"] for c in conditions if c["test"] == test and c["variable"] == key]
    assert len(matches) == 1, f"{statement.get('sid')}: expected one {test} on {key}, found {len(matches)}"
    return matches[0]


# --- the OIDC provider ----------------------------------------------------------------------------
def test_provider_is_the_gitlab_issuer_with_the_pipeline_audience():
    provider = data_sources(MODULE, "aws_iam_openid_connect_provider")["gitlab"]
    resource = resources(MODULE, "aws_iam_openid_connect_provider")["gitlab"]
    assert resource["url"] == provider["url"] == "${var.gitlab_url}"
    assert resource["client_id_list"] == ["${var.audience}"]
    # Exactly one of the two exists: created here or looked up.
    assert resource["count"] == "${var.create_oidc_provider ? 1 : 0}"
    assert provider["count"] == "${var.create_oidc_provider ? 0 : 1}"
    assert module_locals()["issuer_host"] == '${trimprefix(var.gitlab_url, "https://")}'
    assert labelled(MODULE, "variable")["gitlab_url"]["default"] == "https://gitlab.com"


def test_audience_is_the_one_the_pipeline_requests():
    pipeline = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())
    requested = pipeline[".aws_oidc"]["id_tokens"]["AWS_ID_TOKEN"]["aud"]
    assert labelled(MODULE, "variable")["audience"]["default"] == requested == "sts.amazonaws.com"


def test_one_provider_per_account_dev_creates_prod_looks_up():
    assert tfvars("dev")["create_oidc_provider"] is True
    assert tfvars("prod")["create_oidc_provider"] is False
    assert module_call()["create_oidc_provider"] == "${var.create_oidc_provider}"


# --- trust ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_trust_pins_audience_and_subject_to_the_provider(role: str):
    (statement,) = statements("trust")
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement.get("effect", "Allow") == "Allow"
    assert statement["principals"] == [{"type": "Federated", "identifiers": ["${local.provider_arn}"]}]
    assert condition(statement, "StringEquals", "${local.issuer_host}:aud") == ["${var.audience}"]
    assert condition(statement, "${each.value.test}", "${local.issuer_host}:sub") == "${each.value.subjects}"
    # What each.value is per role: push matches exactly one subject, plan matches patterns.
    (trust,) = [block["trust"] for block in load_dir(MODULE)["locals"] if "trust" in block]
    expected = {
        "plan": {"test": "StringLike", "subjects": "${local.plan_subjects}"},
        "push": {"test": "StringEquals", "subjects": ["${local.push_subject}"]},
    }
    assert trust[role] == expected[role]
    assert data_sources(MODULE, "aws_iam_policy_document")["trust"]["for_each"] == "${local.trust}"
    role_resource = resources(MODULE, "aws_iam_role")[role]
    assert role_resource["assume_role_policy"] == f'${{data.aws_iam_policy_document.trust["{role}"].json}}'


@pytest.mark.parametrize("env", ENVS)
def test_push_role_trusts_only_main_of_this_project(env: str):
    assert subjects(env)["push"] == ["project_path:cloud-design/cloud-design:ref_type:branch:ref:main"]


@pytest.mark.parametrize("env", ENVS)
def test_plan_role_trusts_any_branch_of_this_project_only(env: str):
    """Merge-request pipelines run on their source branch, so the plan role accepts every branch,
    but only of this project: the project part never holds a wildcard."""
    assert subjects(env)["plan"] == ["project_path:cloud-design/cloud-design:ref_type:branch:ref:*"]
    for subject in subjects(env)["plan"] + subjects(env)["push"]:
        project = subject.split(":ref_type:")[0]
        assert "*" not in project and "?" not in project


def test_project_path_validation_refuses_wildcards_and_bare_groups():
    validation = labelled(MODULE, "variable")["project_path"]["validation"][0]
    pattern = re.search(r'regex\("(.+)", var\.project_path\)', validation["condition"]).group(1)
    pattern = pattern.encode().decode("unicode_escape")
    for good in ("cloud-design/cloud-design", "group/sub.group/project_1"):
        assert re.search(pattern, good), good
    for bad in ("cloud-design", "cloud-design/*", "*/x", "group/proj:ref_type:branch", ""):
        assert not re.search(pattern, bad), bad


def test_deploy_branch_validation_refuses_patterns():
    validation = labelled(MODULE, "variable")["deploy_branch"]["validation"][0]
    assert 'regex("[*?]", var.deploy_branch)' in validation["condition"]


def test_role_names_match_the_ci_variables_in_the_docs():
    roles = resources(MODULE, "aws_iam_role")
    assert roles["plan"]["name"] == "${var.name}-ci-plan"
    assert roles["push"]["name"] == "${var.name}-ci-push"
    assert module_call()["name"] == "${local.name}"
    docs = (ROOT / "docs" / "delivery.md").read_text()
    for variable, role in (
        ("AWS_ROLE_ARN_DEV", "cloud-design-dev-ci-push"),
        ("AWS_ROLE_ARN_PROD", "cloud-design-prod-ci-push"),
        ("AWS_PLAN_ROLE_ARN_DEV", "cloud-design-dev-ci-plan"),
        ("AWS_PLAN_ROLE_ARN_PROD", "cloud-design-prod-ci-plan"),
    ):
        mapped = re.search(rf"`{variable}`[^\n]*`{role}`", docs)
        assert mapped, f"docs/delivery.md should map {variable} to {role}"


# --- permissions ----------------------------------------------------------------------------------
PERMISSION_DOCUMENTS = ("plan", "push")


@pytest.mark.parametrize("document", PERMISSION_DOCUMENTS)
def test_no_wildcard_actions_and_star_resources_only_where_unscopable(document: str):
    for statement in statements(document):
        assert statement.get("effect", "Allow") == "Allow"
        for action in statement["actions"]:
            assert "*" not in action, f"{statement['sid']}: wildcard action {action}"
        if statement["resources"] == ["*"]:
            assert statement["sid"] in STAR_RESOURCE_STATEMENTS, f"{statement['sid']} names * as its resource"
            assert not any(WRITE_VERBS.search(action) for action in statement["actions"]), statement["sid"]


def test_star_resource_describes_are_held_to_the_region():
    (describe,) = [s for s in statements("plan") if s["sid"] == "DescribeWithoutResourceScope"]
    assert condition(describe, "StringEquals", "aws:RequestedRegion") == ["${local.region}"]
    assert all(re.search(r":(Describe|List|Get)", action) for action in describe["actions"])


def test_plan_role_is_read_only():
    for statement in statements("plan"):
        writes = [action for action in statement["actions"] if WRITE_VERBS.search(action)]
        assert not writes, f"{statement['sid']} writes: {writes}"


def test_plan_role_reads_only_its_own_state_object():
    object_reads = [s for s in statements("plan") if "s3:GetObject" in s["actions"]]
    assert [s["resources"] for s in object_reads] == [["${local.state_bucket_arn}/${var.state_key}"]]
    assert module_call()["state_key"] == "envs/${var.environment}/terraform.tfstate"
    for env in ENVS:
        backend = load_file(TERRAFORM / "envs" / env / "backend.hcl")
        assert backend["key"] == f"envs/{env}/terraform.tfstate"
    # The other buckets: configuration only, never objects.
    (buckets,) = [s for s in statements("plan") if s["sid"] == "BucketsConfiguration"]
    assert buckets["resources"] == "${var.bucket_arns}"
    assert "s3:GetObject" not in buckets["actions"]


def test_plan_role_reads_only_this_environments_private_zone():
    """Route 53 calls are global (us-east-1), so the zone's ARN, not a region condition, holds them."""
    (zone,) = [s for s in statements("plan") if any(a.startswith("route53:") for a in s["actions"])]
    assert (
        zone["resources"]
        == '${[for id in var.hosted_zone_ids : "arn:${local.partition}:route53:::hostedzone/${id}"]}'
    )
    assert module_call()["hosted_zone_ids"] == ["${module.dns.zone_id}"]
    (describe,) = [s for s in statements("plan") if s["sid"] == "DescribeWithoutResourceScope"]
    assert not [a for a in describe["actions"] if a.startswith("route53:")]


def test_push_role_writes_only_this_environments_repositories():
    writes = {"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"}
    writers = [s for s in statements("push") if writes & set(s["actions"])]
    assert [s["sid"] for s in writers] == ["EcrPushThisEnvironment"]
    assert writers[0]["resources"] == "${var.push_repository_arns}"
    assert writes <= set(writers[0]["actions"])
    # ... which the env root fills with its own registry's repositories, image and layer cache.
    assert module_call()["push_repository_arns"] == (
        "${concat(values(module.registry.repository_arns), values(module.registry.cache_repository_arns))}"
    )
    assert labelled(COMMON, "module")["registry"]["name_prefix"] == "cloud-design/${var.environment}"


def test_push_role_pulls_from_dev_only_in_prod():
    (pull,) = [s for s in statements("push") if s["sid"] == "EcrPullPromotionSource"]
    assert pull["resources"] == "${local.promotion_source_arns}"
    assert not WRITE_VERBS.search(" ".join(pull["actions"]))
    sources = str(module_call()["promotion_source_repositories"])
    assert "cloud-design/${var.promote_images_from}/${image}" in sources
    assert env_value("dev", "promote_images_from") is None
    assert env_value("prod", "promote_images_from") == "dev"


def test_push_repository_validation_refuses_wildcards():
    validation = labelled(MODULE, "variable")["push_repository_arns"]["validation"][0]
    assert "length(var.push_repository_arns) > 0" in validation["condition"]
    assert 'regex("\\\\*", arn)' in validation["condition"]


def test_env_root_outputs_the_role_arns():
    outputs = labelled(COMMON, "output")
    assert outputs["ci_plan_role_arn"]["value"] == "${module.ci_oidc.plan_role_arn}"
    assert outputs["ci_push_role_arn"]["value"] == "${module.ci_oidc.push_role_arn}"


def test_module_has_a_readme_naming_every_variable():
    readme = (MODULE / "README.md").read_text()
    for name in labelled(MODULE, "variable"):
        assert f"`{name}`" in readme, f"README.md does not describe {name}"


def test_infrastructure_readme_lists_the_module():
    assert "| `ci_oidc` |" in (ROOT / "infrastructure" / "README.md").read_text()
