"""Fixtures for the GitOps tree tests: renderings of the real tree (once per session) and
throw-away copies of the tree to break on purpose."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from cloudctl.manifests import deployed, render
from manifest_helpers import ENV_TARGETS, ROOT, copy_tree


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[str, render.Rendering]:
    targets = [t for ts in ENV_TARGETS.values() for t in ts] + [
        f"clusters/{env}" for env in deployed.CLUSTERS
    ]
    work = tmp_path_factory.mktemp("render")
    return {r.target: r for r in render.render_all(ROOT, work, only=targets)}


@pytest.fixture
def env_objects(rendered):
    """A fresh deep copy of one environment's movie objects, free to mutate."""

    def objects(env: str) -> list[render.Obj]:
        return [
            render.Obj(copy.deepcopy(o.doc), o.source) for t in ENV_TARGETS[env] for o in rendered[t].objects
        ]

    return objects


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    return copy_tree(tmp_path)
