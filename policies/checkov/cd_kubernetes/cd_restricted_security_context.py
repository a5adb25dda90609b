"""CKV_CD_K8S_5: every container meets the Pod Security Standard "restricted" plus this project's
read-only root filesystem: non-root, no privilege escalation, ALL capabilities dropped (only
NET_BIND_SERVICE may be added back), RuntimeDefault or Localhost seccomp, not privileged, no host
namespaces. Pod-level runAsNonRoot and seccompProfile count for every container that does not
override them."""

from __future__ import annotations

from typing import Any

from cd_k8s_common import PodSpecCheck, containers

from checkov.common.models.enums import CheckCategories

ALLOWED_SECCOMP = ("RuntimeDefault", "Localhost")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _violation(pod: dict[str, Any], ctx: dict[str, Any]) -> str | None:
    """The first field that breaks the profile, or None."""

    def effective(field: str) -> Any:
        return ctx[field] if field in ctx else pod.get(field)

    if effective("runAsNonRoot") is not True:
        return "runAsNonRoot"
    if effective("runAsUser") == 0:
        return "runAsUser"
    if ctx.get("allowPrivilegeEscalation") is not False:
        return "allowPrivilegeEscalation"
    if ctx.get("privileged") is True:
        return "privileged"
    if ctx.get("readOnlyRootFilesystem") is not True:
        return "readOnlyRootFilesystem"
    capabilities = _dict(ctx.get("capabilities"))
    if "ALL" not in (capabilities.get("drop") or []):
        return "capabilities/drop"
    if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
        return "capabilities/add"
    if _dict(effective("seccompProfile")).get("type") not in ALLOWED_SECCOMP:
        return "seccompProfile"
    return None


class RestrictedSecurityContext(PodSpecCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Every container runs with the restricted securityContext and a read-only root filesystem",
            id="CKV_CD_K8S_5",
            category=CheckCategories.KUBERNETES,
        )

    def violation(self, conf: dict[str, Any], spec: dict[str, Any]) -> str | None:
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(host) is True:
                return host
        pod = _dict(spec.get("securityContext"))
        for prefix, container in containers(spec):
            field = _violation(pod, _dict(container.get("securityContext")))
            if field:
                return f"{prefix}/securityContext/{field}"
        return None


check = RestrictedSecurityContext()
