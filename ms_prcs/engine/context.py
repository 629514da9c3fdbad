"""What every step of a run needs, in one value: the connection, the as-of date, the scope, the clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from contracts.audit import Who
from ms_prcs.engine.control import RunControl, run_actor
from ms_prcs.engine.runlog import Tally
from ms_prcs.engine.scope import Scope


@dataclass
class RunContext:
    conn: sa.Connection
    control: RunControl
    scope: Scope
    process_instance: int | None
    tally: Tally
    now: dt.datetime
    """The wall-clock time stamped on the current chunk's StatusChange rows (one value per chunk)."""
    present: dict[str, bool] = field(default_factory=dict)
    """Whether a rule has any rows to work on in this run (workflow steps, Ready Milestone conditions), asked
    once, at its first use: a rule with nothing to read is skipped in every chunk and pass instead of
    running a statement that finds nothing (:func:`ms_prcs.engine.complete.chain_pass`)."""

    @property
    def as_of(self) -> dt.date:
        return self.control.as_of

    @property
    def marker(self) -> int:
        """What ``milestone.completed_by_run`` says for milestones this run completed (0 in a dry run, whose
        writes are rolled back): the run keeps evaluating their conditions, see :mod:`ms_prcs.engine.evaluate`."""
        return self.process_instance if self.process_instance is not None else 0

    @property
    def actor(self) -> str:
        return run_actor(self.process_instance)

    @property
    def who(self) -> Who:
        """The run as the actor of its StatusChange rows, at the current chunk's time."""
        return Who(self.actor, self.now)

    @property
    def dry_run(self) -> bool:
        return self.control.dry_run
