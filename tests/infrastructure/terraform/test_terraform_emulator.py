"""The state root and envs/dev applied by the real Terraform engine on an AWS emulator, and read back.

STAND-IN: moto on loopback plays AWS (tests/infrastructure/aws_emulator.py); the generated
`*_override.tf` files in moto_gaps.py point a temporary copy of the roots at it and work around
moto's gaps, each named there. Everything else is real: Terraform 1.15.5, hashicorp/aws 5.100.0,
every root and module as committed, the S3 backend with native locking on moto's S3.

The cycle, in the order these tests run: the state root is planned, applied and re-planned
(no changes); envs/dev is initialised against the S3 backend, planned, applied and re-planned (no
changes); what a deploy depends on is read back from the emulator with boto3; prod is planned
against the same account; nothing secret is in any state; then the state root comes down.
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aws_emulator
import moto_gaps
import pytest
import yaml
from cloudctl.delivery import builds as cloudctl_builds
from terraform_engine import ROOT, Result, Workspace
from terraform_hcl import ADMIN_CIDR, contract_images, contract_routes, contract_secrets

# The module's first test waits for the whole deploy (about three minutes, mostly the provider's
# own waits: S3 lifecycle consistency checks, RDS, the ALB), past the suite's default timeout.
pytestmark = pytest.mark.timeout(900)
ENV = "dev"
NAME = f"cloud-design-{ENV}"
ENV_ROOT = f"envs/{ENV}"
PLAN_NO_CHANGES, PLAN_CHANGES = 0, 2
ZONE = "cloud-design.internal"


@dataclass
class Cloud:
    emulator: aws_emulator.Emulator
    workspace: Workspace
    timings: dict[str, float] = field(default_factory=dict)
    replans: dict[str, Result] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def step(self, label: str, relative: str, *args: str, ok: tuple[int, ...] = (0,)) -> Result:
        started = time.monotonic()
        try:
            return self.workspace.run(relative, *args, ok=ok)
        finally:
            self.timings[label] = round(time.monotonic() - started, 1)

    def client(self, service: str):  # noqa: ANN201
        return self.emulator.client(service)


def changes_in(plan: Result) -> list[str]:
    """The '# address will be ...' lines of a plan: what it would change."""
    return [
        line.strip()
        for line in plan.stdout.splitlines()
        if line.strip().startswith("# ") and " will " in line
    ]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Cloud]:
    tmp = tmp_path_factory.mktemp("emulator")
    with aws_emulator.running(tmp / "moto", moto_gaps.stand_in_amis(moto_gaps.pinned_ami_name())) as emulator:
        workspace = Workspace.create(
            tmp,
            {**emulator.client_env(), **moto_gaps.SERIAL_CHANGES, "TF_VAR_admin_cidr": ADMIN_CIDR},
        )
        moto_gaps.write_overrides(workspace.tree, emulator)
        cloud = Cloud(emulator=emulator, workspace=workspace)
        yield cloud
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        steps = ", ".join(f"{label} {seconds} s" for label, seconds in cloud.timings.items())
        reporter.write_line(f"emulator cycle: {steps}")


@pytest.fixture(scope="module")
def deployed(cloud: Cloud) -> Cloud:
    """The state root, then envs/dev on the S3 backend: plan, apply, re-plan."""
    cloud.step("state init", "state", "init", "-input=false", "-no-color")
    cloud.step("state plan", "state", "plan", "-input=false", "-no-color", "-out=state.tfplan")
    cloud.step("state apply", "state", "apply", "-input=false", "-no-color", "state.tfplan")
    cloud.replans["state"] = cloud.step(
        "state re-plan", "state", "plan", "-input=false", "-no-color", "-detailed-exitcode", ok=(0, 2)
    )
    bucket = json.loads(cloud.workspace.run("state", "output", "-json").stdout)["state_bucket"]["value"]
    cloud.step(
        "dev init",
        ENV_ROOT,
        "init",
        "-input=false",
        "-no-color",
        "-backend-config=backend.hcl",
        f"-backend-config=bucket={bucket}",
    )
    cloud.step("dev plan", ENV_ROOT, "plan", "-input=false", "-no-color", "-out=dev.tfplan")
    cloud.step("dev apply", ENV_ROOT, "apply", "-input=false", "-no-color", "dev.tfplan")
    cloud.replans[ENV] = cloud.step(
        "dev re-plan", ENV_ROOT, "plan", "-input=false", "-no-color", "-detailed-exitcode", ok=(0, 2)
    )
    outputs = json.loads(cloud.workspace.run(ENV_ROOT, "output", "-json").stdout)
    cloud.outputs = {name: output["value"] for name, output in outputs.items()}
    cloud.outputs["state_bucket"] = bucket
    return cloud


# --- the cycle converges ------------------------------------------------------------------------


@pytest.mark.parametrize("root", ["state", ENV])
def test_apply_then_replan_reports_no_changes(deployed: Cloud, root: str):
    replan = deployed.replans[root]
    assert replan.code == PLAN_NO_CHANGES, f"{root} does not converge: {changes_in(replan)}"


def test_state_lives_in_the_state_bucket_with_a_native_lock(deployed: Cloud):
    s3 = deployed.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=deployed.outputs["state_bucket"])["Contents"]]
    assert f"envs/{ENV}/terraform.tfstate" in keys
    # use_lockfile: the lock object exists only while a command holds it, so none is left now.
    assert f"envs/{ENV}/terraform.tfstate.tflock" not in keys


# --- what a deploy depends on, read back from the emulator ---------------------------------------


def repositories(cloud: Cloud) -> dict[str, dict]:
    """Every ECR repository by name."""
    return {
        repo["repositoryName"]: repo for repo in cloud.client("ecr").describe_repositories()["repositories"]
    }


def test_ecr_repositories_are_immutable_and_scanned_on_push(deployed: Cloud):
    every = repositories(deployed)
    ours = {name: repo for name, repo in every.items() if not name.endswith("/cache")}
    assert set(ours) == {f"cloud-design/{ENV}/{image}" for image in contract_images()}
    for repo in ours.values():
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert set(deployed.outputs["ecr_repository_urls"].values()) == {
        repo["repositoryUri"] for repo in ours.values()
    }


def test_layer_cache_repositories_are_where_the_build_jobs_push_and_expire(deployed: Cloud):
    """Each image's cache repository is the one cloudctl's build plan names (buildah --cache-to),
    MUTABLE, scanned, encrypted with the images' key, and expires layers 14 days after their push."""
    every = repositories(deployed)
    caches = {name: repo for name, repo in every.items() if name.endswith("/cache")}
    host = next(iter(every.values()))["repositoryUri"].split("/", 1)[0]
    builds = cloudctl_builds.plan(ROOT, host, ENV, "0" * 40, present=[])
    assert {build.cache for build in builds} == {repo["repositoryUri"] for repo in caches.values()}
    assert len(caches) == len(contract_images())
    (image_key,) = {
        repo["encryptionConfiguration"]["kmsKey"] for name, repo in every.items() if name not in caches
    }
    for name, repo in caches.items():
        assert repo["imageTagMutability"] == "MUTABLE", name
        assert repo["imageScanningConfiguration"]["scanOnPush"] is True, name
        assert repo["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": image_key}, name
        policy = json.loads(
            deployed.client("ecr").get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
        )
        (rule,) = policy["rules"]
        assert rule["selection"] == {
            "tagStatus": "any",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 14,
        }, name
        assert rule["action"] == {"type": "expire"}
    # The dev push role pulls (--cache-from) and pushes (--cache-to) each of them.
    statements = role_statements(deployed, f"{NAME}-ci-push")
    for repo in caches.values():
        granted = {
            action
            for statement in statements
            if repo["repositoryArn"] in as_list(statement["Resource"])
            for action in as_list(statement["Action"])
        }
        assert {
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchCheckLayerAvailability",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
        } <= granted, repo["repositoryName"]
    # The nodes pull deployed images only.
    for role in (f"{NAME}-master", f"{NAME}-worker"):
        resources = {
            arn
            for statement in role_statements(deployed, role)
            for arn in as_list(statement.get("Resource", []))
        }
        assert not {repo["repositoryArn"] for repo in caches.values()} & resources, role


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def role_statements(cloud: Cloud, role: str) -> list[dict]:
    """The Allow statements of a role's inline and attached customer policies (moto enforces no IAM)."""
    iam = cloud.client("iam")
    documents = [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        if ":aws:policy/" in attached["PolicyArn"]:
            continue  # AWS-managed (SSM core): not ours
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        documents.append(
            iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])[
                "PolicyVersion"
            ]["Document"]
        )
    documents = [json.loads(d) if isinstance(d, str) else d for d in documents]
    return [s for d in documents for s in d["Statement"] if s["Effect"] == "Allow"]


