"""The honest floor: the fewest fast set-based statements that leave exactly the engine's end state.

``python -m benchmarks.floor --db URL [--as-of D] [--no-audit-feed]``

What a run over every business unit changes, written the cheapest way the rules allow, in ONE transaction
with the engine's connection settings (``ms_prcs.db.make_engine``'s SQLite pragmas, scratch tables in
memory): the same milestones and conditions Completed with the same dates, the same StatusChange rows (one
per completed condition and milestone, same reasons) and the same feed entries (one per completed milestone
and per eligible plan event, same contents). Nothing else: no run row, run lock, chunks, messages, SQL guard
connection or warnings, which the engine also pays for and this does not.

The rules are the engine's own expressions, imported, not retyped, so the two cannot disagree:
:func:`conditions.registry.verdict` (Date, User Initiated, Milestone from either source with
:func:`conditions.milestone.lag_met`), :func:`contracts.required.satisfied_sql` (ALL / ONE),
:func:`conditions.milestone.is_contracts`, the SQL conditions' ``EXISTS`` rendering of
:mod:`conditions.sql` grouped by :func:`conditions.sql_rules.validate_sql`'s normalized text,
:func:`contracts.audit.record_changes_from` and :func:`billing_plans.feed.publish_completions` /
:func:`~billing_plans.feed.publish_date_events`. Statements, in order:

1. one verdict pass over every Ready condition of every Ready milestone (``INSERT .. SELECT``);
2. SQL conditions: one query for their distinct texts, then one statement per distinct normalized
   statement, over all its candidates at once;
3. the milestones satisfied by those verdicts (one ``INSERT .. SELECT``), then the chains: one
   ``INSERT .. SELECT`` per link, each starting from the milestones the previous link completed (through the
   index on ``ref_milestone_pk``), so the passes together read each chain edge once; then the chain
   conditions those completions met, and the Mark Complete dates after the as-of date that a completion caps
   (the engine's rule: a condition is never completed after its milestone);
4. one ``UPDATE`` of ``milestone_condition`` and one of ``milestone``;
5. two ``INSERT .. SELECT`` of StatusChange rows and the feed's inserts.

The floor models the rules the benchmark's data exercises. Workflow steps, approval rules and holds also
change what a run does (steps order completions, a run submits approvals and releases one-cycle holds); the
generator writes none, and the floor refuses a database that has any (:class:`Unsupported`) instead of
silently disagreeing with the engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable

from benchmarks.generate import AS_OF
from billing_plans.feed import publish_completions, publish_date_events
from conditions import registry
from conditions.milestone import is_contracts, lag_met
from conditions.sql import _exists_sql
from conditions.sql_rules import SqlRules, ValidatedSql, validate_sql
from contracts.audit import ObjectType, Who, record_changes_from
from contracts.errors import SqlRuleError
from contracts.models import Milestone, MilestoneCondition
from contracts.required import satisfied_sql
from contracts.schema import table_of
from contracts.sql_hints import plain
from contracts.status import ConditionStatus, ConditionType, MilestoneStatus
from ms_prcs.db import make_engine
from ms_prcs.engine.tables import run_session

MET, PENDING = registry.MET, registry.PENDING
CAPPED = 3
"""Not a verdict: a condition already Completed (Mark Complete) with a date after the as-of date, whose
milestone the run completes; the run caps its date at the as-of date and writes no StatusChange for it."""

ACTOR = "floor"
REASON_CONDITION = "met as of {as_of}"
REASON_MILESTONE = "required conditions met as of {as_of}"
"""The engine's StatusChange reasons (``ms_prcs.engine.complete``); the runner compares them row by row."""

UNSUPPORTED_TABLES = ("milestone_workflow", "approval_rule", "hold")

_m = table_of(Milestone)
_c = table_of(MilestoneCondition)
_meta = sa.MetaData()


def _temp(name: str, *columns: sa.Column[Any]) -> sa.Table:
    return sa.Table(name, _meta, *columns, prefixes=["TEMPORARY"])


