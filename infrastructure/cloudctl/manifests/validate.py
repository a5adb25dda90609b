"""`make validate`: render everything, then schema, policy, contract, capacity and checkov.

Each stage prints what it covered (counts), so a run that checked nothing is visible, and each
stage that covered nothing fails. All problems are listed, then the command exits non-zero.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cloudctl.errors import CloudctlError
from cloudctl.manifests import (
    capacity,
    checkov_run,
    contract,
    deployed,
    policy,
    rehearsal,
    render,
    schemas,
    tree,
)

STAGES = ("schema", "policy", "contract", "rehearsal", "capacity", "checkov")


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _unique(objects: list[render.Obj]) -> list[render.Obj]:
    """The same object rendered by several kustomizations is checked once."""
    seen, out = set(), []
    for obj in objects:
        key = (obj.source, json.dumps(obj.doc, sort_keys=True, default=str))
        if key not in seen:
            seen.add(key)
            out.append(obj)
    return out


def run(root: Path, stages: tuple[str, ...] = STAGES, say: Callable[[str], None] = print) -> Outcome:
    outcome = Outcome()

    def note(line: str) -> None:
        outcome.lines.append(line)
        say(line)

    with tempfile.TemporaryDirectory(prefix="cloudctl-validate-") as scratch:
        work = Path(scratch)
        started = time.monotonic()
        renderings = {r.target: r for r in render.render_all(root, work)}
        every = _unique([o for r in renderings.values() for o in r.objects])
        note(
            f"render: {len(renderings)} kustomizations and components, {len(every)} distinct objects "
            f"({time.monotonic() - started:.1f}s)"
        )
        per_env = deployed.targets(renderings)
        charts = sorted(
            {
                f"{a.doc['spec']['source']['chart']} {a.doc['spec']['source']['targetRevision']}"
                for env in per_env
                for a in deployed.helm_charts(renderings, env)
            }
        )
        note(
            f"deployed: {', '.join(f'{env}: {len(t)} kustomizations' for env, t in per_env.items())}; "
            f"Helm charts not rendered offline (sized from their values): {', '.join(charts) or 'none'}"
        )

        if "schema" in stages:
            version = tree.kubernetes_version(root)
            crds = schemas.CrdCatalog(work / "cache")
            custom = sum(1 for o in every if crds.validator(o.doc.get("apiVersion", ""), o.kind))
            for obj in every:
                outcome.problems += schemas.validate_object(obj, version, crds)
            note(
                f"schema: {len(every)} objects against Kubernetes {version} (K3s pin) and "
                f"{len(crds.kinds())} "
                f"pinned CRD versions ({custom} custom resources)"
            )

        deployed_objects = {
            env: _unique([o for t in targets for o in renderings[t].objects])
            for env, targets in per_env.items()
        }
        if "policy" in stages:
            checked = 0
            for env_objects in deployed_objects.values():
                for obj in env_objects:
                    checked += sum(1 for _ in policy.containers(obj))
                    outcome.problems += policy.check(obj)
            if checked == 0:
                outcome.problems.append("policy: no container found in what the clusters deploy")
            note(
                f"policy: {checked} containers (requests, limits, pinned image tags) across "
                f"{', '.join(per_env)}"
            )

        if "contract" in stages:
            for env, targets in per_env.items():
                movies = [
                    o for t in targets if t.startswith(f"overlays/{env}/") for o in renderings[t].objects
                ]
                if not movies:
                    outcome.problems.append(f"contract {env}: no overlays/{env}/* Application is deployed")
                    continue
                outcome.problems += contract.check(root, env, movies)
                outcome.problems += contract.check_argocd(renderings[f"clusters/{env}/argocd"].objects, root)
                note(
                    f"contract {env}: env vars, each workload's requires and secrets, ports, probes, "
                    "selectors, autoscalers, queues, NetworkPolicies, "
                    f"images of {sum(1 for o in movies if policy.pod_spec(o) is not None)} workloads"
                )

        if "rehearsal" in stages:
            for env in per_env:
                problems, objects, references = rehearsal.rehearse(renderings, env, root)
                outcome.problems += [f"first sync: {problem}" for problem in problems]
                if objects == 0 or references == 0:
                    outcome.problems.append(f"first sync {env}: nothing on the timeline to rehearse")
                note(
                    f"first sync {env}: {objects} objects in the order they come to exist, "
                    f"{references} references of pods and custom resources, and every namespace, CRD, "
                    "host name and AppProject, checked against that order"
                )

        if "capacity" in stages:
            for env, targets in per_env.items():
                if not (root / "infrastructure/terraform/envs" / env).is_dir():
                    note(f"capacity {env}: no Terraform environment (make e2e's k3d cluster): not sized")
                    continue
                groups = {
                    "movies": [
                        o for t in targets if t.startswith(f"overlays/{env}/") for o in renderings[t].objects
                    ],
                    "argocd": renderings[f"clusters/{env}/argocd"].objects,
                }
                report = capacity.report(root, env, groups, deployed.helm_charts(renderings, env))
                note(report.table())
                outcome.problems += report.problems()

        if "checkov" in stages:
            files, seen = {}, set()
            for target in sorted({t for targets in per_env.values() for t in targets}):
                # CRDs carry no checkov checks (schema-validated above) but are most of the bytes;
                # two clusters rendering identical text are scanned once.
                rendering = render.Rendering(
                    target, [o for o in renderings[target].objects if o.kind != "CustomResourceDefinition"]
                )
                text = rendering.text()
                if text in seen:
                    continue
                seen.add(text)
                path = work / "checkov" / (target.replace("/", "--") + ".yaml")
                path.parent.mkdir(exist_ok=True)
                path.write_text(text)
                files[target] = path
            result = checkov_run.run(root, files)
            outcome.problems += [f"checkov: {line}" for line in result.failed]
            note(
                f"checkov: {result.resources} resources in {len(files)} rendered kustomizations; passed "
                f"{result.passed}, failed {len(result.failed)}, skipped {len(result.skipped)} "
                "(each by a manifest annotation)"
            )
    return outcome


def run_or_raise(root: Path, stages: tuple[str, ...] = STAGES, say: Callable[[str], None] = print) -> Outcome:
    outcome = run(root, stages, say)
    if outcome.problems:
        for problem in outcome.problems:
            say(f"FAIL {problem}")
        raise CloudctlError(f"{len(outcome.problems)} problem(s) in the GitOps tree (listed above)")
    return outcome
