"""SQL conditions in a run: each distinct statement validated once and evaluated once per chunk, before the
chunk's write transaction, on a read-only connection of its own (DESIGN §13).

A chunk has two halves. :meth:`SqlStatements.prepare` runs first, outside any write transaction: it reads
the Ready SQL conditions of the milestones the chunk will take (the same keyset window as
:func:`ms_prcs.engine.evaluate.pick_candidates`) and runs each distinct statement once over all of them on
the :class:`~conditions.sql.SqlReader`. On SQLite the chunk's transaction takes the database's write lock
with its first statement, so evaluating there would lock every other user out for as long as a slow
condition runs; here they write on. Then :meth:`SqlStatements.apply`, inside the chunk's transaction, marks
the met ones MET in EVALUATED, but only those still Ready, still in the chunk and still carrying the text
that was evaluated: whatever changed in between is simply looked at again by the next run.

Nothing is lost for chains: the SQL verdicts of a chunk are taken where they always were, in its first
pass, for every milestone the chunk processes (Ready ones and those an earlier chunk's chain completed,
:func:`~ms_prcs.engine.evaluate.processed_by_run`); chain passes only look at Contracts milestone
conditions, which read no user SQL.

Conditions are grouped by their statement as sqlglot normalizes it, so texts that differ only in spacing,
case of keywords or comments run as one query over all their milestones. A statement that breaks the SQL
rules, fails or times out leaves its conditions Ready with an error message naming each milestone, and is
not tried again in later chunks of the same run: one that timed out on one chunk would most likely time out
on every other one too. All statements of a run share one time budget (``MS_PRCS_SQL_BUDGET``); once it is
spent, the SQL conditions not yet evaluated stay Ready, with a message, and the run goes on with the rest.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Self

import sqlalchemy as sa

from conditions.sql import Candidate, SqlConditionFailed, SqlReader
from conditions.sql_rules import SqlRules, ValidatedSql, validate_sql
from contracts.errors import SqlRuleError
from contracts.models import Contract, Milestone, MilestoneCondition
from contracts.schema import table_of
from contracts.status import ConditionStatus, ConditionType
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.control import RunMessage, Severity
from ms_prcs.engine.evaluate import next_chunk, processed_by_run
from ms_prcs.engine.tables import EVALUATED, MET, PENDING
from ms_prcs.settings import Settings

_m = table_of(Milestone)
_c = table_of(MilestoneCondition)
_k = table_of(Contract)

_SHOWN_SQL = 120


@dataclass(frozen=True)
class _Row:
    """One Ready SQL condition of the chunk to come, with what its messages and its binds need."""

    condition_pk: int
    text: str
    key: str
    seq: int
    candidate: Candidate


@dataclass
class ChunkSql:
    """What :meth:`SqlStatements.prepare` found for one chunk: (condition id, text) pairs that are met,
    and the messages for those that could not be evaluated."""

    met: list[tuple[int, str]] = field(default_factory=list)
    messages: list[RunMessage] = field(default_factory=list)


@dataclass
class SqlStatements:
    """The run's memory of SQL texts (validated statements, rule violations, failed statements), its
    reader, and how much of its SQL time budget is spent. Close it (or use ``with``) at the end."""

    rules: SqlRules
    timeout_s: float
    reader: SqlReader | None = None
    budget_s: float = float("inf")
    _checked: dict[str, ValidatedSql | SqlRuleError] = field(default_factory=dict)
    _failed: dict[str, str] = field(default_factory=dict)
    _spent_s: float = 0.0
    _budget_noted: bool = False
    _has_ready_sql: bool | None = None

    @classmethod
    def for_run(cls, engine: sa.Engine, settings: Settings) -> SqlStatements:
        return cls(
            settings.sql_rules,
            settings.sql_timeout_s,
            SqlReader(engine, settings.sql_role),
            settings.sql_budget_s,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()

    def trust(self, text: str, statement: ValidatedSql) -> None:
        """Test hook: take ``statement`` for ``text`` without asking the parser, as if it had a hole, so a
        test can show what the database fence and the time limits do on their own."""
        self._checked[text] = statement

    def check(self, text: str) -> ValidatedSql | SqlRuleError:
        if text not in self._checked:
            try:
                self._checked[text] = validate_sql(text, self.rules, obj="SQL condition")
            except SqlRuleError as err:
                self._checked[text] = err
        return self._checked[text]

    def prepare(self, ctx: RunContext, after: int, size: int) -> ChunkSql:
        """Evaluate the SQL conditions of the next chunk (milestones after ``after``, at most ``size``).

        Call it outside the chunk's transaction (a dry run, which has one transaction only, calls it in
        that one): the read of the candidates is a short transaction of its own, and the statements run
        on the reader's connection.
        """
        if ctx.dry_run:
            rows = self._pending(ctx, after, size)
        else:
            with ctx.conn.begin():
                rows = self._pending(ctx, after, size)
        found = ChunkSql()
        if not rows:
            return found
        by_statement: dict[str, list[_Row]] = defaultdict(list)  # normalized text (or source) -> rows
        statements: dict[str, ValidatedSql | SqlRuleError] = {}
        for text in sorted({row.text for row in rows}):
            checked = self.check(text)
            key = text if isinstance(checked, SqlRuleError) else checked.normalized
            statements.setdefault(key, checked)
        for row in rows:
            checked = self.check(row.text)
            by_statement[row.text if isinstance(checked, SqlRuleError) else checked.normalized].append(row)
        for key, statement in statements.items():
            found_rows = by_statement[key]
            if isinstance(statement, SqlRuleError):
                reason = statement.rule.splitlines()[0]  # "SQL rule: ..., (line 1, column 6)"
                found.messages += _failure_messages(found_rows, reason, key)
                continue
            if statement.normalized in self._failed:
                found.messages += _failure_messages(
                    found_rows, self._failed[statement.normalized], statement.source
                )
                continue
            left = self.budget_s - self._spent_s
            if left <= 0:
                found.messages += self._budget_spent(found_rows, statement.source)
                continue
            limit = min(self.timeout_s, left)
            started = time.monotonic()
            try:
                met = set(
                    self._reader(ctx).met(statement, [r.candidate for r in found_rows], ctx.as_of, limit)
                )
            except SqlConditionFailed as err:
                if err.timed_out and limit < self.timeout_s:  # cut short by the budget, not its own limit
                    self._spent_s = self.budget_s
                    found.messages += self._budget_spent(found_rows, statement.source)
                    continue
                self._failed[statement.normalized] = err.reason
                found.messages += _failure_messages(found_rows, err.reason, statement.source)
                continue
            finally:
                self._spent_s += time.monotonic() - started
            found.met += [(r.condition_pk, r.text) for r in found_rows if r.condition_pk in met]
        return found

    def apply(self, ctx: RunContext, found: ChunkSql) -> None:
        """In the chunk's transaction: mark MET the conditions :meth:`prepare` found met that the chunk
        evaluated (still Ready, in EVALUATED) and whose text is still the one that ran."""
        if not found.met:
            return
        same_text = sa.exists(
            sa.select(sa.literal(1)).where(
                _c.c.id == sa.bindparam("met_pk"),
                sa.func.coalesce(_c.c.sql_text, "") == sa.bindparam("met_text"),
            )
        )
        ctx.conn.execute(
            EVALUATED.update()
            .where(
                EVALUATED.c.condition_pk == sa.bindparam("met_pk"), EVALUATED.c.verdict == PENDING, same_text
            )
            .values(verdict=MET),
            [{"met_pk": pk, "met_text": text} for pk, text in found.met],
        )

    def _reader(self, ctx: RunContext) -> SqlReader:
        if self.reader is None:
            self.reader = SqlReader(ctx.conn.engine)
        return self.reader

    def _any_ready(self, ctx: RunContext) -> bool:
        """Whether the database has a Ready SQL condition at all: a run without any pays one index probe,
        not a window read per chunk."""
        if self._has_ready_sql is None:
            self._has_ready_sql = (
                ctx.conn.scalar(
                    sa.select(_c.c.id)
                    .where(
                        _c.c.condition_status == ConditionStatus.READY,
                        _c.c.condition_type == ConditionType.SQL,
                    )
                    .limit(1)
                )
                is not None
            )
        return self._has_ready_sql

    def _pending(self, ctx: RunContext, after: int, size: int) -> list[_Row]:
        """The Ready SQL conditions of the milestones the next chunk takes, ordered as the messages are."""
        if not self._any_ready(ctx):
            return []
        conn = ctx.conn
        # The window's last milestone (the chunk's, when nothing changes in between): one keyset read of
        # the milestones, as the chunk's own. Its SQL conditions are then one range of the status and type
        # index (milestone_pk is its third column): not a probe of every condition of every milestone of
        # the chunk, which costs as much as the chunk's own verdicts to find its few SQL conditions.
        window = next_chunk(ctx, after, size).subquery("ms_prcs_sql_window")
        last = conn.scalar(sa.select(sa.func.max(window.c.id)))
        if last is None:
            return []
        rows = conn.execute(
            sa.select(
                _c.c.id,
                sa.func.coalesce(_c.c.sql_text, ""),
                _k.c.business_unit,
                _k.c.contract_num,
                _m.c.milestone_id,
                _m.c.milestone_num,
                _c.c.condition_seq,
            )
            .select_from(_c.join(_m, _m.c.id == _c.c.milestone_pk).join(_k, _k.c.id == _m.c.contract_pk))
            .where(
                _c.c.condition_status == ConditionStatus.READY,
                _c.c.condition_type == ConditionType.SQL,
                _c.c.milestone_pk > after,
                _c.c.milestone_pk <= last,
                processed_by_run(ctx, _m),
                ctx.scope.predicate(_m),
            )
            .order_by(_c.c.milestone_pk, _c.c.condition_seq)
        )
        return [
            _Row(pk, text, f"{bu}/{cn}/{mid}/{num}", seq, (pk, bu, cn, mid, num))
            for pk, text, bu, cn, mid, num, seq in rows
        ]

    def _budget_spent(self, rows: list[_Row], source: str) -> list[RunMessage]:
        messages = []
        if not self._budget_noted:
            self._budget_noted = True
            messages.append(
                RunMessage(
                    Severity.ERROR,
                    "",
                    f"SQL budget of {self.budget_s:g}s for this run is spent (MS_PRCS_SQL_BUDGET): SQL"
                    " conditions not yet evaluated stay Ready for the next run; other conditions go on",
                )
            )
        reason = f"not evaluated, the run's SQL budget of {self.budget_s:g}s is spent"
        return messages + _failure_messages(rows, reason, source, Severity.WARNING)


def _failure_messages(
    rows: list[_Row], reason: str, shown: str, severity: Severity = Severity.ERROR
) -> list[RunMessage]:
    sql = " ".join(shown.split())
    if len(sql) > _SHOWN_SQL:
        sql = sql[: _SHOWN_SQL - 3] + "..."
    return [
        RunMessage(
            severity,
            row.key,
            f"condition {row.seq} (SQL) stays Ready: {reason or 'no SQL text'} [SQL: {sql or '(none)'}]",
        )
        for row in rows
    ]