def test_alb_routes_each_path_to_its_node_port_with_health_checks(deployed: Cloud):
    elbv2 = deployed.client("elbv2")
    (alb,) = elbv2.describe_load_balancers(Names=[NAME])["LoadBalancers"]
    (listener,) = elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    assert listener["Port"] == 80
    groups = {group["TargetGroupArn"]: group for group in elbv2.describe_target_groups()["TargetGroups"]}
    routes = {}
    for rule in listener_rules(deployed):
        if rule["IsDefault"]:
            continue
        (action,) = rule["Actions"]
        group = groups[action["TargetGroupArn"]]
        routes[tuple(conditions(rule)["path-pattern"])] = (
            group["Port"],
            group["HealthCheckPath"],
            group["HealthCheckIntervalSeconds"],
        )
    assert routes == {
        tuple(route["path_patterns"]): (route["node_port"], route["health_check_path"], 30)
        for route in contract_routes().values()
    }
    # Every node is a target of every group.
    nodes = set(deployed_instances(deployed))
    for group in groups.values():
        targets = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
            "TargetHealthDescriptions"
        ]
        assert {target["Target"]["Id"] for target in targets} == nodes


def listener_rules(cloud: Cloud) -> list[dict]:
    elbv2 = cloud.client("elbv2")
    (alb,) = elbv2.describe_load_balancers(Names=[NAME])["LoadBalancers"]
    (listener,) = elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    return elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]


