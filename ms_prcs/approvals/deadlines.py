"""The approval layer's step of a run (DESIGN 11): submissions the run made due, then Past Due warnings.

Run in the run's last transaction, after every chunk, because both depend on what the run completed:

1. **Submissions**: an approval submitted "when earlier steps are Completed" (or by the contract's status or
   an attribute, once its earlier steps are done) becomes Ready for Approval when the run completes the last
   earlier milestone; :func:`ms_prcs.approvals.submit.auto_submit` finds them all in one statement and
   writes them in a few, whatever their number. One info message counts them.
2. **Past Due**: one warning per milestone in scope that missed its ready-by or complete-by deadline as of
   the run's as-of date, written by a single ``INSERT .. SELECT`` from the same statement that
   ``approval show`` reads (:func:`ms_prcs.approvals.view.deadlines`). The run's warning count includes
   them, and the run's result keeps the first of them like any other message.

A dry run reports both and writes neither (its transaction is rolled back).
"""

from __future__ import annotations

import sqlalchemy as sa

from conditions.sql_dates import iso_date
from contracts.audit import Who
from contracts.models import ProcessMessage
from contracts.schema import table_of
from ms_prcs.approvals.submit import auto_submit
from ms_prcs.approvals.view import deadlines
from ms_prcs.engine import runlog
from ms_prcs.engine.context import RunContext
from ms_prcs.engine.control import MESSAGES_KEPT, RunMessage, Severity
from ms_prcs.engine.scope import lock_chunk

_message = table_of(ProcessMessage)


def approval_step(ctx: RunContext) -> None:
    """Both parts of the step, in the caller's transaction, under the run lock of the scope (as a chunk is),
    so two runs over the same milestones cannot both submit an approval."""
    lock_chunk(ctx.conn, ctx.scope, ctx.process_instance, ctx.now)
    submitted = auto_submit(ctx.conn, ctx.scope.predicate, Who(ctx.actor, ctx.now), ctx.as_of)
    if submitted:
        auto = sum(s.auto_approved for s in submitted)
        batch = ctx.tally.note(
            [
                RunMessage(
                    Severity.INFO,
                    "",
                    f"{len(submitted)} approvals submitted by their submit modes"
                    + (f" ({auto} auto-approved)" if auto else ""),
                )
            ]
        )
        if ctx.process_instance is not None:
            runlog.write_messages(ctx.conn, ctx.process_instance, batch)
    past_due_warnings(ctx)


def _warnings(ctx: RunContext) -> sa.Select[tuple[str, str]]:
    """(object_key, text) of every Past Due milestone in scope."""
    late = deadlines(ctx.as_of, ctx.scope.predicate, late_only=True).subquery("ms_prcs_late")
    ready = "not submitted by its ready-by date " + iso_date(late.c.ready_by)
    complete = "not approved by its complete-by date " + iso_date(late.c.complete_by)
    text = "Past Due: " + sa.case(
        (sa.and_(late.c.ready_late, late.c.complete_late), ready + " and " + complete),
        (late.c.ready_late, ready),
        else_=complete,
    )
    return sa.select(late.c.milestone, text.label("text")).order_by(late.c.milestone_pk)


def past_due_warnings(ctx: RunContext) -> int:
    """Write (or, in a dry run, report) one warning per Past Due milestone; returns how many."""
    query = _warnings(ctx)
    if ctx.process_instance is None:
        batch = ctx.tally.note(
            RunMessage(Severity.WARNING, key, text) for key, text in ctx.conn.execute(query)
        )
        return len(batch)
    first = ctx.conn.scalar(sa.select(sa.func.coalesce(sa.func.max(_message.c.id), 0)))
    selected = query.subquery("ms_prcs_warn")
    result = ctx.conn.execute(
        _message.insert().from_select(
            ["process_instance", "severity", "object_key", "text"],
            sa.select(
                sa.literal(ctx.process_instance, sa.Integer),
                sa.literal(Severity.WARNING.value, sa.String),
                selected.c.milestone,
                selected.c.text,
            ),
        )
    )
    count = max(result.rowcount, 0)
    ctx.tally.message_counts[Severity.WARNING.value] += count
    room = MESSAGES_KEPT - len(ctx.tally.messages)
    if count and room > 0:
        ctx.tally.messages.extend(
            RunMessage(Severity.WARNING, key, text)
            for key, text in ctx.conn.execute(
                sa.select(_message.c.object_key, _message.c.text)
                .where(
                    _message.c.process_instance == ctx.process_instance,
                    _message.c.id > first,
                    _message.c.severity == Severity.WARNING.value,
                )
                .order_by(_message.c.id)
                .limit(room)
            )
        )
    return count
