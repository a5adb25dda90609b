"""The Argo CD cluster Secret: how Terraform's outputs and cloudctl's inputs reach the cluster's apps.

This is the gitops-bridge pattern. Argo CD keeps one Secret per cluster it deploys to, labelled
`argocd.argoproj.io/secret-type: cluster`. cloudctl writes the in-cluster one, with the account-
specific values as annotations. The root ApplicationSet (`clusters/<env>/root.yaml`) selects the
Secret by its environment label and templates those annotations into the root Application. Nothing
account-specific is committed to git, and a later `cloudctl up` updates the values in one place.

Why not the External Secrets Operator (SSM parameters)? ESO writes Secrets, and the values are
needed in fields of other objects: the ECR image names of the Deployments, the region of the
ClusterSecretStore and the repository URL of every Application and AppProject.
"""

# No `from __future__ import annotations`: it would bind the name of this module's `annotations()`.
from typing import Any

import yaml

from cloudctl.delivery.registry import repository_name
from cloudctl.errors import CloudctlError

ARGOCD_NAMESPACE = "argocd"
SECRET_NAME = "in-cluster"  # noqa: S105 (the Secret's name; it holds no credential)
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
# The root ApplicationSet's clusters generator selects on this label.
ENVIRONMENT_LABEL = "cloud-design.io/environment"

# The annotations the root ApplicationSet reads (`{{ index .metadata.annotations "<name>" }}`).
REPO_URL = "repo_url"
REPO_REVISION = "repo_revision"
AWS_REGION = "aws_region"
AWS_ACCOUNT_ID = "aws_account_id"
CLUSTER_NAME = "cluster_name"
ECR_PREFIX = "ecr_"
# How git marks a value that comes from one of these annotations: `from-cluster-secret:<annotation>`.
# The ConfigMap `cluster` in clusters/<env> holds one such value per annotation; the root
# ApplicationSet patches each with the annotation's value, and kustomize `replacements` copy them on.
PLACEHOLDER = "from-cluster-secret:"


def ecr_annotation(image: str) -> str:
    """The annotation with one image's ECR repository URL: `api-gateway` -> `ecr_api_gateway`."""
    return ECR_PREFIX + image.replace("-", "_")


def annotations(
    *,
    repo_url: str,
    region: str,
    account_id: str,
    cluster_name: str,
    ecr_repository_urls: dict[str, str],
    repo_revision: str = "main",
) -> dict[str, str]:
    """Every value the cluster's apps need and git does not hold."""
    values = {
        REPO_URL: repo_url,
        REPO_REVISION: repo_revision,
        AWS_REGION: region,
        AWS_ACCOUNT_ID: account_id,
        CLUSTER_NAME: cluster_name,
    }
    values.update({ecr_annotation(image): url for image, url in sorted(ecr_repository_urls.items())})
    return values


def manifest(env: str, values: dict[str, str]) -> dict[str, Any]:
    """The Secret itself. It replaces Argo CD's implicit in-cluster entry (same server URL)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": SECRET_NAME,
            "namespace": ARGOCD_NAMESPACE,
            "labels": {"argocd.argoproj.io/secret-type": "cluster", ENVIRONMENT_LABEL: env},
            "annotations": dict(values),
        },
        "type": "Opaque",
        "stringData": {"name": SECRET_NAME, "server": IN_CLUSTER_SERVER},
    }


def example(env: str, images: tuple[str, ...]) -> dict[str, Any]:
    """What `cloudctl up` would write, with AWS's documentation account: for offline renders only.
    `images`: the ECR repositories' last segments, contract.yaml's (`tree.ecr_repository_names`).

    `make validate` and the first-sync rehearsal render the root ApplicationSet against this, the
    way Argo CD renders it against the real Secret. It is never applied to a cluster.
    """
    account, region = "123456789012", "eu-west-1"
    registry = f"{account}.dkr.ecr.{region}.amazonaws.com"
    return manifest(
        env,
        annotations(
            repo_url="https://gitlab.example.com/cloud-design/cloud-design.git",
            region=region,
            account_id=account,
            cluster_name=f"cloud-design-{env}",
            ecr_repository_urls={image: f"{registry}/{repository_name(env, image)}" for image in images},
        ),
    )


def fill(value: Any, values: dict[str, str]) -> Any:
    """`value` with every `from-cluster-secret:<annotation>` string replaced by that annotation's value."""
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        name = value[len(PLACEHOLDER) :]
        if name not in values:
            raise CloudctlError(f"{value}: the cluster Secret has no annotation {name}")
        return values[name]
    return value


def root_objects(text: str, values: dict[str, str]) -> list[dict[str, Any]]:
    """The objects of clusters/<env>/root.yaml as cloudctl applies them before the first sync.

    On that first apply nothing has run kustomize yet, so the AppProject still holds its
    placeholders; they are filled here with the same values the root Application renders later,
    so Argo CD's first sync of root.yaml changes nothing.
    """
    docs = [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]
    return [fill(doc, values) for doc in docs]