def conditions(rule: dict) -> dict[str, list[str]]:
    """A rule's conditions by field: path-pattern and source-ip values."""
    configs = {"path-pattern": "PathPatternConfig", "source-ip": "SourceIpConfig"}
    return {c["Field"]: c[configs[c["Field"]]]["Values"] for c in rule["Conditions"]}


def test_argocd_answers_only_the_admin_cidr_and_no_other_rule_serves_its_paths(deployed: Cloud):
    """Argo CD's rule carries a source-ip condition; from elsewhere /argocd gets the JSON 404."""
    rules = listener_rules(deployed)
    (argocd,) = [r for r in rules if not r["IsDefault"] and conditions(r)["path-pattern"] == ["/argocd*"]]
    assert conditions(argocd)["source-ip"] == [ADMIN_CIDR]
    others = [r for r in rules if r is not argocd and not r["IsDefault"]]
    for path in ("/argocd", "/argocd/", "/argocd/api/webhook", "/argocd/applications"):
        serving = [
            r["Priority"]
            for r in others
            if any(fnmatch.fnmatch(path, p) for p in conditions(r)["path-pattern"])
        ]
        assert not serving, f"{path} from outside admin_cidr is served by rule(s) {serving}"
    assert all("source-ip" not in conditions(r) for r in others)  # the public routes stay public
    (default,) = [r for r in rules if r["IsDefault"]]
    (action,) = default["Actions"]
    assert (action["Type"], action["FixedResponseConfig"]["StatusCode"]) == ("fixed-response", "404")


def security_group(cloud: Cloud, name: str) -> dict:
    (group,) = cloud.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    return group


def test_node_ports_admit_only_the_alb(deployed: Cloud):
    alb = security_group(deployed, f"{NAME}-alb")["GroupId"]
    nodes = security_group(deployed, f"{NAME}-nodes")
    for port in sorted(route["node_port"] for route in contract_routes().values()):
        rules = [r for r in nodes["IpPermissions"] if r.get("FromPort") == port and r.get("ToPort") == port]
        assert rules, f"no rule opens {port}"
        for rule in rules:
            assert not rule.get("IpRanges") and not rule.get("Ipv6Ranges"), f"{port} is open to addresses"
            assert [pair["GroupId"] for pair in rule["UserIdGroupPairs"]] == [alb]


def test_database_is_private_encrypted_backed_up_in_private_subnets(deployed: Cloud):
    (db,) = deployed.client("rds").describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"]
    assert db["PubliclyAccessible"] is False
    assert db["StorageEncrypted"] is True
    assert db["BackupRetentionPeriod"] == 7
    subnets = {subnet["SubnetIdentifier"] for subnet in db["DBSubnetGroup"]["Subnets"]}
    described = deployed.client("ec2").describe_subnets(SubnetIds=sorted(subnets))["Subnets"]
    assert {subnet["CidrBlock"] for subnet in described} == {"10.0.10.0/24", "10.0.11.0/24"}
    assert not any(subnet["MapPublicIpOnLaunch"] for subnet in described)
    assert deployed.outputs["rds_endpoint"].startswith(f"{NAME}.")


