"""DESIGN 9, as the code really is:

    contracts <- conditions <- billing_plans <- ms_prcs (engine and library) <- jobs <- ms_prcs.cli, ms_prcs.service

A module may import only its own layer and the layers below it. EVERY import counts: at module level, inside
functions (a lazy import is still an edge), under ``if TYPE_CHECKING:`` (the types belong to the layer too),
relative ones resolved against the module's package. ``ms_prcs.cli`` and ``ms_prcs.service`` are the top
floor although they live inside the ``ms_prcs`` package: nothing else in ``ms_prcs`` may import them.

The approval layer (DESIGN 11) is one package on the ``ms_prcs`` floor, ``ms_prcs.approvals``: it needs
``billing_plans`` and the engine, so no domain package may import it; ``contracts`` reaches what it needs of
it (a template's approval rules, the approval check of Mark Complete) only through its callers, which use
``ms_prcs.approvals.hooks``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("contracts",),
    ("conditions",),
    ("billing_plans",),
    ("ms_prcs", "sql"),
    ("jobs",),
    ("ms_prcs.cli", "ms_prcs.service", "ms_prcs.__main__"),
)
"""Bottom to top; the layer of a module is that of its longest matching name."""
PACKAGES = ("contracts", "conditions", "billing_plans", "ms_prcs", "jobs")


def layer_of(module: str) -> int | None:
    """The layer index of a dotted module name, or None for a module outside the project."""
    best: tuple[int, int] | None = None
    for index, names in enumerate(LAYERS):
        for name in names:
            matches = module == name or module.startswith(name + ".")
            if matches and (best is None or len(name) > best[0]):
                best = (len(name), index)
    return None if best is None else best[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file, as absolute dotted names."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    return imports_in(path.read_text(), package)


def imports_in(source: str, package: list[str]) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            # ``from ms_prcs import cli`` imports ms_prcs.cli: a name that is a submodule counts too
            names |= {f"{module}.{a.name}" for a in node.names if _is_module(f"{module}.{a.name}")}
    return names


def sources() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def offences() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sources():
        own = layer_of(module_name(path))
        assert own is not None, path
        above = sorted(
            name for name in imports(path) if (layer := layer_of(name)) is not None and layer > own
        )
        if above:
            found[str(path.relative_to(ROOT))] = above
    return found


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def test_every_import_points_down_or_sideways() -> None:
    assert offences() == {}


@pytest.mark.parametrize(
    ("module", "source", "caught"),
    [
        ("contracts.x", "def f():\n    import ms_prcs.engine\n", True),
        (
            "conditions.x",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from jobs import config\n",
            True,
        ),
        ("ms_prcs.engine.x", "def f():\n    from ms_prcs.cli import main\n", True),
        ("ms_prcs.engine.x", "def f():\n    from ms_prcs import cli\n", True),
        ("ms_prcs.engine.x", "from .. import cli\n", True),
        ("jobs.x", "from ms_prcs.service import app\n", True),
        ("ms_prcs.cli.x", "import jobs.config\nfrom ms_prcs.engine import process\n", False),
        ("billing_plans.x", "from conditions.ready import make_ready\n", False),
        ("contracts.x", "from ms_prcs.approvals.models import ApprovalRule\n", True),
        ("conditions.x", "def f():\n    from ms_prcs.approvals import view\n", True),
        ("ms_prcs.engine.x", "from ms_prcs.approvals.steps import earlier\n", False),
    ],
)
def test_the_checker_sees_imports_wherever_they_are(module: str, source: str, caught: bool) -> None:
    """The checker itself: an import in a function, under TYPE_CHECKING or relative is an edge."""
    own = layer_of(module)
    assert own is not None
    names = imports_in(source, module.split(".")[:-1])
    above = [n for n in names if (layer := layer_of(n)) is not None and layer > own]
    assert bool(above) is caught, above


def test_pandas_stays_in_the_reports() -> None:
    users = [
        str(path.relative_to(ROOT))
        for path in sources()
        if any(name.split(".")[0] == "pandas" for name in imports(path)) and "reports" not in path.parts
    ]
    assert users == []
