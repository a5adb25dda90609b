"""CKV_CD_K8S_2: prod never runs `:latest` or an untagged image (which means latest)."""

from __future__ import annotations

from typing import Any

from cd_k8s_common import PodSpecCheck, containers, is_prod

from checkov.common.models.enums import CheckCategories


def _tag(image: str) -> str | None:
    """The tag of an image reference, "" for a digest-only reference, None when there is neither."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.split(":", 1)[1]
    return "" if "@" in image else None


class ProdImageNotLatest(PodSpecCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Prod images carry an immutable tag or digest, never :latest",
            id="CKV_CD_K8S_2",
            category=CheckCategories.SUPPLY_CHAIN,
        )

    def applies(self, conf: dict[str, Any]) -> bool:
        return is_prod(conf)

    def violation(self, conf: dict[str, Any], spec: dict[str, Any]) -> str | None:
        for prefix, container in containers(spec):
            if _tag(str(container.get("image") or "")) in (None, "latest"):
                return f"{prefix}/image"
        return None


check = ProdImageNotLatest()