def test_database_forces_tls_and_logs_ddl(deployed: Cloud):
    (db,) = deployed.client("rds").describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"]
    (group,) = db["DBParameterGroups"]
    parameters = deployed.client("rds").describe_db_parameters(
        DBParameterGroupName=group["DBParameterGroupName"]
    )
    values = {p["ParameterName"]: p.get("ParameterValue") for p in parameters["Parameters"]}
    assert values["rds.force_ssl"] == "1"
    assert values["log_statement"] == "ddl"


def test_ssm_parameter_names(deployed: Cloud):
    parameters = deployed.client("ssm").describe_parameters()["Parameters"]
    assert {p["Name"]: p["Type"] for p in parameters} == {
        f"/cloud-design/{ENV}/k3s-token": "SecureString",
        f"/cloud-design/{ENV}/kubeconfig": "SecureString",
    }


def external_secret_keys() -> dict[str, set[str]]:
    """What the GitOps tree's ExternalSecrets read: secret name (cloud-design/ENV/x) -> JSON keys."""
    wanted: dict[str, set[str]] = {}
    for path in sorted((ROOT / "base").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not isinstance(document, dict) or document.get("kind") != "ExternalSecret":
                continue
            for item in document["spec"].get("data", []):
                key = item["remoteRef"]["key"].replace("/ENV/", f"/{ENV}/")
                wanted.setdefault(key, set()).add(item["remoteRef"]["property"])
    assert wanted, "found no ExternalSecret in base/"
    return wanted


def secret_json(cloud: Cloud, name: str) -> dict[str, str]:
    return json.loads(cloud.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])


def test_secrets_manager_holds_exactly_the_contracts_secrets_and_keys(deployed: Cloud):
    """Terraform reads contract.yaml's secrets: every one exists under cloud-design/<env>/ with
    exactly its keys, each non-empty, and there is no other."""
    wanted = {name: set(keys) for name, keys in contract_secrets().items()}
    assert deployed.outputs["secret_names"] == {name: f"cloud-design/{ENV}/{name}" for name in wanted}
    names = [s["Name"] for s in deployed.client("secretsmanager").list_secrets()["SecretList"]]
    assert sorted(n for n in names if n.startswith(f"cloud-design/{ENV}/")) == sorted(
        f"cloud-design/{ENV}/{name}" for name in wanted
    )
    for name, keys in wanted.items():
        value = secret_json(deployed, deployed.outputs["secret_names"][name])
        assert set(value) == keys, name
        assert all(value.values()), name


def test_secrets_hold_the_keys_the_external_secrets_read(deployed: Cloud):
    wanted = external_secret_keys()
    assert set(wanted) <= set(deployed.outputs["secret_names"].values())
    for name, keys in wanted.items():
        value = secret_json(deployed, name)
        assert keys <= set(value), f"{name} lacks {keys - set(value)}"
        assert all(value[key] for key in keys)


def test_rds_master_login_is_in_our_named_secret_not_an_rds_managed_one(deployed: Cloud):
    name = f"cloud-design/{ENV}/rds-master"
    assert deployed.outputs["secret_names"]["rds-master"] == name
    login = secret_json(deployed, name)
    assert set(login) == {"username", "password"}
    (db,) = deployed.client("rds").describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"]
    assert db["MasterUsername"] == login["username"]
    assert "MasterUserSecret" not in db  # no rds!db-<uuid> secret to find by tag
    names = [s["Name"] for s in deployed.client("secretsmanager").list_secrets()["SecretList"]]
    assert not [n for n in names if n.startswith("rds!")]


