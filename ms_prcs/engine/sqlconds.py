"""SQL conditions in a run: each distinct statement validated once and evaluated once per chunk.

Conditions are grouped by their statement as sqlglot normalizes it, so texts that differ only in spacing,
case of keywords or comments run as one query over all their milestones (the binds come from each
candidate row, see :mod:`conditions.sql`). A statement that breaks the SQL rules, fails or times out leaves
its conditions Ready with an error message naming each milestone, and is not tried again in later chunks of
the same run: a statement that timed out on one chunk would most likely time out on every other one too,
and a run over a million milestones must not spend the time limit twenty times over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import sqlalchemy as sa

from conditions.sql import SqlConditionFailed, met_condition_ids
from conditions.sql_rules import SqlRules, ValidatedSql, validate_sql
from contracts.errors import SqlRuleError
from contracts.models import Contract, Milestone, MilestoneCondition
from contracts.sql_hints import plain
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.control import RunMessage, Severity
from ms_prcs.engine.tables import EVALUATED, MET, PENDING, SQL_PENDING

_m = cast(sa.Table, Milestone.__table__)
_c = cast(sa.Table, MilestoneCondition.__table__)
_k = cast(sa.Table, Contract.__table__)

_SHOWN_SQL = 120


@dataclass
class SqlStatements:
    """The run's memory of SQL texts: validated statements, rule violations and failed statements."""

    rules: SqlRules
    timeout_s: float
    _checked: dict[str, ValidatedSql | SqlRuleError] = field(default_factory=dict)
    _failed: dict[str, str] = field(default_factory=dict)

    def check(self, text: str) -> ValidatedSql | SqlRuleError:
        if text not in self._checked:
            try:
                self._checked[text] = validate_sql(text, self.rules, obj="SQL condition")
            except SqlRuleError as err:
                self._checked[text] = err
        return self._checked[text]

    def evaluate(self, ctx: RunContext) -> list[RunMessage]:
        """Run every pending SQL condition of the chunk; mark the met ones MET in EVALUATED.

        The chunk's SQL conditions are filed once into SQL_PENDING, numbered by statement, so that each
        statement's query starts from its own few rows instead of from everything the chunk evaluated.
        """
        conn = ctx.conn
        text = sa.func.coalesce(_c.c.sql_text, "")
        pending = EVALUATED.join(_c, _c.c.id == plain(EVALUATED.c.condition_pk))
        texts = sorted(
            conn.scalars(
                sa.select(text).select_from(pending).where(EVALUATED.c.verdict == PENDING).distinct()
            )
        )
        if not texts:
            return []
        numbers: dict[str, int] = {}  # statement number per source text
        statements: dict[int, ValidatedSql | SqlRuleError] = {}
        by_normalized: dict[str, int] = {}
        for source in texts:
            checked = self.check(source)
            if isinstance(checked, SqlRuleError):
                numbers[source] = len(statements) + 1
                statements[numbers[source]] = checked
                continue
            if checked.normalized not in by_normalized:
                by_normalized[checked.normalized] = len(statements) + 1
                statements[by_normalized[checked.normalized]] = checked
            numbers[source] = by_normalized[checked.normalized]
        conn.execute(
            SQL_PENDING.insert().from_select(
                ["condition_pk", "milestone_pk", "statement_no"],
                sa.select(EVALUATED.c.condition_pk, EVALUATED.c.milestone_pk, sa.case(numbers, value=text))
                .select_from(pending)
                .where(EVALUATED.c.verdict == PENDING),
            )
        )
        messages: list[RunMessage] = []
        for number, statement in statements.items():
            if isinstance(statement, SqlRuleError):
                reason = statement.rule.splitlines()[0]  # "SQL rule: ..., (line 1, column 6)"
                messages += _failure_messages(
                    ctx, number, reason, next(t for t, n in numbers.items() if n == number)
                )
                continue
            if statement.normalized in self._failed:
                messages += _failure_messages(
                    ctx, number, self._failed[statement.normalized], statement.source
                )
                continue
            try:
                met = met_condition_ids(conn, statement, _candidates(number), ctx.as_of, self.timeout_s)
            except SqlConditionFailed as err:
                self._failed[statement.normalized] = err.reason
                messages += _failure_messages(ctx, number, err.reason, statement.source)
                continue
            if met:
                conn.execute(
                    EVALUATED.update()
                    .where(EVALUATED.c.condition_pk == sa.bindparam("met_pk"))
                    .values(verdict=MET),
                    [{"met_pk": pk} for pk in met],
                )
        return messages


def _candidates(number: int) -> sa.Select[tuple[int, str, str, str, int]]:
    """The chunk's conditions of statement ``number``, labelled as :func:`conditions.sql.met_condition_ids`
    wants. plain(): SQLite must walk these few rows and probe the big tables by key."""
    return (
        sa.select(
            SQL_PENDING.c.condition_pk.label("condition_id"),
            _k.c.business_unit.label("business_unit"),
            _k.c.contract_num.label("contract_num"),
            _m.c.milestone_id.label("milestone_id"),
            _m.c.milestone_num.label("milestone_num"),
        )
        .select_from(
            SQL_PENDING.join(_m, _m.c.id == plain(SQL_PENDING.c.milestone_pk)).join(
                _k, _k.c.id == _m.c.contract_pk
            )
        )
        .where(SQL_PENDING.c.statement_no == number)
    )


def _failure_messages(ctx: RunContext, number: int, reason: str, shown: str) -> list[RunMessage]:
    rows = ctx.conn.execute(
        sa.select(
            _k.c.business_unit, _k.c.contract_num, _m.c.milestone_id, _m.c.milestone_num, _c.c.condition_seq
        )
        .select_from(
            SQL_PENDING.join(_c, _c.c.id == plain(SQL_PENDING.c.condition_pk))
            .join(_m, _m.c.id == _c.c.milestone_pk)
            .join(_k, _k.c.id == _m.c.contract_pk)
        )
        .where(SQL_PENDING.c.statement_no == number)
        .order_by(_m.c.id, _c.c.condition_seq)
    )
    sql = " ".join(shown.split())
    if len(sql) > _SHOWN_SQL:
        sql = sql[: _SHOWN_SQL - 3] + "..."
    return [
        RunMessage(
            Severity.ERROR,
            f"{bu}/{contract}/{mid}/{num}",
            f"condition {seq} (SQL) stays Ready: {reason or 'no SQL text'} [SQL: {sql or '(none)'}]",
        )
        for bu, contract, mid, num, seq in rows
    ]
