"""The kubeconfig lands in a private file: 0600, replaced atomically, no leftovers."""

from __future__ import annotations

import stat

from cloudctl.bootstrap.kubeconfig import write_private


def test_overwrites_a_world_readable_file_with_a_private_one(tmp_path):
    target = tmp_path / "kube" / "config"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o644)

    write_private(target, "apiVersion: v1\n")

    assert target.read_text() == "apiVersion: v1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["config"]  # no temporary file left


def test_creates_missing_folders_private(tmp_path):
    target = tmp_path / "a" / "b" / "config"

    write_private(target, "x")

    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
