"""DESIGN 9: contracts <- conditions, billing_plans <- ms_prcs <- jobs. A module may import only its own layer
and the layers below it. Module-level imports only: ``ms-prcs schedule`` imports ``jobs`` inside the command,
the one documented exception at the edge."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED: dict[str, set[str]] = {
    "contracts": {"contracts"},
    "conditions": {"contracts", "conditions"},
    "billing_plans": {"contracts", "conditions", "billing_plans"},
    "ms_prcs": {"contracts", "conditions", "billing_plans", "ms_prcs", "sql"},
    "jobs": {"contracts", "conditions", "billing_plans", "ms_prcs", "jobs"},
}
PROJECT = set(ALLOWED) | {"sql"}


def module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in tree.body:  # not nested: imports inside functions are deliberate, lazy edges
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(
            node, ast.If
        ):  # ``if TYPE_CHECKING:`` blocks count: the types belong to the layer too
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                    names.add(inner.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_their_own_layer_and_below(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted((module_level_imports(path) & PROJECT) - ALLOWED[package])
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {file: names for file, names in offenders.items() if names} == {}


def test_pandas_stays_in_the_reports() -> None:
    users = [
        str(path.relative_to(ROOT))
        for package in ALLOWED
        for path in (ROOT / package).rglob("*.py")
        if "pandas" in module_level_imports(path) and "reports" not in path.parts
    ]
    assert users == []
