"""The engine stays linear in N: no statement of a chunk or a chain pass reads the whole ``milestone`` or
``milestone_condition`` table.

A full scan per chunk or per pass is cheap on a small test database and quadratic on a large one (each of
the hundreds of passes of a million-milestone run walked the whole table), so timing tests cannot catch it;
the query plans can. On the benchmark's data (with ``ANALYZE``, as the generator leaves it, and with
workflow steps on some contracts so that the steps rule has work), every statement the engine runs inside
a chunk (which includes its chain passes and the steps rule) is explained on the same connection just before
it runs, so the plan is the one the database then uses, over the scratch tables as they are filled:

- SQLite (``EXPLAIN QUERY PLAN``): no ``SCAN`` of either table or an alias of it (with or without an
  index: a scan of a whole index is as long), and no ``BLOOM FILTER`` on it (building one reads the whole
  table, which is what SQLite did on every pass);
- PostgreSQL (``EXPLAIN (FORMAT JSON)``): no ``Seq Scan`` on either table, and no index scan of it
  without an index condition;
- both: every index search of either table is driven by a key (:data:`KEYS`), never by a status alone:
  "every Completed milestone" grows through the run, so a statement driven by it reads more each chunk (the
  feed's statements did, on PostgreSQL, through the status index: a quadratic run).
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from benchmarks.generate import AS_OF, generate
from contracts.models import Milestone
from ms_prcs.approvals.models import MilestoneWorkflow
from ms_prcs.engine import RunControl, complete, process, sqlconds
from ms_prcs.settings import Settings

MILESTONES = 20_000
"""Large enough that both planners prefer a scan to thousands of probes when the statement lets them."""

BIG_TABLES = ("milestone", "milestone_condition")
KEYS = re.compile(r"\b(id|milestone_pk|ref_milestone_pk|contract_pk|rowid)\b")
"""What a chunk's or pass's statement may search the big tables by: ids, from its own ids, or one contract
(the steps rule reads the earlier steps of a milestone's own contract)."""

# the module, not the function ``ms_prcs.engine.process`` that the package exports under the same name
process_module = importlib.import_module("ms_prcs.engine.process")


@dataclass
class Captured:
    """Statements run while ``phase`` was set, each with its plan and the phase it ran in."""

    phase: str | None = None
    plans: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # statement -> (phase, bad lines)
    statements: int = 0


def _aliases(statement: str) -> dict[str, str]:
    """Every name under which a big table appears in ``statement`` (the table itself and its aliases)."""
    names = {t: t for t in BIG_TABLES}
    for table, alias in re.findall(r"\b(milestone_condition|milestone) AS (\w+)", statement):
        names[alias] = table
    return names


def _sqlite_bad(cursor: Any, statement: str, params: Any) -> list[str]:
    rows = cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
    names = _aliases(statement)
    bad = []
    for row in rows:
        detail = str(row[-1])
        match = re.match(r"(SCAN|BLOOM FILTER ON) (\w+)\b", detail)
        if match and match.group(2) in names:
            bad.append(f"{detail}  [{names[match.group(2)]}]")
        search = re.match(r"SEARCH (\w+) USING .*?\((.*)\)", detail)
        if search and search.group(1) in names and not KEYS.search(search.group(2)):
            bad.append(f"{detail}  [{names[search.group(1)]}: not by a key]")
    return bad


def _pg_bad(cursor: Any, statement: str, params: Any) -> list[str]:
    with cursor.connection.cursor() as explain:
        explain.execute("EXPLAIN (FORMAT JSON) " + statement, params)
        plan = explain.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    with cursor.connection.cursor() as indexes:
        indexes.execute("SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)", (list(BIG_TABLES),))
        big_indexes = {row[0] for row in indexes.fetchall()}
    bad: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        relation = node.get("Relation Name")
        kind = node.get("Node Type", "")
        if relation in BIG_TABLES:
            if kind == "Seq Scan":
                bad.append(f"Seq Scan on {relation} {node.get('Alias', '')}")
            elif kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node:
                bad.append(f"{kind} on {relation} {node.get('Alias', '')} without an index condition")
        index = node.get("Index Name", "")
        on_big = relation in BIG_TABLES or (kind == "Bitmap Index Scan" and index in big_indexes)
        if on_big and "Index Cond" in node and not KEYS.search(node["Index Cond"]):
            bad.append(f"{kind} using {index}: {node['Index Cond']} (not by a key)")
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan[0]["Plan"])
    return bad


