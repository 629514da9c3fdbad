"""``ms-prcs demo``: builds the demo database from scratch, runs the engine, and never replaces a database
that is not a demo one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ms_prcs.cli import main
from ms_prcs.demo import DEMO_APPLICATION_ID


def demo(*args: str, db: str | None = None) -> Result:
    options = ["--db", db] if db else []
    env: dict[str, str | None] = {"MS_PRCS_DB": None, "MS_PRCS_TZ": "UTC"}
    return CliRunner(env=env).invoke(main, [*options, "demo", *args], catch_exceptions=False)


def test_demo_with_the_default_database_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner(env={"MS_PRCS_DB": None})
    monkeypatch.chdir(tmp_path)  # the quick start: no --db, so ms_prcs.db in the current directory
    first = runner.invoke(main, ["demo", "--contracts", "6", "--as-of", "2026-11-23"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert Path("ms_prcs.db").exists()
    again = runner.invoke(main, ["demo", "--contracts", "6", "--as-of", "2026-11-23"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout  # rebuilt from scratch, the same way
    runs = runner.invoke(main, ["runs", "list", "--json"], catch_exceptions=False)
    assert runs.stdout.count('"process_instance"') == 2  # the old runs went with the old file

    lines = first.stdout.splitlines()
    assert lines[0].startswith("Demo database ms_prcs.db: 6 contracts in US001, US002, EU001, ")
    assert lines[2].startswith("Run 1 as of 2026-11-09 (two weeks earlier): ")
    assert lines[3].startswith("Run 2 as of 2026-11-23: ")
    assert "Milestones by status and business unit:" in lines
    assert "  ms-prcs runs show 2" in lines


def test_demo_covers_every_condition_type(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    result = demo("--contracts", "9", "--as-of", "2026-11-23", db=f"sqlite:///{path}")
    assert result.exit_code == 0, result.output

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == DEMO_APPLICATION_ID
        types = dict(
            conn.execute(
                "SELECT condition_type || coalesce('/' || source, ''), count(*) FROM milestone_condition"
                " WHERE condition_status = 'Completed' GROUP BY 1"
            ).fetchall()
        )
        required = {r for (r,) in conn.execute("SELECT DISTINCT required_conditions FROM milestone")}
        units = {u for (u,) in conn.execute("SELECT DISTINCT business_unit FROM contract")}
        lagged = conn.execute(
            "SELECT count(*) FROM milestone_condition WHERE days_lag > 0 AND condition_status = 'Completed'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert set(types) >= {"Date", "SQL", "User Initiated", "Milestone/Contracts", "Milestone/Projects"}
    assert required == {"ALL", "ONE"}
    assert units == {"US001", "US002", "EU001"}
    assert lagged > 0


def test_demo_refuses_to_replace_a_database_it_did_not_make(tmp_path: Path) -> None:
    path = tmp_path / "real.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contract (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    before = path.read_bytes()

    result = demo(db=f"sqlite:///{path}")

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: database {path}: is not a demo database (it was not made by `ms-prcs demo`), so the demo will"
        " not replace it; pass another --db, e.g. --db sqlite:///demo.db\n"
    )
    assert path.read_bytes() == before


@pytest.mark.parametrize("url", ["postgresql://someone@localhost/prod", "sqlite://"])
def test_demo_builds_sqlite_files_only(url: str) -> None:
    result = demo(db=url)

    assert result.exit_code == 1
    assert "the demo builds SQLite files only; pass --db sqlite:///demo.db" in result.stderr
