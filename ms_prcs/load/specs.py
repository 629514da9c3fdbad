"""What a load file's condition entry and milestone reference mean, for the service path and the bulk path
of the contracts section and for plan events."""

from __future__ import annotations

from contracts.keys import ContractKey, MilestoneKey
from contracts.specs import ConditionSpec
from contracts.status import MilestoneSource
from ms_prcs.load.schema import ConditionEntry


def condition_spec(
    entry: ConditionEntry, ref: MilestoneKey | None, ref_milestone_id: str | None
) -> ConditionSpec:
    project_given = any(entry.has(k) for k in ("project", "activity", "activity_status"))
    return ConditionSpec(
        condition_type=entry.type,
        descr=entry.descr,
        condition_date=entry.date,
        sql_text=entry.sql,
        source=entry.source or (MilestoneSource.PROJECTS if project_given else None),
        ref=ref,
        ref_milestone_id=ref_milestone_id,
        days_lag=entry.days_lag,
        project_id=entry.project,
        activity_id=entry.activity,
        activity_status=entry.activity_status,
    )


def parse_ref(text: str, contract: ContractKey) -> MilestoneKey:
    """A full key, or ``MS_ID/NUM`` for a milestone of the same contract."""
    parts = text.strip().split("/")
    if len(parts) == 2:
        return MilestoneKey.parse(f"{contract}/{text.strip()}")
    return MilestoneKey.parse(text)
