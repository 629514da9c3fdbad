"""Which alerts are due, and to whom. Read-only: a handful of statements for any number of milestones.

Levels of a Pending or Ready milestone with an estimated completion date (only the current one is due, so a
milestone first seen three days late gets ``reached``, not a warning too):

- ``warning``: the date is at most ``warning_days`` away; ``late``: at most ``late_days`` away;
- ``reached``: the date has come and the milestone is not Completed;
- ``past_due``: the approval view's Past Due (:func:`ms_prcs.approvals.view.deadlines`), whatever the date;
- ``approval_waiting``: an approval Ready for Approval for longer than ``approval_wait_hours`` (per approval).

The people concerned (as the approval layer defines them): the milestone's assignees, its contract's team,
and the approvers of its approvals (:func:`ms_prcs.approvals.rules.approvers`); for ``approval_waiting``,
that approval's approvers and the assignees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.finops_models import SentAlert
from contracts.models import Contract, Milestone
from contracts.status import MilestoneStatus
from ms_prcs.alerts.config import AlertSettings
from ms_prcs.approvals import rules as approval_rules
from ms_prcs.approvals import view
from ms_prcs.approvals.inbox import assignees
from ms_prcs.approvals.models import ContractTeam
from ms_prcs.approvals.states import ApprovalState

LEVELS = ("warning", "late", "reached", "past_due", "approval_waiting")


@dataclass(frozen=True)
class Alert:
    milestone_pk: int
    milestone: str
    level: str
    condition_seq: int
    text: str
    recipients: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "milestone": self.milestone,
            "level": self.level,
            "condition_seq": self.condition_seq,
            "text": self.text,
            "recipients": list(self.recipients),
        }


def due_alerts(
    session: Session,
    settings: AlertSettings,
    *,
    as_of: dt.date,
    now: dt.datetime,
    business_unit: str | None = None,
) -> list[Alert]:
    """Every alert due and not sent yet, in milestone key and level order."""
    where = view.milestones_of(business_unit=business_unit)
    found: list[tuple[int, str, str, int, str]] = []  # pk, key, level, seq, text
    for pk, key, descr, est, status in session.execute(_date_levels(settings, as_of, business_unit)):
        level = _level(settings, as_of, est)
        what = f" ({descr})" if descr else ""
        if level == "reached":
            text = f"milestone {key}{what} was estimated to complete on {est} and is still {status}"
        else:
            days = (est - as_of).days
            unit = "day" if days == 1 else "days"
            text = f"milestone {key}{what} is estimated to complete on {est}, in {days} {unit} ({status})"
        found.append((pk, key, level, 0, text))
    approvals = view.milestone_approvals(session, as_of, where)
    for m in approvals:
        if m.past_due:
            found.append(
                (m.milestone_pk, m.key, "past_due", 0, f"milestone {m.key} is Past Due: {m.past_due_words()}")
            )
    waited = dt.timedelta(hours=settings.approval_wait_hours)
    for m in approvals:
        for a in m.approvals:
            if a.state == ApprovalState.READY and a.last_at is not None and now - a.last_at >= waited:
                hours = int((now - a.last_at).total_seconds() // 3600)
                found.append(
                    (
                        m.milestone_pk,
                        m.key,
                        "approval_waiting",
                        a.seq,
                        f"approval of condition {a.seq} of {m.key} has waited {hours} hours for a decision"
                        f" (submitted {a.last_at:%Y-%m-%d %H:%M})",
                    )
                )
    sent = _sent(session, sorted({f[0] for f in found}))
    todo = [f for f in found if (f[0], f[2], f[3]) not in sent]
    people = _concerned(session, todo, approvals)
    alerts = [
        Alert(pk, key, level, seq, text, people[(pk, level, seq)]) for pk, key, level, seq, text in todo
    ]
    return sorted(alerts, key=lambda a: (a.milestone, LEVELS.index(a.level), a.condition_seq))


def _date_levels(settings: AlertSettings, as_of: dt.date, business_unit: str | None) -> sa.Select[Any]:
    est = Milestone.est_completion_date
    key = (
        Contract.business_unit
        + "/"
        + Contract.contract_num
        + "/"
        + Milestone.milestone_id
        + "/"
        + sa.cast(Milestone.milestone_num, sa.String)
    )
    query = (
        sa.select(Milestone.id, key, Milestone.descr, est, Milestone.status)
        .join(Contract, Milestone.contract_pk == Contract.id)
        .where(
            Milestone.status.in_([MilestoneStatus.PENDING, MilestoneStatus.READY]),
            est.is_not(None),
            est <= as_of + dt.timedelta(days=settings.warning_days),
        )
        .order_by(Milestone.id)
    )
    if business_unit is not None:
        query = query.where(Contract.business_unit == business_unit.upper())
    return query


def _level(settings: AlertSettings, as_of: dt.date, est: dt.date) -> str:
    if est <= as_of:
        return "reached"
    if (est - as_of).days <= settings.late_days:
        return "late"
    return "warning"


def _sent(session: Session, pks: Sequence[int]) -> set[tuple[int, str, int]]:
    if not pks:
        return set()
    rows = session.execute(
        sa.select(SentAlert.milestone_pk, SentAlert.level, SentAlert.condition_seq).where(
            SentAlert.milestone_pk.in_(pks)
        )
    )
    return {(pk, level, seq) for pk, level, seq in rows}


def _concerned(
    session: Session,
    todo: Sequence[tuple[int, str, str, int, str]],
    approvals: Sequence[view.MilestoneApproval],
) -> dict[tuple[int, str, int], tuple[str, ...]]:
    pks = sorted({t[0] for t in todo})
    if not pks:
        return {}
    assigned = assignees(session, pks)
    contract_of: dict[int, int] = {
        pk: contract_pk
        for pk, contract_pk in session.execute(
            sa.select(Milestone.id, Milestone.contract_pk).where(Milestone.id.in_(pks))
        )
    }
    team: dict[int, set[str]] = {}
    for contract_pk, user in session.execute(
        sa.select(ContractTeam.contract_pk, ContractTeam.user_id).where(
            ContractTeam.contract_pk.in_(sorted(set(contract_of.values())))
        )
    ):
        team.setdefault(contract_pk, set()).add(user)
    open_approvals = [
        (m.milestone_pk, a.seq, a.rule)
        for m in approvals
        if m.milestone_pk in contract_of
        for a in m.approvals
        if a.state != ApprovalState.APPROVED
    ]
    lists = approval_rules.approvers(
        session.connection(), [(contract_of[pk], rule) for pk, _, rule in open_approvals]
    )
    by_approval = {(pk, seq): set(users) for (pk, seq, _), users in zip(open_approvals, lists, strict=True)}
    out = {}
    for pk, _key, level, seq, _text in todo:
        people = set(assigned.get(pk, []))
        if level == "approval_waiting":
            people |= by_approval.get((pk, seq), set())
        else:
            people |= team.get(contract_of[pk], set())
            for (mpk, _s), users in by_approval.items():
                if mpk == pk:
                    people |= users
        out[(pk, level, seq)] = tuple(sorted(people))
    return out
