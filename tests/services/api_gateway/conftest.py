"""Gateway fixtures: the real gateway (gunicorn) in front of real inventory, and a recording
stand-in upstream for what only a scripted upstream can show (headers received, slowness)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from recording_upstream import RecordingUpstream  # noqa: E402


@pytest.fixture(scope="module")
def recorder() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def gateway_to_recorder(start_session_service, recorder: RecordingUpstream):
    """Gateway whose billing upstream is the recorder (short read timeout for the 504 test)."""
    return start_session_service(
        "api-gateway",
        {
            "INVENTORY_URL": recorder.url,
            "BILLING_URL": recorder.url,
            "UPSTREAM_READ_TIMEOUT": "0.5",
            "MAX_BODY_BYTES": "2048",
        },
    )
