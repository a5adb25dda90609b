"""Reads an env root's terraform.tfvars (the variable names are fixed in docs/contract.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from cloudctl.errors import CloudctlError

CONTRACT_VARIABLES = (
    "region",
    "environment",
    "master_instance_type",
    "worker_instance_type",
    "worker_count",
    "db_instance_class",
    "db_allocated_storage_gb",
    "db_multi_az",
    "log_retention_days",
    "certificate_arn",
    "ecr_keep_images",
)
_PLAIN = SerializationOptions(with_comments=False, strip_string_quotes=True)


def load_tfvars(path: Path, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The variables of a tfvars file; a missing file, bad HCL or a missing required name: one-line error."""
    try:
        with path.open() as handle:
            values = hcl2.load(handle, serialization_options=_PLAIN)
    except OSError as err:
        raise CloudctlError(f"cannot read {path}: {err.strerror}") from err
    except Exception as err:  # noqa: BLE001 -- the HCL parser raises lark's many error types
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CloudctlError(f"{path} is not valid HCL: {first}") from err
    missing = [name for name in required if name not in values]
    if missing:
        raise CloudctlError(f"{path} lacks the variable(s) {', '.join(missing)}")
    return values


def variable_default(variables_tf: Path, name: str) -> Any:
    """The default of `variable "<name>"` in a module's variables.tf (where sizes the tfvars omit live)."""
    values = load_tfvars(variables_tf)
    for block in values.get("variable", []):
        if name in block and "default" in block[name]:
            return block[name]["default"]
    raise CloudctlError(f"{variables_tf} declares no variable {name} with a default")
