"""The Secrets Manager secret behind Argo CD's GitLab webhook token (base/argocd-gitlab-webhook)."""

from __future__ import annotations

import re

from terraform_hcl import ephemeral_resources, labelled, module_dir, resources

SECRETS = module_dir("secrets")
IAM = module_dir("iam")


def test_the_webhook_secret_has_the_contract_name_and_key():
    secret = resources(SECRETS, "aws_secretsmanager_secret")["argocd_gitlab_webhook"]
    assert secret["name"] == "${var.name_prefix}/argocd-gitlab-webhook"
    assert secret["kms_key_id"] == "${var.kms_key_arn}"
    assert secret["recovery_window_in_days"] == "${var.recovery_window_in_days}"
    version = resources(SECRETS, "aws_secretsmanager_secret_version")["argocd_gitlab_webhook"]
    assert re.findall(r"(\w+) = ", version["secret_string_wo"]) == ["secret"]
    generated = "ephemeral.aws_secretsmanager_random_password.argocd_gitlab_webhook.random_password"
    assert generated in version["secret_string_wo"]
    assert version["secret_string_wo_version"] == '${local.versions["argocd-gitlab-webhook"]}'


def test_the_webhook_token_is_generated_and_url_safe():
    password = ephemeral_resources(SECRETS, "aws_secretsmanager_random_password")["argocd_gitlab_webhook"]
    assert password["exclude_punctuation"] is True
    assert password["password_length"] >= 32


def test_the_outputs_name_it():
    outputs = labelled(SECRETS, "output")
    for output in ("secret_arns", "secret_names"):
        assert "argocd-gitlab-webhook" in outputs[output]["description"]
        assert "aws_secretsmanager_secret.argocd_gitlab_webhook" in outputs[output]["value"]


def test_the_node_role_reads_it():
    # ESO reads with the node's instance profile; the policy covers <prefix>/* under the same prefix.
    main = (IAM / "main.tf").read_text()
    assert re.search(r'app_secrets_arn\s*=\s*".*:secret:\$\{var\.secrets_prefix\}/\*"', main)
