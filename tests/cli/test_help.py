"""Every command of ``ms-prcs`` has help text, and ``--help`` works for each (sqlite-utils' test_docs idea)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ms_prcs.cli.full import main


def walk(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


COMMANDS = list(walk(main))


def test_the_issue_2_commands_exist() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    assert {
        "init",
        "load",
        "bu add",
        "role add",
        "user add",
        "classification add",
        "contract add",
        "contract show",
        "contract list",
        "contract status",
        "contract line add",
        "contract attr set",
        "milestone add",
        "milestone list",
        "milestone show",
        "milestone ready",
        "milestone pending",
        "milestone cancel",
        "condition add",
        "condition update",
        "condition delete",
        "condition complete",
        "condition undo",
        "project activity add",
        "project activity status",
        "project activity inactivate",
        "template milestone add",
        "template milestone list",
        "template milestone show",
    } <= paths


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "ms-prcs" for p, _ in COMMANDS])
def test_every_command_has_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"`ms-prcs {' '.join(path)}` has no help text"
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    first_line = command.help.strip().splitlines()[0]  # type: ignore[union-attr]
    assert " ".join(first_line.split()[:3]) in " ".join(result.output.split())


def test_every_command_is_found_where_the_lazy_list_says() -> None:
    """``ms_prcs.cli.COMMANDS`` names each top-level command's module (imported when the command is asked
    for): every module's commands are listed, under the module that defines them, and nothing else."""
    from ms_prcs.cli import COMMANDS

    defined = {
        name: command.callback.__module__ for name, command in main.commands.items() if command.callback
    }
    assert defined == {name: f"ms_prcs.cli.{module}" for name, module in COMMANDS.items()}


def test_a_command_imports_only_its_own_module() -> None:
    """``ms-prcs run`` starts without the other commands, the service, pandas and the load files' loaders."""
    probe = (
        "import sys\n"
        "from ms_prcs.cli import main\n"
        "try:\n"
        "    main(['run', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('ms_prcs.cli.') or m in"
        " ('ms_prcs.service', 'ms_prcs.load.files', 'pandas', 'fastapi')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    loaded = out.stdout.strip().splitlines()[-1]
    assert loaded == str(
        ["ms_prcs.cli.context", "ms_prcs.cli.output", "ms_prcs.cli.params", "ms_prcs.cli.run"]
    )
