"""The invalid corpus is refused where it matters: at ``milestone ready``, on SQLite and on PostgreSQL.

A sample of ``tests/fixtures/sql/invalid`` (every attack listed in issue 13 and a few of each family) is
added as SQL conditions of one milestone through the CLI; setting it Ready must fail with exit 1, list
every condition with the rule its fixture expects, and leave the milestone Pending.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import CliInvoke

INVALID = Path(__file__).resolve().parents[1] / "fixtures" / "sql" / "invalid"
MS = "US001/K1000/MS001/1"
FAMILIES = (
    "table_function_", "pg_function_", "sqlite_function_", "function_", "cast_", "like_", "date_",
    "division_", "text_", "interval_",
)  # fmt: skip


def _sample() -> list[Path]:
    paths = sorted(INVALID.glob("*.sql"))
    picked = [p for p in paths if p.stem.startswith("attack_")]
    for family in FAMILIES:
        picked += [p for p in paths if p.stem.startswith(family) and p not in picked][:3]
    return picked


def _fixture(path: Path) -> tuple[str, str]:
    lines = path.read_text().splitlines(keepends=True)
    expect = ""
    while lines and (m := re.match(r"--\s*(expect|at):(.*)$", lines[0].strip())):
        if m.group(1) == "expect":
            expect = m.group(2).strip()
        lines.pop(0)
    return expect, "".join(lines).strip()


def test_ready_refuses_the_corpus_on_both_databases(cli: CliInvoke) -> None:
    for args in (
        ["bu", "add", "US001"],
        ["contract", "add", "US001/K1000"],
        ["milestone", "add", "US001/K1000", "MS001"],
    ):
        assert cli(*args).exit_code == 0
    sample = _sample()
    assert len(sample) >= 40
    expected = []
    for path in sample:
        expect, sql = _fixture(path)
        result = cli("condition", "add", MS, "--type", "sql", "--sql", sql)
        assert result.exit_code == 0, (path.name, result.output)
        expected.append(expect)
    result = cli("milestone", "ready", MS)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: milestone {MS}: cannot be set Ready, edit checks failed:\n")
    problems = re.split(r"\n  - (?=condition \d+ \(SQL\))", result.stderr)[1:]
    assert len(problems) == len(sample)
    for number, (path, expect, problem) in enumerate(zip(sample, expected, problems, strict=True), start=1):
        assert problem.startswith(f"condition {number} (SQL): SQL rule: "), (path.name, problem)
        assert expect in problem, (path.name, problem)
    shown = cli("milestone", "show", MS, "--json")
    assert shown.exit_code == 0
    assert '"status": "Pending"' in shown.stdout