EVAL = _temp(
    "floor_eval",
    sa.Column("condition_pk", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("milestone_pk", sa.Integer, nullable=False),
    sa.Column("verdict", sa.Integer, nullable=False),
)
"""Every Ready condition of a Ready milestone with its verdict (later: MET for what chains meet, CAPPED)."""

DONE = _temp(
    "floor_done",
    sa.Column("milestone_pk", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("pass", sa.Integer, nullable=False),
)
"""The milestones the run completes, with the chain link (pass) that completes each; 0: its own conditions."""

SQL_TEXT = _temp(
    "floor_sql_text",
    sa.Column("sql_text", sa.Text, primary_key=True),
    sa.Column("grp", sa.Integer, nullable=False),
)
"""Each distinct SQL text and the number of its normalized statement."""

# The candidates of the SQL statements, under the names conditions.sql's EXISTS reads (ms_prcs_cand.*).
SQL_CAND = _temp(
    "floor_sql_cand",
    sa.Column("ms_prcs_condition_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("ms_prcs_business_unit", sa.String),
    sa.Column("ms_prcs_contract_num", sa.String),
    sa.Column("ms_prcs_milestone_id", sa.String),
    sa.Column("ms_prcs_milestone_num", sa.Integer),
    sa.Column("ms_prcs_grp", sa.Integer, nullable=False),
)
_INDEXES = (
    sa.Index("floor_done_pass", DONE.c["pass"]),
    sa.Index("floor_sql_cand_grp", SQL_CAND.c.ms_prcs_grp),
)
TABLES = (EVAL, DONE, SQL_TEXT, SQL_CAND)


class Unsupported(Exception):
    """The database holds data whose rules the floor does not model (it would disagree with the engine)."""


@dataclass
class FloorStats:
    """What the floor did: statements executed, rows changed, chain links (passes)."""

    statements: int = 0
    milestones: int = 0
    conditions: int = 0
    passes: int = 0
    sql_statements: int = 0
    audit_rows: int = 0
    feed_entries: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


class _Runner:
    """Executes and counts statements, and times the steps."""

    def __init__(self, conn: sa.Connection, stats: FloorStats) -> None:
        self.conn = conn
        self.stats = stats
        self._step = time.perf_counter()

    def __call__(self, stmt: sa.Executable, params: Any = None) -> int:
        self.stats.statements += 1
        result = self.conn.execute(stmt, params, execution_options={"preserve_rowcount": True})
        return int(result.rowcount)

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.stats.seconds[name] = round(now - self._step, 3)
        self._step = now


def run_floor(
    conn: sa.Connection,
    as_of: dt.date = AS_OF,
    *,
    audit_and_feed: bool = True,
    rules: SqlRules | None = None,
    now: dt.datetime | None = None,
) -> FloorStats:
    """Leave, in ``conn``'s current transaction, the end state of a run over every business unit as of
    ``as_of``. ``audit_and_feed=False`` skips the StatusChange rows and the feed (for reference only: the
    engine always writes them). Raises :class:`Unsupported` for data the floor does not model."""
    stats = FloorStats()
    run = _Runner(conn, stats)
    _refuse_unsupported(conn)
    _create_tables(conn)
    ready = ConditionStatus.READY
    c, m = _c, _m
    # 1. one verdict per Ready condition of a Ready milestone (the engine's CASE, imported)
    run(
        EVAL.insert().from_select(
            ["condition_pk", "milestone_pk", "verdict"],
            sa.select(c.c.id, c.c.milestone_pk, registry.verdict(c, as_of))
            .select_from(c.join(m, m.c.id == c.c.milestone_pk))
            .where(plain(c.c.condition_status) == ready, plain(m.c.status) == MilestoneStatus.READY),
        )
    )
    _analyze(conn, EVAL)
    run.step("verdicts")
    # 2. SQL conditions
    _sql_conditions(run, as_of, rules or SqlRules())
    run.step("sql")
    # 3. what completes: own conditions first, then one link of the chains per pass
    run(DONE.insert().from_select(["milestone_pk", "pass"], _satisfied(as_of, chained=False)))
    _analyze(conn, DONE)
    while run(DONE.insert().from_select(["milestone_pk", "pass"], _next_link(as_of, stats.passes + 1))):
        stats.passes += 1
    run(EVAL.update().where(EVAL.c.condition_pk.in_(_chain_met(as_of))).values(verdict=MET))
    run(EVAL.insert().from_select(["condition_pk", "milestone_pk", "verdict"], _capped(as_of)))
    run.step("chains")
    # 4. one UPDATE per table
    stats.conditions = run(
        c.update()
        .where(c.c.id.in_(sa.select(EVAL.c.condition_pk).where(EVAL.c.verdict.in_([MET, CAPPED]))))
        .values(condition_status=ConditionStatus.COMPLETED, completed_on=as_of)
    )
    stats.milestones = run(
        m.update()
        .where(m.c.id.in_(sa.select(DONE.c.milestone_pk)))
        .values(status=MilestoneStatus.COMPLETED, completed_on=as_of, completed_by_run=0)
    )
    run.step("updates")
    if audit_and_feed:
        _audit_and_feed(run, as_of, now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))
        run.step("audit and feed")
    for table in TABLES:
        conn.exec_driver_sql(f"DROP TABLE {table.name}")
    return stats


def _refuse_unsupported(conn: sa.Connection) -> None:
    found = [t for t in UNSUPPORTED_TABLES if conn.exec_driver_sql(f"SELECT 1 FROM {t} LIMIT 1").first()]
    if found:
        raise Unsupported(
            f"the floor does not model the rules of {', '.join(found)} (the benchmark's data has none);"
            " it would disagree with the engine"
        )


def _create_tables(conn: sa.Connection) -> None:
    for table in TABLES:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
        conn.execute(CreateTable(table))
    for index in _INDEXES:
        conn.execute(CreateIndex(index))


def _analyze(conn: sa.Connection, table: sa.Table) -> None:
    """Row counts of a freshly filled scratch table for the planner: neither database has any for a temporary
    table (PostgreSQL never analyzes them by itself; the engine analyzes its scratch tables too). Without
    them SQLite takes the table as large and builds a Bloom filter or an automatic index over all of
    ``milestone_condition`` instead of probing it from the few rows at hand."""
    conn.exec_driver_sql(f"ANALYZE {table.name}")


def _sql_conditions(run: _Runner, as_of: dt.date, rules: SqlRules) -> None:
    """Each distinct statement (as validate_sql normalizes it, as the engine groups them) once over all its
    candidates; texts that break the SQL rules stay Ready, as in the engine (which logs an error)."""
    conn = run.conn
    c = _c
    pending = sa.select(EVAL.c.condition_pk).where(EVAL.c.verdict == PENDING)
    run.stats.statements += 1
    texts = sorted(
        conn.scalars(sa.select(c.c.sql_text).where(c.c.id.in_(pending), c.c.sql_text.is_not(None)).distinct())
    )
    groups: dict[str, list[str]] = defaultdict(list)
    statements: dict[str, ValidatedSql] = {}
    for text in texts:
        try:
            checked = validate_sql(text, rules, obj="SQL condition")
        except SqlRuleError:
            continue
        groups[checked.normalized].append(text)
        statements.setdefault(checked.normalized, checked)
    if not groups:
        return
    ordered = sorted(groups)
    run(SQL_TEXT.insert(), [{"sql_text": t, "grp": g} for g, key in enumerate(ordered) for t in groups[key]])
    k = sa.table("contract", sa.column("id"), sa.column("business_unit"), sa.column("contract_num"))
    m = _m
    run(
        SQL_CAND.insert().from_select(
            [col.name for col in SQL_CAND.c],
            sa.select(
                EVAL.c.condition_pk, k.c.business_unit, k.c.contract_num, m.c.milestone_id, m.c.milestone_num
            )
            .add_columns(SQL_TEXT.c.grp)
            .select_from(
                EVAL.join(c, c.c.id == EVAL.c.condition_pk)
                .join(SQL_TEXT, SQL_TEXT.c.sql_text == c.c.sql_text)
                .join(m, m.c.id == EVAL.c.milestone_pk)
                .join(k, k.c.id == m.c.contract_pk)
            )
            .where(EVAL.c.verdict == PENDING),
        )
    )
    _analyze(conn, SQL_CAND)
    for grp, key in enumerate(ordered):
        exists_sql, uses_as_of = _exists_sql(statements[key], conn.dialect.name)
        met = (
            f"UPDATE {EVAL.name} SET verdict = {MET} WHERE condition_pk IN (SELECT"
            f" ms_prcs_cand.ms_prcs_condition_id FROM {SQL_CAND.name} AS ms_prcs_cand"
            f" WHERE ms_prcs_cand.ms_prcs_grp = {grp} AND {exists_sql})"
        )
        stmt = sa.text(met)
        if uses_as_of:
            stmt = stmt.bindparams(sa.bindparam("ms_prcs_as_of_date", value=as_of, type_=sa.Date))
        run.stats.sql_statements += 1
        run(stmt)


def _met_before(own: sa.FromClause) -> sa.ColumnElement[bool]:
    return sa.exists().where(EVAL.c.condition_pk == own.c.id, EVAL.c.verdict == MET)


def _done(milestone_pk: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """Completed by the run so far: a probe by primary key (``IN (SELECT ..)`` inside the correlated
    subquery of the required-conditions check is a scan of DONE per row on PostgreSQL)."""
    return sa.exists().where(DONE.c.milestone_pk == milestone_pk)


def _chain_edge(c: sa.FromClause, as_of: dt.date) -> sa.ColumnElement[bool]:
    """A Ready Contracts milestone condition that a completion in this run meets: its reference completes
    on ``as_of``, so the Days Lag rule is asked of that date (:func:`conditions.milestone.lag_met`)."""
    return sa.and_(
        plain(c.c.condition_status) == ConditionStatus.READY,
        c.c.condition_type == ConditionType.MILESTONE,
        is_contracts(c),
        lag_met(sa.literal(as_of, sa.Date), c.c.days_lag, as_of),
    )


def _satisfied(as_of: dt.date, *, chained: bool) -> sa.Select[Any]:
    """Ready milestones whose required conditions hold when every Completed condition, every MET verdict
    and (``chained``) every chain edge to a milestone already in DONE counts as complete."""
    m, own = _m, _c.alias("floor_own")
    complete = sa.or_(own.c.condition_status == ConditionStatus.COMPLETED, _met_before(own))
    if chained:
        complete = sa.or_(
            complete,
            sa.and_(_chain_edge(own, as_of), _done(own.c.ref_milestone_pk)),
        )
    satisfied = satisfied_sql(m.c.required_conditions, complete, own, own.c.milestone_pk == m.c.id)
    return sa.select(m.c.id, sa.literal(0, sa.Integer)).where(
        plain(m.c.status) == MilestoneStatus.READY, satisfied
    )


def _next_link(as_of: dt.date, link: int) -> sa.Select[Any]:
    """The milestones that pass ``link`` completes: Ready ones, not yet in DONE, with a chain edge to one
    the previous pass completed, now satisfied."""
    m, c, prev = _m, _c.alias("floor_link"), DONE.alias("floor_prev")
    base = _satisfied(as_of, chained=True).with_only_columns(m.c.id, sa.literal(link, sa.Integer))
    return (
        base.select_from(
            prev.join(c, c.c.ref_milestone_pk == plain(prev.c.milestone_pk)).join(
                m, m.c.id == c.c.milestone_pk
            )
        )
        .where(prev.c["pass"] == link - 1, _chain_edge(c, as_of), ~_done(m.c.id))
        .distinct()
    )


def _chain_met(as_of: dt.date) -> sa.Select[Any]:
    """Conditions of the run's milestones (EVAL holds only those) met by a milestone the run completes."""
    c = _c.alias("floor_chain")
    return (
        sa.select(c.c.id)
        .select_from(DONE.join(c, c.c.ref_milestone_pk == plain(DONE.c.milestone_pk)))
        .where(_chain_edge(c, as_of))
    )


def _capped(as_of: dt.date) -> sa.Select[Any]:
    c = _c.alias("floor_capped")
    return (
        sa.select(c.c.id, c.c.milestone_pk, sa.literal(CAPPED, sa.Integer))
        .select_from(DONE.join(c, c.c.milestone_pk == plain(DONE.c.milestone_pk)))
        .where(plain(c.c.condition_status) == ConditionStatus.COMPLETED, c.c.completed_on > as_of)
    )


def _audit_and_feed(run: _Runner, as_of: dt.date, now: dt.datetime) -> None:
    conn, stats = run.conn, run.stats
    who = Who(ACTOR, now)
    for object_type, ids, old, new, reason in (
        (
            ObjectType.CONDITION,
            sa.select(EVAL.c.condition_pk).where(EVAL.c.verdict == MET),
            ConditionStatus.READY,
            ConditionStatus.COMPLETED,
            REASON_CONDITION,
        ),
        (
            ObjectType.MILESTONE,
            sa.select(DONE.c.milestone_pk),
            MilestoneStatus.READY,
            MilestoneStatus.COMPLETED,
            REASON_MILESTONE,
        ),
    ):
        stats.statements += 1
        record_changes_from(conn, object_type, ids, old, new, who, reason.format(as_of=as_of))
    stats.audit_rows = (
        stats.conditions
        + stats.milestones
        - int(conn.scalar(sa.select(sa.func.count()).where(EVAL.c.verdict == CAPPED)) or 0)
    )
    stats.statements += 2 + (2 if conn.dialect.name == "postgresql" else 0)  # + the feed lock, twice
    stats.feed_entries = publish_completions(
        conn, sa.select(DONE.c.milestone_pk), process_instance=0, as_of=as_of, at=now
    )
    stats.statements += 1
    stats.feed_entries += publish_date_events(
        conn, business_units=None, as_of=as_of, process_instance=0, at=now
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    parser.add_argument(
        "--no-audit-feed", action="store_true", help="skip StatusChange rows and feed (reference only)"
    )
    args = parser.parse_args(argv)
    engine = make_engine(args.db)
    started = time.perf_counter()
    with engine.connect() as conn:
        run_session(conn)  # the engine's connection settings (one transaction: its checkpoints are moot)
        with conn.begin():
            stats = run_floor(conn, args.as_of, audit_and_feed=not args.no_audit_feed)
    seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({**stats.__dict__, "total_s": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
