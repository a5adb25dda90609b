"""Start a service the way the images do (contract start command, from its folder) and wait for
/health. Used by the benchmark; the tests' fixtures build on the same two functions."""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO


def start(args: Sequence[str], cwd: Path, env: Mapping[str, str], output: IO[bytes]) -> subprocess.Popen:
    return subprocess.Popen(  # its own session: stopping it never signals us
        list(args), cwd=cwd, env=dict(env), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )


def healthy(url: str) -> bool:
    with contextlib.suppress(OSError):
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - local http URL
            return response.status == 200
    return False


def wait_healthy(process: subprocess.Popen, url: str, timeout: float = 30) -> None:
    """Return once `url` answers 200; raise if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before {url} answered")
        if healthy(url):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def stop(process: subprocess.Popen, timeout: float = 15) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode
