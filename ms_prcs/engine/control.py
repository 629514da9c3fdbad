"""What a run is asked to do (the run control) and what it did (the result): plain frozen values.

PeopleSoft's run control page becomes :class:`RunControl`; the process monitor's view of one process
instance becomes :class:`RunResult`. Both serialize to JSON for the ``process_run`` row and ``--json``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from contracts.keys import ContractKey, MilestoneKey
from contracts.status import ConditionType


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Outcome(StrEnum):
    """A run's outcome in the process monitor. ``Processing`` is also what a run that died leaves behind."""

    PROCESSING = "Processing"
    SUCCESS = "Success"
    WARNING = "Warning"
    ERROR = "Error"
    FAILED = "Failed"
    DIED = "Died"
    """Found dead (stale heartbeat, or its process gone) by a later run, which took over its lock."""
    STOPPED = "Stopped"
    """Stopped by a signal between two chunks; every committed chunk stays, the next run continues."""


@dataclass(frozen=True)
class RunControl:
    """The scope and as-of date of one run. Empty ``business_units`` means every business unit; a contract or
    milestone narrows further (all given filters apply together)."""

    as_of: dt.date
    business_units: tuple[str, ...] = ()
    contract: ContractKey | None = None
    milestone: MilestoneKey | None = None
    dry_run: bool = False
    trigger: str = "manual"
    job_name: str | None = None
    force: bool = False
    """With ``job_name``: run although the job already ran for this as-of date (else the run refuses with
    :class:`~contracts.errors.JobAlreadyRan`, decided once it holds the run lock)."""
    reach: str = "milestone"
    """With ``milestone``: the milestone alone (``milestone``), with what it waits on (``waited-on``: the
    explanation's dry run) or with what its completion frees (``freed``: an approval's own run); see
    :mod:`ms_prcs.engine.reach`."""
    findings: bool = True
    """False only for a dry run that wants the completions alone (the explanation's): the run's last step
    then leaves out what decides no completion (the approval deadline step, cycle warnings)."""

    def __post_init__(self) -> None:
        if not self.findings and not self.dry_run:
            raise ValueError("a run that writes also writes its findings: findings=False needs dry_run")
        # One spelling per unit (``us001`` is US001), so the run log and the run lock agree on it.
        object.__setattr__(self, "business_units", tuple(sorted({bu.upper() for bu in self.business_units})))

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "business_units": list(self.business_units),
            "contract": str(self.contract) if self.contract else None,
            "milestone": str(self.milestone) if self.milestone else None,
            "dry_run": self.dry_run,
            "trigger": self.trigger,
            "job_name": self.job_name,
        }

    def describe(self) -> str:
        """The scope in words, for messages and the process monitor."""
        parts = []
        if self.business_units:
            parts.append("business units " + ", ".join(self.business_units))
        if self.contract:
            parts.append(f"contract {self.contract}")
        if self.milestone:
            parts.append(f"milestone {self.milestone}")
        return "; ".join(parts) or "all business units"


@dataclass(frozen=True)
class RunMessage:
    severity: Severity
    object_key: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity.value, "object": self.object_key, "text": self.text}


def empty_counts() -> dict[str, int]:
    return {t.value: 0 for t in ConditionType}


@dataclass(frozen=True)
class RunResult:
    """What one run did. ``conditions_completed`` is keyed by condition type (``Date``, ``SQL``, ...).

    ``messages`` holds at most :data:`MESSAGES_KEPT` messages (the process_run's log has them all);
    ``message_counts`` counts every one. ``completed`` lists the milestone keys only for a dry run, which
    writes nothing else anyone could look at.
    """

    process_instance: int | None
    as_of: dt.date
    dry_run: bool
    outcome: Outcome
    milestones_processed: int
    milestones_completed: int
    conditions_completed: Mapping[str, int]
    message_counts: Mapping[str, int]
    messages: tuple[RunMessage, ...]
    chunks: int
    passes: int
    feed_entries: int
    started_at: dt.datetime
    ended_at: dt.datetime
    completed: tuple[str, ...] = field(default=())

    @property
    def has_errors(self) -> bool:
        return self.message_counts.get(Severity.ERROR.value, 0) > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "process_instance": self.process_instance,
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "outcome": self.outcome.value,
            "milestones_processed": self.milestones_processed,
            "milestones_completed": self.milestones_completed,
            "conditions_completed": dict(self.conditions_completed),
            "message_counts": dict(self.message_counts),
            "messages": [m.to_json() for m in self.messages],
            "chunks": self.chunks,
            "passes": self.passes,
            "feed_entries": self.feed_entries,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "completed": list(self.completed),
        }


MESSAGES_KEPT = 1000
"""A run over a million milestones may warn about many of them; the result keeps the first ones only."""


def run_actor(process_instance: int | None) -> str:
    """The ``changed_by`` of everything a run changes: the process instance, as DESIGN 1 asks."""
    return f"run {process_instance}" if process_instance is not None else "run (dry run)"