def test_database_has_a_stable_private_name(deployed: Cloud):
    """postgres.cloud-design.internal, in a zone only this VPC sees, names the instance's address."""
    ec2, route53 = deployed.client("ec2"), deployed.client("route53")
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"]
    for attribute, key in (
        ("enableDnsSupport", "EnableDnsSupport"),
        ("enableDnsHostnames", "EnableDnsHostnames"),
    ):
        assert ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)[key]["Value"] is True
    (zone,) = [z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{ZONE}."]
    assert zone["Config"]["PrivateZone"] is True
    assert [v["VPCId"] for v in route53.get_hosted_zone(Id=zone["Id"])["VPCs"]] == [vpc["VpcId"]]
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    (cname,) = [r for r in records if r["Type"] == "CNAME"]
    assert (cname["Name"], cname["TTL"]) == (f"postgres.{ZONE}.", 30)
    (db,) = deployed.client("rds").describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"]
    assert [r["Value"] for r in cname["ResourceRecords"]] == [db["Endpoint"]["Address"]]
    assert deployed.outputs["database_host"] == f"postgres.{ZONE}"


def lifecycle_rule(cloud: Cloud, bucket: str) -> dict:
    (rule,) = cloud.client("s3").get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    return rule


def test_bucket_lifecycles(deployed: Cloud):
    logs = lifecycle_rule(deployed, deployed.outputs["logs_bucket"])
    assert {(t["Days"], t["StorageClass"]) for t in logs["Transitions"]} == {
        (30, "STANDARD_IA"),
        (90, "GLACIER"),
    }
    assert logs["Expiration"]["Days"] == 180
    backups = lifecycle_rule(deployed, deployed.outputs["backups_bucket"])
    assert backups["Expiration"]["Days"] == 365
    assert backups["NoncurrentVersionExpiration"]["NoncurrentDays"] == 365


def test_the_four_alarms_and_their_thresholds(deployed: Cloud):
    alarms = deployed.client("cloudwatch").describe_alarms(AlarmNamePrefix=NAME)["MetricAlarms"]
    by_metric: dict[str | None, set] = {}
    for alarm in alarms:
        # The 5xx alarm sums two metrics with metric math, so it has no single MetricName.
        by_metric.setdefault(alarm.get("MetricName"), set()).add(
            (alarm["ComparisonOperator"], alarm["Threshold"])
        )
    assert by_metric["CPUUtilization"] == {("GreaterThanThreshold", 80.0)}
    assert by_metric["FreeStorageSpace"] == {("LessThanThreshold", 2 * 1024**3)}
    assert by_metric["UnHealthyHostCount"] == {("GreaterThanThreshold", 0.0)}
    (five_xx,) = [a for a in alarms if a["AlarmName"] == f"{NAME}-alb-5xx"]
    assert (five_xx["ComparisonOperator"], five_xx["Threshold"]) == ("GreaterThanThreshold", 10.0)
    assert {metric["Id"] for metric in five_xx["Metrics"]} == {"total", "target", "elb"}
    # One CPU alarm per node and one unhealthy-target alarm per target group.
    assert sum(1 for a in alarms if a["AlarmName"].endswith("-cpu-high")) == 3
    assert sum(1 for a in alarms if a["AlarmName"].endswith("-unhealthy-targets")) == 4


def deployed_instances(cloud: Cloud) -> dict[str, dict]:
    return cloud.emulator.instances()


def test_nodes_require_imdsv2_with_hop_limit_1_and_carry_their_instance_profiles(deployed: Cloud):
    """Hop limit 1: pods on the CNI bridge, one hop further, get no IMDS token, so no node role."""
    instances = deployed_instances(deployed)
    assert len(instances) == 3
    profiles = {}
    for instance in instances.values():
        options = instance["MetadataOptions"]
        assert options["HttpTokens"] == "required"
        assert options["HttpPutResponseHopLimit"] == 1
        assert instance["ImageId"] == moto_gaps.STAND_IN_AMI_ID
        role = {tag["Key"]: tag["Value"] for tag in instance["Tags"]}["cloud-design/role"]
        profiles.setdefault(role, set()).add(instance["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1])
    assert profiles == {"master": {f"{NAME}-master"}, "worker": {f"{NAME}-worker"}}


def test_plan_role_may_generate_the_passwords_every_plan_asks_for(deployed: Cloud):
    """The emulator enforces no IAM, so the applied policy document itself is read."""
    iam = deployed.client("iam")
    role = f"{NAME}-ci-plan"
    documents = [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    documents = [json.loads(d) if isinstance(d, str) else d for d in documents]
    allowed = {
        action
        for document in documents
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert "secretsmanager:GetRandomPassword" in allowed
    assert not any(action.endswith(("Put*", "Delete*", ":*")) for action in allowed)


def test_prod_plans_without_error_in_the_same_account(deployed: Cloud):
    """prod looks up the GitLab OIDC provider dev created, so it plans after dev (plan only)."""
    bucket = deployed.outputs["state_bucket"]
    deployed.step(
        "prod init",
        "envs/prod",
        "init",
        "-input=false",
        "-no-color",
        "-backend-config=backend.hcl",
        f"-backend-config=bucket={bucket}",
    )
    plan = deployed.step(
        "prod plan",
        "envs/prod",
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        ok=(PLAN_CHANGES,),
    )
    assert any("module.database.aws_db_instance.this will be created" in line for line in changes_in(plan))


# --- no secret in the state -----------------------------------------------------------------------


def state_texts(cloud: Cloud) -> dict[str, str]:
    """Every state and saved plan there is: dev's (from the S3 backend), the state root's, the plans."""
    texts = {
        "envs/dev state": cloud.workspace.run(ENV_ROOT, "state", "pull").stdout,
        "state root state": (cloud.workspace.root("state") / "terraform.tfstate").read_text(),
    }
    for root, plan in ((ENV_ROOT, "dev.tfplan"), ("state", "state.tfplan")):
        texts[f"{root}/{plan}"] = cloud.workspace.run(root, "show", "-json", plan).stdout
    return texts


def generated_values(cloud: Cloud) -> dict[str, str]:
    values = {}
    for short, name in cloud.outputs["secret_names"].items():
        for key, value in secret_json(cloud, name).items():
            if key != "username":
                values[f"{short}.{key}"] = value
    token = cloud.client("ssm").get_parameter(Name=f"/cloud-design/{ENV}/k3s-token", WithDecryption=True)
    values["k3s-token"] = token["Parameter"]["Value"]
    return values


def test_no_generated_secret_is_in_any_state_or_plan(deployed: Cloud):
    values = generated_values(deployed)
    # Every key of every contract secret but the usernames (rds-master's password among them), and
    # the K3s token.
    expected = sum(len(set(keys) - {"username"}) for keys in contract_secrets().values()) + 1
    assert len(values) == expected, values.keys()
    for label, value in values.items():
        assert len(value) >= 32, f"{label} is not a generated secret"
    for where, text in state_texts(deployed).items():
        leaked = [label for label, value in values.items() if value in text]
        assert not leaked, f"{where} holds {leaked}"


def test_a_kubeconfig_the_master_publishes_stays_out_of_the_state(deployed: Cloud):
    """The master overwrites the kubeconfig parameter at boot, naming itself in the description
    (what `cloudctl up` waits for); refreshing must not copy the value into state, and the
    description must not show as drift."""
    marker = "client-key-data: STAND-IN-KUBECONFIG-KEY-0f9e8d7c6b5a"
    published_by = f"published by {deployed.outputs['master_instance_id']}"
    ssm = deployed.client("ssm")
    ssm.put_parameter(
        Name=f"/cloud-design/{ENV}/kubeconfig",
        Value=f"apiVersion: v1\nkind: Config\n{marker}\n",
        Type="SecureString",
        Overwrite=True,
        Description=published_by,
    )
    deployed.step(
        "dev refresh", ENV_ROOT, "apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color"
    )
    assert marker not in deployed.workspace.run(ENV_ROOT, "state", "pull").stdout
    replan = deployed.step(
        "dev re-plan after publish",
        ENV_ROOT,
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        ok=(0, 2),
    )
    assert replan.code == PLAN_NO_CHANGES, changes_in(replan)
    (parameter,) = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [f"/cloud-design/{ENV}/kubeconfig"]}]
    )["Parameters"]
    assert parameter["Description"] == published_by


# --- the state root comes down last ------------------------------------------------------------
# dev's own destroy is not repeated here: tests/infrastructure/cloudctl/test_cloudctl_on_emulator.py
# runs `cloudctl down` (terraform destroy of this same root) and checks that nothing of it is left.
# One destroy of 130 resources at -parallelism=1 costs over two minutes of CI.


def test_the_state_root_destroys_once_its_bucket_is_emptied(deployed: Cloud):
    bucket = deployed.outputs["state_bucket"]
    assert bucket in deployed.emulator.leftovers().get("buckets", [])
    # The state bucket keeps every version of dev's state; as infrastructure/README.md says, it is
    # emptied (all versions) before its root is destroyed.
    s3 = deployed.client("s3")
    listed = s3.list_object_versions(Bucket=bucket)
    versions = [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]
    assert versions, "dev's state left no version in the state bucket"
    for version in versions:
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    deployed.step("state destroy", "state", "destroy", "-auto-approve", "-input=false", "-no-color")
    assert deployed.workspace.run("state", "state", "list").stdout.strip() == ""
    assert bucket not in deployed.emulator.leftovers().get("buckets", [])
