"""monitoring and iam: log groups, alarms, dashboard, topic; the nodes' least privilege."""

from __future__ import annotations

from terraform_hcl import TERRAFORM, data_sources, labelled, module_dir, resources, tfvars, variable_default

MONITORING = module_dir("monitoring")
IAM = module_dir("iam")
COMMON = TERRAFORM / "envs" / "common"


def test_log_groups_with_retention_per_environment():
    call = labelled(COMMON, "module")["monitoring"]
    assert call["log_groups"] == {
        "applications": "/aws/cloud-design/${var.environment}/applications",
        "k3s": "/aws/cloud-design/${var.environment}/k3s",
    }
    groups = resources(MONITORING, "aws_cloudwatch_log_group")["this"]
    assert groups["retention_in_days"] == "${var.log_retention_days}"
    rds_groups = resources(module_dir("database"), "aws_cloudwatch_log_group")["exports"]
    assert rds_groups["name"] == "/aws/rds/instance/${var.identifier}/${each.key}"
    assert rds_groups["retention_in_days"] == "${var.log_retention_days}"
    assert tfvars("dev")["log_retention_days"] == 14 and tfvars("prod")["log_retention_days"] == 90


def test_alarm_thresholds():
    assert variable_default("monitoring", "cpu_threshold_percent") == 80
    assert variable_default("monitoring", "alb_5xx_threshold") == 10
    assert variable_default("monitoring", "rds_free_storage_threshold_bytes") == 2 * 1024**3
    alarms = resources(MONITORING, "aws_cloudwatch_metric_alarm")
    cpu = alarms["node_cpu"]
    assert (cpu["metric_name"], cpu["comparison_operator"], cpu["threshold"]) == (
        "CPUUtilization",
        "GreaterThanThreshold",
        "${var.cpu_threshold_percent}",
    )
    five_xx = alarms["alb_5xx"]
    assert five_xx["threshold"] == "${var.alb_5xx_threshold}" and five_xx["evaluation_periods"] == 1
    assert five_xx["dynamic"][0]["metric_query"]["content"][0]["metric"][0]["period"] == 300  # 5 minutes
    storage = alarms["rds_free_storage"]
    assert (storage["metric_name"], storage["comparison_operator"]) == (
        "FreeStorageSpace",
        "LessThanThreshold",
    )
    unhealthy = alarms["unhealthy_targets"]
    assert (unhealthy["metric_name"], unhealthy["threshold"]) == ("UnHealthyHostCount", 0)
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == "${local.alarm_actions}"


def test_alarm_topic_is_encrypted():
    topic = resources(MONITORING, "aws_sns_topic")["alarms"]
    assert topic["kms_master_key_id"] == "${var.kms_key_arn}"


def test_dashboard_shows_the_required_metrics():
    text = (MONITORING / "main.tf").read_text()
    for metric in (
        "CPUUtilization",
        "mem_used_percent",
        "RequestCount",
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
        "FreeStorageSpace",
        "DatabaseConnections",
    ):
        assert f'"{metric}"' in text, metric
    assert text.count('"AWS/RDS", "CPUUtilization"') == 1


# --- iam ------------------------------------------------------------------------------------------
def statements(name):
    return {s["sid"]: s for s in data_sources(IAM, "aws_iam_policy_document")[name]["statement"]}


def test_ecr_pull_only_on_this_environments_repositories():
    node = statements("node")
    assert node["EcrPullThisEnvironment"]["resources"] == "${var.ecr_repository_arns}"
    assert set(node["EcrPullThisEnvironment"]["actions"]) == {
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    }
    all_actions = [a for s in node.values() for a in s["actions"]]
    assert not [a for a in all_actions if a.startswith("ecr:Put") or a.startswith("ecr:Delete")]
    assert labelled(COMMON, "module")["iam"]["ecr_repository_arns"] == (
        "${values(module.registry.repository_arns)}"
    )


def test_no_wildcard_actions_and_star_resources_only_where_iam_has_no_resource_level():
    star_ok = {"EcrAuthToken", "CloudWatchMetricsWrite", "SessionManagerChannels"}
    for name in ("node", "master"):
        for sid, statement in statements(name).items():
            assert not any(action.endswith("*") for action in statement["actions"]), sid
            if statement["resources"] == ["*"]:
                assert sid in star_ok, sid


def test_secrets_read_scoped_to_the_environment_prefix_which_holds_the_rds_master_secret():
    read = statements("node")["ReadEnvironmentSecrets"]
    assert read["actions"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    assert read["resources"] == ["${local.app_secrets_arn}"]
    text = (IAM / "main.tf").read_text()
    assert 'secret:${var.secrets_prefix}/*"' in text
    prefix = labelled(COMMON, "module")["iam"]["secrets_prefix"]
    master_secret = labelled(COMMON, "module")["database"]["master_secret_name"]
    assert master_secret.startswith(prefix + "/")
    # No listing: nothing is found by tag any more, every secret is read by its name.
    actions = [a for s in statements("node").values() for a in s["actions"]]
    assert "secretsmanager:ListSecrets" not in actions


def test_only_the_master_writes_the_kubeconfig():
    assert statements("master")["PublishKubeconfig"] == {
        "sid": "PublishKubeconfig",
        "actions": ["ssm:PutParameter"],
        "resources": ["${local.kubeconfig_parameter_arn}"],
    }
    assert "ssm:PutParameter" not in [a for s in statements("node").values() for a in s["actions"]]
    assert statements("node")["ReadK3sToken"]["resources"] == ["${local.token_parameter_arn}"]


def test_nodes_have_no_backups_access_and_kms_only_through_services():
    """Nothing on the nodes writes backups (K3s keeps its state in SQLite, not etcd), so no S3."""
    node = statements("node")
    assert not [a for s in node.values() for a in s["actions"] if a.startswith("s3:")]
    assert "backups_bucket_arn" not in labelled(IAM, "variable")
    assert node["DecryptThroughServices"]["condition"][0]["variable"] == "kms:ViaService"
    assert not [s for s in node.values() if "kms:GenerateDataKey" in s["actions"]]
    assert "written by the nodes" not in (module_dir("storage") / "main.tf").read_text()
