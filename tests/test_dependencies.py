"""The runtime dependencies in pyproject.toml are what the product imports, no more."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("monitor", "connectors")
# Runtime pins the product needs without importing them itself, with the reason.
NOT_IMPORTED = {
    "lxml-html-clean": "lxml.html.clean, which trafilatura imports, lives in this package",
}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~;, ]", requirement, maxsplit=1)[0]).lower()


def runtime_dependencies() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {_name(r) for r in meta["project"]["dependencies"]}


def imported_distributions() -> set[str]:
    """The installed distributions whose top-level modules the product's code imports."""
    modules: set[str] = set()
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    providers = metadata.packages_distributions()
    return {
        _name(dist)
        for module in modules - set(sys.stdlib_module_names) - set(PRODUCT)
        for dist in providers.get(module, [])
    }


def test_every_runtime_dependency_is_imported_by_the_product() -> None:
    unused = runtime_dependencies() - imported_distributions() - set(NOT_IMPORTED)
    assert unused == set(), (
        f"pyproject.toml [project] dependencies the product never imports: {sorted(unused)}"
        " (move test or tool dependencies to [project.optional-dependencies])"
    )


def test_test_only_libraries_are_a_test_extra() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    test_extra = {_name(r) for r in meta["project"]["optional-dependencies"]["test"]}
    assert "jsonschema" in test_extra
    assert "jsonschema" not in runtime_dependencies()
