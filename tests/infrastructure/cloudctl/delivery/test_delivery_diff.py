"""The rendered-manifest diff on a small throw-away git repository, rendered with the pinned kubectl."""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

import pytest
from cloudctl.delivery import commands, diff, render
from cloudctl.errors import CloudctlError

REPO_ROOT = Path(__file__).resolve().parents[4]

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-gateway
spec:
  template:
    spec:
      containers:
        - name: api-gateway
          image: api-gateway
"""
IMAGES = """apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
images:
  - name: api-gateway
    newTag: "{tag}"
"""
OVERLAY = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: movies-dev
resources: [../../../base/api-gateway]
components: [../images]
"""
ROOT_APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: root, namespace: argocd}
spec: {project: platform, source: {targetRevision: main}}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)


@pytest.fixture
def repo(tmp_path) -> Path:
    """Two commits: the base (tag aaaa111) and a head that bumps the tag and adds a Secret."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.invalid")
    git(repo, "config", "user.name", "test")
    (repo / ".venv").symlink_to(REPO_ROOT / ".venv")  # the pinned kubectl, as in the real checkout
    write(
        repo,
        {
            ".gitignore": ".venv\n",
            "requirements/dev.in": (REPO_ROOT / "requirements/dev.in").read_text(),
            "base/api-gateway/kustomization.yaml": "resources: [deployment.yaml]\n",
            "base/api-gateway/deployment.yaml": DEPLOYMENT,
            "overlays/dev/images/kustomization.yaml": IMAGES.format(tag="aaaa111"),
            "overlays/dev/workloads/kustomization.yaml": OVERLAY,
            "clusters/dev/root.yaml": ROOT_APP,
        },
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    write(
        repo,
        {
            "overlays/dev/images/kustomization.yaml": IMAGES.format(tag="bbbb222"),
            "base/api-gateway/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: leaked}\n"
            "stringData: {password: hunter2-do-not-show}\n",
            "base/api-gateway/kustomization.yaml": "resources: [deployment.yaml, secret.yaml]\n",
        },
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "head")
    return repo


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_diff_between_two_revisions_names_each_changed_object(repo, capsys):
    assert run("diff", "--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD") == 0
    out = capsys.readouterr().out

    assert "1 of 2 targets change" in out  # overlays/dev/workloads changes, clusters/dev/root.yaml does not
    assert "overlays/dev/workloads: +1 ~1 -0" in out
    image = "image: api-gateway"  # git names no registry: the cluster Secret adds it in the cluster
    assert re.search(rf"^-\s+- {image}:aaaa111$", out, re.M)
    assert re.search(rf"^\+\s+- {image}:bbbb222$", out, re.M)
    assert "b/overlays/dev/workloads: Secret movies-dev/leaked" in out
    assert "hunter2" not in out and "<redacted sha256:" in out
    assert git(repo, "worktree", "list").count("\n") == 1  # temporary worktrees are gone


def test_the_working_tree_is_the_default_head_and_markdown_goes_to_a_file(repo, tmp_path):
    write(repo, {"clusters/dev/root.yaml": ROOT_APP.replace("main", "release-1")})
    output = tmp_path / "note.md"

    assert (
        run("diff", "--repo", str(repo), "--base", "HEAD", "--format", "markdown", "--output", str(output))
        == 0
    )
    note = output.read_text()

    assert note.startswith("### Rendered manifests: `HEAD (")
    assert "| `clusters/dev/root.yaml` | 0 | 1 | 0 |" in note
    assert "   source:\n-    targetRevision: main\n+    targetRevision: release-1\n" in note
    assert "<details><summary><code>clusters/dev/root.yaml</code>: Application argocd/root</summary>" in note


def test_no_change_says_so(repo, capsys):
    assert run("diff", "--repo", str(repo), "--base", "HEAD", "--format", "markdown") == 0
    assert "No Kubernetes object changes in any of the 2 rendered targets." in capsys.readouterr().out


def test_an_unknown_revision_is_one_clear_error(repo):
    with pytest.raises(CloudctlError, match="git rev-parse"):
        run("diff", "--repo", str(repo), "--base", "no-such-branch")


def test_a_broken_kustomization_at_either_revision_is_an_error_not_an_empty_diff(repo):
    write(repo, {"overlays/dev/workloads/kustomization.yaml": OVERLAY.replace("api-gateway]", "missing]")})
    with pytest.raises(CloudctlError, match="overlays/dev/workloads"):
        run("diff", "--repo", str(repo), "--base", "HEAD")


def test_markdown_stays_within_the_note_budget():
    big = [
        diff.TargetDiff(f"overlays/env{i}/workloads", changed=[("ConfigMap", "x", "c")], patch="+x\n" * 1000)
        for i in range(5)
    ]
    note = diff.as_markdown(big, "a", "b", budget=9_000)
    assert len(note) <= 9_000 + 200
    assert note.count("<details>") == 2 and "too long for a note" in note


def test_loose_files_are_those_outside_any_kustomization(repo):
    assert render.loose_files(repo) == ["clusters/dev/root.yaml"]


# A cluster whose root.yaml is an ApplicationSet: the render generates its root Application from
# the cluster Secret, whose ECR image annotations come from contract.yaml.
ROOT_APPSET = """apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: root, namespace: argocd}
spec:
  goTemplate: true
  generators:
    - clusters: {selector: {matchLabels: {cloud-design.io/environment: dev}}}
  template:
    metadata: {name: root}
    spec:
      project: platform
      source:
        repoURL: '{{ index .metadata.annotations "repo_url" }}'
        path: clusters/dev
        kustomize:
          patches:
            - target: {kind: ConfigMap, name: cluster}
              patch: |-
                - op: replace
                  path: /data/ecr_api_gateway
                  value: '{{ index .metadata.annotations "ecr_api_gateway" }}'
      destination: {server: https://kubernetes.default.svc, namespace: argocd}
"""
CLUSTER = """apiVersion: v1
kind: ConfigMap
metadata: {name: cluster, namespace: argocd}
data: {ecr_api_gateway: from-cluster-secret:ecr_api_gateway, tag: "{tag}"}
"""


def test_a_base_without_contract_yaml_renders_with_the_heads(repo, capsys):
    """The merge request that adds contract.yaml is diffed against a base without it."""
    write(
        repo,
        {
            "clusters/dev/root.yaml": ROOT_APPSET,
            "clusters/dev/cluster.yaml": CLUSTER.replace("{tag}", "1"),
            "clusters/dev/kustomization.yaml": "resources: [root.yaml, cluster.yaml]\n",
        },
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a cluster rendered from its ApplicationSet, no contract.yaml yet")
    write(
        repo,
        {
            "contract.yaml": (REPO_ROOT / "contract.yaml").read_text(),
            "clusters/dev/cluster.yaml": CLUSTER.replace("{tag}", "2"),
        },
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "contract.yaml")

    assert run("diff", "--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD") == 0
    out = capsys.readouterr().out
    assert "clusters/dev: +0 ~1 -0" in out  # the ConfigMap's tag; the generated root is the same
    assert re.search(r"^-\s+tag: '1'$", out, re.M) and re.search(r"^\+\s+tag: '2'$", out, re.M)
    # unchanged: the base's cluster Secret names the head's ECR images
    assert re.search(r"^ \s+ecr_api_gateway: \S+/cloud-design/dev/api-gateway$", out, re.M)


def test_without_contract_yaml_at_either_revision_the_render_fails_in_one_line(repo):
    write(
        repo,
        {
            "clusters/dev/root.yaml": ROOT_APPSET,
            "clusters/dev/cluster.yaml": CLUSTER.replace("{tag}", "1"),
            "clusters/dev/kustomization.yaml": "resources: [root.yaml, cluster.yaml]\n",
        },
    )
    with pytest.raises(CloudctlError, match=r"contract.yaml: cannot read the contract"):
        run("diff", "--repo", str(repo), "--base", "HEAD")