@contextmanager
def capturing(engine: sa.Engine) -> Iterator[Captured]:
    """Explain every statement the engine runs while ``Captured.phase`` is set, before it runs."""
    captured = Captured()
    explain = _sqlite_bad if engine.dialect.name == "sqlite" else _pg_bad

    def before(
        _conn: sa.Connection, cursor: Any, statement: str, params: Any, _context: Any, executemany: bool
    ) -> None:
        if captured.phase is None or executemany:
            return
        if not statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            return
        captured.statements += 1
        if statement in captured.plans:
            return
        captured.plans[statement] = (captured.phase, explain(cursor, statement, params))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _in_phase(captured: Captured, name: str | None, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with ``captured.phase`` set to ``name`` while it runs (None: not explained)."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        outer = captured.phase
        captured.phase = name if name is None or outer in (None, "chunk") else outer
        try:
            return function(*args, **kwargs)
        finally:
            captured.phase = outer

    return wrapped


def _add_steps(engine: sa.Engine) -> int:
    """Workflow steps on every fifth contract: its 20 milestones in steps 1..4 (5 a step), a few any-time."""
    m = Milestone.__table__
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(m.c.id, m.c.milestone_id).where(m.c.contract_pk % 5 == 0).order_by(m.c.id)
        ).all()
        values = [
            {
                "milestone_pk": pk,
                "step": (int(mid[2:]) - 1) // 5 + 1,
                "sub_step": 0,
                "any_time": int(mid[2:]) % 7 == 0,
            }
            for pk, mid in rows
        ]
        conn.execute(sa.insert(MilestoneWorkflow), values)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    return len(values)


@pytest.mark.slow
@pytest.mark.parametrize("steps", [False, True], ids=["no-steps", "steps"])
def test_no_chunk_or_chain_pass_statement_scans_a_big_table(
    engine: sa.Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, steps: bool
) -> None:
    """Without workflow steps (the benchmark's data) and with them: the planners choose differently."""
    generate(engine, MILESTONES, seed=3, units=3)
    if steps:
        assert _add_steps(engine) > 1000
    with capturing(engine) as captured:
        monkeypatch.setattr(process_module, "_chunk", _in_phase(captured, "chunk", process_module._chunk))
        monkeypatch.setattr(complete, "chain_pass", _in_phase(captured, "chain pass", complete.chain_pass))
        # the Ready SQL conditions of each chunk's window, read before the chunk's transaction
        window = sqlconds.SqlStatements._pending
        monkeypatch.setattr(sqlconds.SqlStatements, "_pending", _in_phase(captured, "sql window", window))
        monkeypatch.setattr(
            sqlconds.SqlStatements, "_any_ready", _in_phase(captured, None, sqlconds.SqlStatements._any_ready)
        )
        # whether the run has Milestone conditions or workflow steps at all: asked once per run, not per pass
        monkeypatch.setattr(complete, "_present", _in_phase(captured, None, complete._present))
        # small chunks: many of them, and chains crossing their boundaries, as in a large run
        result = process(engine, RunControl(as_of=AS_OF), Settings(db_url=db_url, chunk_size=2_000))
    assert result.chunks >= 9 and result.passes > result.chunks  # chains were followed across passes
    assert result.milestones_completed > MILESTONES // 3
    phases = {phase for phase, _bad in captured.plans.values()}
    assert phases == {"chunk", "chain pass", "sql window"}
    scans = {
        f"[{phase}] {' '.join(statement.split())[:160]}": bad
        for statement, (phase, bad) in captured.plans.items()
        if bad
    }
    assert not scans, json.dumps(scans, indent=2)
