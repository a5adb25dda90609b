"""Render every kustomization of the GitOps tree offline, remembering each object's source file.

The tree is copied to a scratch directory; there every remote resource (a pinned URL) is replaced
by its local copy (upstream.fetch) and `buildMetadata: [originAnnotations]` is switched on, so each
rendered object names the file it came from. Components no kustomization uses are rendered through
a one-line harness. A kustomization that renders nothing is an error, never a pass.

Where a cluster's root is an ApplicationSet fed by its cluster Secret, the copy is first changed
the way Argo CD changes what it builds (bridge.py), against the example Secret, so every
rendering is what that cluster would run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cloudctl.bootstrap import cluster_secret
from cloudctl.errors import CloudctlError
from cloudctl.manifests import bridge, tree, upstream

# libyaml: the Argo CD install is megabytes of CRDs
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
ORIGIN = "config.kubernetes.io/origin"
UPSTREAM_PREFIX = "upstream--"
ROOT_FILE = "root.yaml"


@dataclass
class Obj:
    """One rendered object and the repository file (or pinned URL) it came from."""

    doc: dict[str, Any]
    source: str

    @property
    def kind(self) -> str:
        kind: str = self.doc.get("kind", "")
        return kind

    @property
    def name(self) -> str:
        name: str = (self.doc.get("metadata") or {}).get("name", "")
        return name

    @property
    def namespace(self) -> str:
        namespace: str = (self.doc.get("metadata") or {}).get("namespace", "")
        return namespace

    def label(self) -> str:
        return f"{self.kind}/{self.name}"

    def where(self) -> str:
        return f"{self.source}: {self.label()}"


@dataclass
class Rendering:
    target: str  # the kustomization folder, relative to the repository
    objects: list[Obj] = field(default_factory=list)

    def text(self) -> str:
        return yaml.dump_all([o.doc for o in self.objects], Dumper=DUMPER, sort_keys=False)

    def find(self, kind: str, name: str) -> Obj | None:
        return next((o for o in self.objects if o.kind == kind and o.name == name), None)


def discover(root: Path) -> tuple[list[str], list[str]]:
    """(kustomizations, components) under the GitOps folders, as repository-relative folders."""
    kustomizations: list[str] = []
    components: list[str] = []
    for top in tree.GITOPS_DIRS:
        for path in sorted((root / top).rglob(tree.KUSTOMIZATION)):
            doc = yaml.safe_load(path.read_text()) or {}
            folder = path.parent.relative_to(root).as_posix()
            (components if doc.get("kind") == "Component" else kustomizations).append(folder)
    return kustomizations, components


def _prepare_copy(root: Path, work: Path, cache: Path) -> dict[str, str]:
    """Copy the tree into `work`, localise pinned URLs, switch on origins; returns local→URL."""
    local_to_url: dict[str, str] = {}
    for top in tree.GITOPS_DIRS:
        if (root / top).is_dir():
            shutil.copytree(root / top, work / top)
    for path in sorted(work.rglob(tree.KUSTOMIZATION)):
        doc = yaml.safe_load(path.read_text()) or {}
        relative = path.relative_to(work).as_posix()
        resources = []
        for entry in doc.get("resources") or []:
            if isinstance(entry, str) and "://" in entry:
                if entry not in upstream.PINNED:
                    raise CloudctlError(
                        f"{relative}: remote resource {entry} is not pinned in cloudctl/manifests/upstream.py"
                    )
                local_name = UPSTREAM_PREFIX + Path(upstream.PINNED[entry]).name
                shutil.copyfile(upstream.fetch(entry, cache), path.parent / local_name)
                local_to_url[(path.parent / local_name).relative_to(work).as_posix()] = entry
                entry = local_name
            resources.append(entry)
        if "resources" in doc:
            doc["resources"] = resources
        doc["buildMetadata"] = sorted(set(doc.get("buildMetadata") or []) | {"originAnnotations"})
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return local_to_url


def _referenced_components(work: Path, components: list[str]) -> set[str]:
    used = set()
    for path in work.rglob(tree.KUSTOMIZATION):
        for entry in (yaml.safe_load(path.read_text()) or {}).get("components") or []:
            used.add(os.path.normpath((path.parent / entry).relative_to(work).as_posix()))
    return used & set(components)


def _harness(work: Path, component: str) -> str:
    folder = work / ".harness" / component.replace("/", "--")
    folder.mkdir(parents=True)
    relative = os.path.relpath(work / component, folder)
    (folder / tree.KUSTOMIZATION).write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "components": [relative],
                "buildMetadata": ["originAnnotations"],
            }
        )
    )
    return folder.relative_to(work).as_posix()


def _build(kubectl: Path, work: Path, folder: str, target: str, local_to_url: dict[str, str]) -> Rendering:
    result = subprocess.run(
        [str(kubectl), "kustomize", str(work / folder)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        message = result.stderr.strip().replace(str(work) + "/", "")
        raise CloudctlError(f"{target}: kubectl kustomize failed: {message}")
    rendering = Rendering(target)
    for doc in yaml.load_all(result.stdout, Loader=LOADER):
        if not doc:
            continue
        annotations = doc.get("metadata", {}).get("annotations") or {}
        origin = yaml.safe_load(annotations.pop(ORIGIN, "") or "") or {}
        if not annotations and "annotations" in doc.get("metadata", {}):
            del doc["metadata"]["annotations"]
        source = (
            os.path.normpath((work / folder / origin["path"]).relative_to(work).as_posix())
            if "path" in origin
            else target
        )
        source = local_to_url.get(source, source)
        rendering.objects.append(Obj(doc, source))
    if not rendering.objects:
        raise CloudctlError(f"{target}: renders zero objects")
    return rendering


def _bridge(kubectl: Path, contract_root: Path, work: Path, local_to_url: dict[str, str]) -> dict[str, Obj]:
    """For each cluster whose root.yaml holds an ApplicationSet: write its generated root
    Application's and then every child Application's `kustomize` field into the folders they
    build. Returns {cluster folder: the generated root Application}."""
    roots: dict[str, Obj] = {}
    for root_yaml in sorted((work / "clusters").glob(f"*/{ROOT_FILE}")):
        appsets = [
            doc
            for doc in yaml.safe_load_all(root_yaml.read_text())
            if isinstance(doc, dict) and doc.get("kind") == "ApplicationSet"
        ]
        if not appsets:
            continue
        folder = root_yaml.parent.relative_to(work).as_posix()
        environment = folder.split("/")[-1]
        app = bridge.generate(
            appsets[0], cluster_secret.example(environment, tree.ecr_repository_names(contract_root))
        )
        roots[folder] = Obj(app, f"{folder}/{ROOT_FILE}")
        applied = {folder: app}
        _apply_source(work, app, folder)
        for child in _build(kubectl, work, folder, folder, local_to_url).objects:
            source = child.doc.get("spec", {}).get("source") or {}
            if child.kind == "Application" and "kustomize" in source and "chart" not in source:
                path = source.get("path", "")
                if path in applied:
                    raise CloudctlError(
                        f"{child.where()}: {path} is also built by {applied[path]['metadata']['name']}"
                    )
                applied[path] = child.doc
                _apply_source(work, child.doc, child.where())
    return roots


def _apply_source(work: Path, app: dict[str, Any], where: str) -> None:
    source = app["spec"].get("source") or {}
    kustomization = work / source.get("path", "") / tree.KUSTOMIZATION
    if not kustomization.is_file():
        return  # deployed.targets names a source path that is not a kustomization
    bridge.apply_kustomize(kustomization, source.get("kustomize") or {})


def render_all(
    root: Path, work: Path, only: list[str] | None = None, contract_root: Path | None = None
) -> list[Rendering]:
    """Render every kustomization (or only those named) and every otherwise unused component.
    The cluster Secret's ECR images are those of `contract_root`'s contract.yaml (default: root's)."""
    kubectl = tree.kubectl()  # the tool's own pinned kubectl, whatever tree is checked
    kustomizations, components = discover(root)
    if not kustomizations:
        raise CloudctlError(f"no {tree.KUSTOMIZATION} under {', '.join(tree.GITOPS_DIRS)}: nothing to render")
    local_to_url = _prepare_copy(root, work / "tree", work / "cache")
    copy = work / "tree"
    roots = _bridge(kubectl, root if contract_root is None else contract_root, copy, local_to_url)
    jobs = [(k, k) for k in kustomizations]
    jobs += [(_harness(copy, c), c) for c in components if c not in _referenced_components(copy, components)]
    if only:
        unknown = set(only) - {target for _, target in jobs}
        if unknown:
            raise CloudctlError(f"not a kustomization or component: {', '.join(sorted(unknown))}")
        jobs = [job for job in jobs if job[1] in only]
    with ThreadPoolExecutor(max_workers=4) as pool:
        renderings = list(pool.map(lambda job: _build(kubectl, copy, job[0], job[1], local_to_url), jobs))
    for rendering in renderings:
        if rendering.target in roots:  # the Application the root ApplicationSet generates
            rendering.objects.append(roots[rendering.target])
    return renderings
