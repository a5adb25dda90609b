"""`make lint`'s own checks fail on a broken input: mypy (strict), the import contracts, and the
rule that a `# type: ignore` names its error code and gives its reason on the same line.

A check that passes by doing nothing is a bug, so each case breaks one thing on purpose and expects
that check to fail, next to an unbroken control that passes. mypy and lint-imports run with the
repository's own settings (pyproject.toml), as `make lint` runs them, but over temporary copies.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# --- mypy -------------------------------------------------------------------------------------

# A small module of services/common with only standard-library imports, so mypy reads little.
MYPY_SAMPLE = ROOT / "services" / "common" / "errors.py"


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for this file's mypy runs (never the repository's own .mypy_cache)."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(module: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """mypy with pyproject.toml's [tool.mypy] settings, on `module` instead of the configured files."""
    return subprocess.run(
        [str(BIN / "mypy"), "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache)]
        + ["--no-error-summary", str(module)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_mypy_passes_an_unchanged_copy_of_a_module(tmp_path: Path, mypy_cache: Path) -> None:
    module = tmp_path / "lint_probe.py"
    module.write_text(MYPY_SAMPLE.read_text())
    done = mypy(module, mypy_cache)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("added", "code"),
    [
        ("def unannotated(value):\n    return value\n", "no-untyped-def"),
        ('count: int = "three"  # type: ignore\n', "ignore-without-code"),
    ],
    ids=["unannotated-function", "ignore-without-code"],
)
def test_mypy_fails_a_copy_with_one_strict_error(
    tmp_path: Path, mypy_cache: Path, added: str, code: str
) -> None:
    module = tmp_path / "lint_probe.py"
    module.write_text(f"{MYPY_SAMPLE.read_text()}\n\n{added}")
    done = mypy(module, mypy_cache)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"[{code}]" in done.stdout, done.stdout


# --- import contracts -------------------------------------------------------------------------

IMPORT_LINTER = PYPROJECT["tool"]["importlinter"]
CONTRACTS = [contract["name"] for contract in IMPORT_LINTER["contracts"]]
# make lint's PYTHONPATH: pytest's pythonpath (mk/ci.mk), each root package in one of its folders.
IMPORT_PATH = PYPROJECT["tool"]["pytest"]["ini_options"]["pythonpath"]


def package_folders() -> dict[str, str]:
    """Each root package of the contracts -> its folder in the repository (`services/common`, ...)."""
    folders = {
        package: f"{entry}/{package}"
        for entry in IMPORT_PATH
        for package in IMPORT_LINTER["root_packages"]
        if (ROOT / entry / package / "__init__.py").is_file()
    }
    assert set(folders) == set(IMPORT_LINTER["root_packages"]), "a root package is in no pythonpath folder"
    return folders


def lint_imports(tree: Path) -> tuple[int, dict[str, str]]:
    """lint-imports with pyproject.toml's contracts over `tree`: (exit code, contract name -> KEPT/BROKEN)."""
    done = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(str(tree / entry) for entry in IMPORT_PATH)},
        capture_output=True,
        text=True,
        check=False,
    )
    verdicts = {
        name: verdict
        for name in CONTRACTS
        for verdict in ("KEPT", "BROKEN")
        if re.search(rf"^{re.escape(name)} {verdict}$", done.stdout, re.MULTILINE)
    }
    return done.returncode, verdicts


def package_tree(root: Path, imports: dict[str, str]) -> Path:
    """Every root package, empty, laid out as in the repository; `imports` adds one import to a package."""
    for package, folder in package_folders().items():
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
        if package in imports:
            (root / folder / "probe.py").write_text(f"import {imports[package]}\n")
    return root


def test_lint_imports_keeps_every_contract_of_packages_that_import_nothing(tmp_path: Path) -> None:
    code, verdicts = lint_imports(package_tree(tmp_path, {}))
    assert (code, verdicts) == (0, dict.fromkeys(CONTRACTS, "KEPT"))


@pytest.mark.parametrize(
    ("importer", "imported", "broken"),
    [
        ("inventory", "api_gateway", "each service imports only common, never another service"),
        ("billing", "cloudctl", "services import neither the CLI nor the developer tools"),
        ("common", "billing", "common is shared code: it imports no service"),
        ("cloudctl", "common", "cloudctl imports nothing from services/ (it runs them as subprocesses)"),
    ],
)
def test_lint_imports_breaks_the_contract_an_import_crosses(
    tmp_path: Path, importer: str, imported: str, broken: str
) -> None:
    code, verdicts = lint_imports(package_tree(tmp_path, {importer: imported}))
    assert code != 0
    assert verdicts == {name: "BROKEN" if name == broken else "KEPT" for name in CONTRACTS}


# --- `# type: ignore` with a code and a reason ------------------------------------------------

TYPE_IGNORE = re.compile(r"type:\s*ignore")
# `# type: ignore[code, ...]  # why`: the codes mypy may ignore, then the reason as a comment.
EXPLAINED_IGNORE = re.compile(r"#\s*type:\s*ignore\[[a-z-]+(,\s*[a-z-]+)*\]\s*#\s*\S")
CHECKED_FOLDERS = ("services", "infrastructure")


def unexplained_ignores(source: str) -> list[int]:
    """Lines whose `# type: ignore` comment lacks an error code or a reason after it."""
    return [
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
        and TYPE_IGNORE.search(token.string)
        and not EXPLAINED_IGNORE.search(token.string)
    ]


@pytest.mark.parametrize(
    "line",
    [
        "import pika  # type: ignore\n",
        "import pika  # type: ignore[import-untyped]\n",
        "import pika  # type: ignore[import-untyped]  #\n",
        "import pika  # type:ignore # pika ships no hints\n",
    ],
)
def test_a_type_ignore_without_code_and_reason_is_refused(line: str) -> None:
    assert unexplained_ignores(line) == [1]


@pytest.mark.parametrize(
    "line",
    [
        "import pika  # type: ignore[import-untyped]  # pika ships no hints\n",
        "value = f(x)  # type: ignore[arg-type, return-value]  # f's stub is wrong about None\n",
        'text = "# type: ignore"  # a string, not a comment\n',
    ],
)
def test_a_type_ignore_with_code_and_reason_passes(line: str) -> None:
    assert unexplained_ignores(line) == []


def test_every_type_ignore_in_the_code_has_a_code_and_a_reason() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in CHECKED_FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in unexplained_ignores(path.read_text())
    ]
    assert found == [], "a `# type: ignore` needs `[error-code]  # reason` on its line"
