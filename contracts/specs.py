"""What a condition is made of, before it is stored: one value for templates, contracts, the CLI and load files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Any

from contracts.errors import InvalidInput
from contracts.keys import MilestoneKey
from contracts.limits import MAX_DAYS
from contracts.status import ConditionType, MilestoneSource

# Which optional fields belong to which condition type; anything else given is a mistake worth reporting.
TYPE_FIELDS: dict[ConditionType, frozenset[str]] = {
    ConditionType.DATE: frozenset({"condition_date"}),
    ConditionType.SQL: frozenset({"sql_text"}),
    ConditionType.USER: frozenset(),
    ConditionType.MILESTONE: frozenset(
        {"source", "ref", "ref_milestone_id", "days_lag", "project_id", "activity_id", "activity_status"}
    ),
}
_DEFAULTS: dict[str, Any] = {"days_lag": 0}

STORED_FIELDS = (
    "condition_type",
    "descr",
    "condition_date",
    "sql_text",
    "source",
    "days_lag",
    "project_id",
    "activity_id",
    "activity_status",
)
"""The spec's fields that a condition template and a milestone condition store as they are (``models.
ConditionFields``); the reference is resolved differently by each, so it is not among them."""


@dataclass(frozen=True)
class ConditionSpec:
    condition_type: ConditionType
    descr: str = ""
    condition_date: dt.date | None = None
    sql_text: str | None = None
    source: MilestoneSource | None = None
    ref: MilestoneKey | None = None
    ref_milestone_id: str | None = None
    days_lag: int = 0
    project_id: str | None = None
    activity_id: str | None = None
    activity_status: str | None = None

    @classmethod
    def from_stored(cls, row: Any) -> ConditionSpec:
        """The spec a stored condition (template or contract) was made from, less its reference."""
        return cls(**{name: getattr(row, name) for name in STORED_FIELDS})

    def stored(self) -> dict[str, Any]:
        """Column values for a condition row: one list of fields for templates, contracts and updates."""
        return {name: getattr(self, name) for name in STORED_FIELDS}

    def checked(self, obj: str) -> ConditionSpec:
        """Refuse fields of another type and impossible values; default the Milestone source to Contracts."""
        allowed = TYPE_FIELDS[self.condition_type] | {"condition_type", "descr"}
        stray = [
            f.name
            for f in fields(self)
            if f.name not in allowed and getattr(self, f.name) not in (None, _DEFAULTS.get(f.name))
        ]
        if stray:
            raise InvalidInput(f"{obj}: a {self.condition_type} condition has no {', '.join(stray)}")
        if self.days_lag < 0:
            raise InvalidInput(f"{obj}: Days Lag must be 0 or more, got {self.days_lag}")
        if self.days_lag > MAX_DAYS:
            raise InvalidInput(f"{obj}: Days Lag must be at most {MAX_DAYS}, got {self.days_lag}")
        if self.condition_type == ConditionType.MILESTONE:
            source = self.source or MilestoneSource.CONTRACTS
            project_fields = (self.project_id, self.activity_id, self.activity_status)
            if source == MilestoneSource.CONTRACTS and any(project_fields):
                raise InvalidInput(
                    f"{obj}: a Contracts milestone condition has no project, activity or status"
                )
            if source == MilestoneSource.PROJECTS and (self.ref or self.ref_milestone_id):
                raise InvalidInput(
                    f"{obj}: a Projects milestone condition references an activity, not a milestone"
                )
            return replace(self, source=source)
        return self
