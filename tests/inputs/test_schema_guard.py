"""The schema guard: a database whose schema revision this version does not know (newer, or not ms-prcs's)
is refused by every command, ``init`` included; an older one, or none, asks for ``ms-prcs init``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event, text

from ms_prcs.cli import main
from ms_prcs.db import check_schema, known_revisions
from tests.conftest import CliInvoke
from tests.contracts.helpers import dump

HEAD = max(known_revisions()[1])
COMMANDS = [
    ["bu", "add", "US009"],
    ["run", "--bu", "US001"],
    ["runs", "list"],
    ["contract", "list"],
    ["load", "examples/contracts.yaml"],
    ["schedule", "--every-minutes", "5"],
]


@contextmanager
def revision(engine: Engine, value: str) -> Iterator[None]:
    """The database claims schema revision ``value`` for the block (the PostgreSQL database is shared)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": value})
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": HEAD})


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_a_newer_schema_is_refused_by_every_command(cli: CliInvoke, engine: Engine, args: list[str]) -> None:
    with revision(engine, "9999_from_the_future"):
        before = dump(engine)
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert "has schema revision 9999_from_the_future, which this version of ms-prcs does not know" in (
            result.stderr
        )
        assert f"(its latest is {HEAD}): it was made by a newer ms-prcs, use that one\n" in result.stderr
        assert dump(engine) == before


def test_init_refuses_a_newer_schema_without_a_traceback(cli: CliInvoke, engine: Engine) -> None:
    with revision(engine, "9999_from_the_future"):
        before = dump(engine)
        result = cli("init")
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ") and "use that one" in result.stderr
        assert dump(engine) == before


def test_an_older_schema_asks_for_init(cli: CliInvoke, engine: Engine) -> None:
    older = sorted(known_revisions()[0] - {HEAD})[-1]
    with revision(engine, older):
        result = cli("bu", "add", "US009")
        assert result.exit_code == 1
        assert f"has schema revision {older}, older than this version's {HEAD}: run `ms-prcs init`" in (
            result.stderr
        )
    assert cli("bu", "add", "US009").exit_code == 0  # at head again, the same command goes through


def test_a_database_without_a_schema_asks_for_init(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    result = CliRunner().invoke(main, ["--db", url, "bu", "add", "US001"])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {url} has no ms-prcs schema: run `ms-prcs init`\n",
    )
    assert CliRunner().invoke(main, ["--db", url, "init"]).exit_code == 0
    assert CliRunner().invoke(main, ["--db", url, "bu", "add", "US001"]).exit_code == 0


def test_the_guard_is_one_cheap_select(engine: Engine) -> None:
    """The revision with one SELECT (the head is read from the migration files, see below)."""
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    check_schema(engine)
    assert statements == ["SELECT version_num FROM alembic_version"]


def test_a_command_does_not_import_alembic(db_url: str) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from ms_prcs.cli import main\n"
        "try:\n    main(['--db', sys.argv[1], 'runs', 'list'])\n"
        "except SystemExit:\n    pass\n"
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, db_url], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
