"""Calling the CLI in tests: a command that must succeed, and one the rules or the input must refuse."""

from __future__ import annotations

from tests.conftest import CliInvoke


def ok(cli: CliInvoke, *args: str, user: str = "admin") -> str:
    """The standard output of a command that succeeds and writes nothing on standard error."""
    result = cli(*args, user=user)
    assert result.exit_code == 0, f"{args}: {result.output}"
    assert result.stderr == "", f"{args}: {result.stderr}"
    return result.stdout


def refused(cli: CliInvoke, *args: str, code: int = 1, user: str = "admin") -> str:
    """The message (without ``Error: ``) of a command refused with exit ``code``, which prints nothing else."""
    result = cli(*args, user=user)
    assert result.exit_code == code, f"{args}: {result.output}"
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    return result.stderr[len("Error: ") :].rstrip("\n")
