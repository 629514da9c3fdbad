"""Every command of ``ms-prcs`` has help text, and ``--help`` works for each (sqlite-utils' test_docs idea)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from ms_prcs.cli import main


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
