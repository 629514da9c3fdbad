"""The process monitor's rows: one ``process_run`` per run and its ``process_message`` log.

The run row is written first, in a transaction of its own, so a run that dies is still visible (outcome
``Processing``, a stale heartbeat). Its counts are rewritten in every chunk's transaction, so they always
equal what the committed chunks did, which is what lets a killed run and its rerun add up exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from contracts.errors import NotFound
from contracts.models import ProcessMessage, ProcessRun
from contracts.schema import table_of
from ms_prcs.engine.control import (
    MESSAGES_KEPT,
    Outcome,
    RunControl,
    RunMessage,
    Severity,
    empty_counts,
)

_run = table_of(ProcessRun)
_message = table_of(ProcessMessage)


@dataclass
class Tally:
    """What the run has done so far (committed or, in a dry run, pretended)."""

    processed: int = 0
    milestones_completed: int = 0
    conditions: dict[str, int] = field(default_factory=empty_counts)
    message_counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Severity})
    messages: list[RunMessage] = field(default_factory=list)
    chunks: int = 0
    passes: int = 0
    feed_entries: int = 0
    completed_keys: list[str] = field(default_factory=list)

    def note(self, messages: Iterable[RunMessage]) -> list[RunMessage]:
        """Count ``messages`` and keep the first :data:`MESSAGES_KEPT`; returns them as a list."""
        batch = list(messages)
        for message in batch:
            self.message_counts[message.severity.value] += 1
        room = MESSAGES_KEPT - len(self.messages)
        if room > 0:
            self.messages.extend(batch[:room])
        return batch

    def outcome(self) -> Outcome:
        if self.message_counts[Severity.ERROR.value]:
            return Outcome.ERROR
        if self.message_counts[Severity.WARNING.value]:
            return Outcome.WARNING
        return Outcome.SUCCESS

    def counts_json(self) -> str:
        return json.dumps(
            {
                "milestones_processed": self.processed,
                "conditions_completed": self.conditions,
                "messages": self.message_counts,
                "chunks": self.chunks,
                "passes": self.passes,
                "feed_entries": self.feed_entries,
            }
        )


def start(conn: sa.Connection, control: RunControl, now: dt.datetime) -> int:
    """Insert the run's row (outcome Processing) and return its process instance."""
    result = conn.execute(
        _run.insert().values(
            run_control=json.dumps(control.to_json()),
            as_of=control.as_of,
            dry_run=control.dry_run,
            trigger=control.trigger,
            job_name=control.job_name,
            started_at=now,
            heartbeat_at=now,
            host=socket.gethostname()[:255],
            pid=os.getpid(),
            outcome=Outcome.PROCESSING.value,
            counts=Tally().counts_json(),
            milestones_completed=0,
            conditions_completed=0,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def write_messages(conn: sa.Connection, process_instance: int, messages: list[RunMessage]) -> None:
    if messages:
        conn.execute(
            _message.insert(),
            [
                {
                    "process_instance": process_instance,
                    "severity": m.severity.value,
                    "object_key": m.object_key[:120],
                    "text": m.text,
                }
                for m in messages
            ],
        )


def save_counts(conn: sa.Connection, process_instance: int, tally: Tally, now: dt.datetime) -> None:
    conn.execute(
        _run.update()
        .where(_run.c.process_instance == process_instance)
        .values(
            counts=tally.counts_json(),
            milestones_completed=tally.milestones_completed,
            conditions_completed=sum(tally.conditions.values()),
            heartbeat_at=now,
        )
    )


def finish(
    conn: sa.Connection, process_instance: int, tally: Tally, outcome: Outcome, now: dt.datetime
) -> None:
    save_counts(conn, process_instance, tally, now)
    conn.execute(
        _run.update()
        .where(_run.c.process_instance == process_instance)
        .values(outcome=outcome.value, ended_at=now)
    )


def job_done(conn: sa.Connection, job_name: str, as_of: dt.date) -> int | None:
    """The run that already did ``job_name`` for ``as_of`` (finished Success or Warning), or None: a job's
    night is done once, and running it again is a no-op unless forced."""
    found = conn.scalar(
        sa.select(sa.func.max(_run.c.process_instance)).where(
            _run.c.job_name == job_name,
            _run.c.as_of == as_of,
            _run.c.outcome.in_([Outcome.SUCCESS.value, Outcome.WARNING.value]),
        )
    )
    return None if found is None else int(found)


# --- the process monitor ------------------------------------------------------------------------------


def _summary(row: Any, errors: int, warnings: int) -> dict[str, Any]:
    return {
        "process_instance": row.process_instance,
        "as_of": row.as_of,
        "trigger": row.trigger,
        "job": row.job_name or "",
        "scope": _scope_words(row.run_control),
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "outcome": row.outcome,
        "milestones_completed": row.milestones_completed,
        "conditions_completed": row.conditions_completed,
        "errors": errors,
        "warnings": warnings,
    }


def _scope_words(run_control: str) -> str:
    try:
        data = json.loads(run_control)
    except ValueError:
        return "?"
    parts = []
    if data.get("business_units"):
        parts.append(",".join(data["business_units"]))
    for name in ("contract", "milestone"):
        if data.get(name):
            parts.append(data[name])
    return " ".join(parts) or "all"


def _severity_counts(conn: sa.Connection, instances: list[int]) -> dict[tuple[int, str], int]:
    if not instances:
        return {}
    rows = conn.execute(
        sa.select(_message.c.process_instance, _message.c.severity, sa.func.count())
        .where(_message.c.process_instance.in_(instances))
        .group_by(_message.c.process_instance, _message.c.severity)
    )
    return {(pi, severity): n for pi, severity, n in rows}


def list_runs(conn: sa.Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent runs, newest first, with their error and warning counts."""
    rows = conn.execute(sa.select(_run).order_by(_run.c.process_instance.desc()).limit(limit)).all()
    counts = _severity_counts(conn, [r.process_instance for r in rows])
    return [
        _summary(
            r,
            counts.get((r.process_instance, Severity.ERROR.value), 0),
            counts.get((r.process_instance, Severity.WARNING.value), 0),
        )
        for r in rows
    ]


def run_row(conn: sa.Connection, process_instance: int) -> sa.Row[Any]:
    """A run's ``process_run`` row by its process instance; an unknown one is :class:`NotFound`."""
    row = conn.execute(sa.select(_run).where(_run.c.process_instance == process_instance)).first()
    if row is None:
        raise NotFound("process instance", str(process_instance))
    return row


def run_detail(conn: sa.Connection, process_instance: int) -> dict[str, Any]:
    """One run: its run control, timings, outcome, counts per condition type, and every message."""
    row = run_row(conn, process_instance)
    messages = [
        {"severity": m.severity, "object": m.object_key, "text": m.text}
        for m in conn.execute(
            sa.select(_message.c.severity, _message.c.object_key, _message.c.text)
            .where(_message.c.process_instance == process_instance)
            .order_by(_message.c.id)
        )
    ]
    counts = json.loads(row.counts or "{}")
    detail = _summary(
        row,
        sum(1 for m in messages if m["severity"] == Severity.ERROR.value),
        sum(1 for m in messages if m["severity"] == Severity.WARNING.value),
    )
    detail.update(
        {
            "run_control": json.loads(row.run_control or "{}"),
            "dry_run": row.dry_run,
            "host": row.host,
            "pid": row.pid,
            "heartbeat_at": row.heartbeat_at,
            "milestones_processed": counts.get("milestones_processed", 0),
            "chunks": counts.get("chunks", 0),
            "passes": counts.get("passes", 0),
            "feed_entries": counts.get("feed_entries", 0),
            "conditions_by_type": counts.get("conditions_completed", {}),
            "messages": messages,
        }
    )
    return detail
