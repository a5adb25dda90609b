"""Every container is one of the contract's processes, from its image, with its command."""

from __future__ import annotations

import re

from cloudctl.manifests.contract import spec
from cloudctl.manifests.contract.env import Env

ACCOUNT = r"\d{12}"
REGION = "eu-west-1"
# Upstream images the environments run beside ours: (StatefulSet/Deployment name, image, envs).
RABBITMQ_IMAGE = re.compile(r"^rabbitmq:3\.12\.\d+-management$")
# The ci cluster's stand-in for RDS (overlays/ci/postgres): not a workload of ours.
POSTGRES_IMAGE = re.compile(r"^postgres:15\.\d+-bookworm$")


def _upstream(obj_name: str, image: str, env_name: str) -> bool:
    return (obj_name == "rabbitmq" and bool(RABBITMQ_IMAGE.match(image))) or (
        obj_name == "postgres" and env_name == "ci" and bool(POSTGRES_IMAGE.match(image))
    )


def check(env: Env) -> list[str]:
    """Images are this environment's ECR repositories of the contract; commands are the contract's."""
    images = env.contract.images
    pattern = {
        name: re.compile(
            rf"^{ACCOUNT}\.dkr\.ecr\.{REGION}\.amazonaws\.com/cloud-design/{env.name}/{re.escape(name)}:[\w.-]+$"
        )
        for name in images
    }
    problems = []
    for obj, container in env.strangers:
        if not _upstream(obj.name, container.get("image", ""), env.name):
            problems.append(
                f"{obj.where()}: container {container.get('name')}: neither a workload nor a command of "
                f"{spec.FILE}"
            )
    for process in env.processes:
        image = process.container.get("image", "")
        wanted = process.item.image
        if wanted is not None and not pattern[wanted].match(image):
            problems.append(
                f"{process.where}: image {image!r} is not "
                f"<account>.dkr.ecr.{REGION}.amazonaws.com/cloud-design/{env.name}/{wanted}:<tag>"
            )
        elif wanted is None and not any(p.match(image) for p in pattern.values()):
            problems.append(
                f"{process.where}: image {image!r} is not one of the ECR repositories {', '.join(images)}"
            )
        command = process.container.get("command")
        if isinstance(process.item, spec.Workload) and command and tuple(command) != process.item.command:
            problems.append(
                f"{process.where}: command {command} is not {spec.FILE}'s {list(process.item.command)}"
            )
    return problems
