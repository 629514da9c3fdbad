"""The data of each page, built from the library's views (``ms_prcs.views``, the approval view, the inbox,
the gates): one function per screen, returning the dict that the page renders and its ``.json`` twin returns.

What a person may do is decided here only in the sense of *showing* a button: the rules are the domain's
(classification, contract team, approver rule), asked without raising. Whatever is shown, the POST goes
through the same service calls as the CLI and the API, which decide again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from conditions.explain import explain_milestone
from contracts.admin import check_classification
from contracts.errors import MsPrcsError, NotAuthorized
from contracts.keys import ContractKey, MilestoneKey, get_contract, get_milestone
from contracts.models import BusinessUnit, Milestone
from contracts.status import ConditionStatus, ConditionType, ContractStatus, MilestoneStatus
from ms_prcs import views
from ms_prcs.approvals import gates as workflow_gates
from ms_prcs.approvals import view
from ms_prcs.approvals.config.structure import blocked_statuses
from ms_prcs.approvals.inbox import inbox
from ms_prcs.approvals.models import MilestoneWorkflow, StageGate
from ms_prcs.approvals.rules import approver_problem, edit_problem
from ms_prcs.approvals.states import Action, ApprovalState
from ms_prcs.approvals.steps import describe as describe_step
from ms_prcs.service.credentials import Caller
from ms_prcs.service.rights import Right
from ms_prcs.settings import Settings

DEFAULT_PANEL = "Milestones"
NO_GATE = "(no stage gate)"
FINAL = (MilestoneStatus.COMPLETED, MilestoneStatus.CANCELLED)


class Permissions:
    """What one person may be offered, asked of the domain's rules without raising (cached per page)."""

    def __init__(self, session: Session, caller: Caller) -> None:
        self.session = session
        self.user = caller.user_id
        self.writes = caller.lacks(Right.WRITE) is None
        self._classes: dict[str | None, bool] = {}
        self._edits: dict[int, bool] = {}

    def may_change(self, milestone: Milestone) -> bool:
        """Milestone moves and condition edits: the milestone's classification decides (DESIGN 2)."""
        if not self.writes:
            return False
        c = milestone.classification
        if c not in self._classes:
            try:
                check_classification(self.session, c, self.user, f"milestone {milestone.key}")
                self._classes[c] = True
            except NotAuthorized:
                self._classes[c] = False
        return self._classes[c]

    def may_edit_contract(self, contract_pk: int) -> bool:
        """Submitting by hand: people who may edit the contract (its team, once it has one)."""
        if contract_pk not in self._edits:
            self._edits[contract_pk] = (
                self.writes and edit_problem(self.session, contract_pk, self.user) is None
            )
        return self._edits[contract_pk]


def _approvals(
    session: Session,
    milestone: Milestone,
    found: view.MilestoneApproval | None,
    perms: Permissions,
    save: bool,
) -> list[dict[str, Any]]:
    rows = []
    by_seq = {c.condition_seq: c for c in milestone.conditions}
    for a in found.approvals if found else ():
        rule = a.rule
        # approving is Mark Complete: the approver rule and the milestone's classification both apply
        approver = (
            perms.may_change(milestone)
            and approver_problem(session, rule, milestone.contract_pk, perms.user) is None
        )
        editor = perms.may_edit_contract(milestone.contract_pk)
        actions: list[str] = []
        ready = milestone.status == MilestoneStatus.READY
        if (
            editor
            and ready
            and rule.submit.manual
            and a.state in (ApprovalState.NOT_READY, ApprovalState.NOT_APPROVED)
        ):
            actions.append("submit")
        if (
            editor
            and a.state == ApprovalState.READY
            and a.last_via == "manual"
            and a.last_action == Action.SUBMITTED
        ):
            actions.append("unsubmit")
        if approver and a.state == ApprovalState.READY and milestone.status not in FINAL:
            actions += ["approve", "deny"] + (["save_and_complete"] if save else [])
        if approver and a.state == ApprovalState.APPROVED and milestone.status not in FINAL:
            actions.append("unapprove")
        condition = by_seq.get(a.seq)
        rows.append(
            {
                "seq": a.seq,
                "descr": a.descr or (condition.descr if condition else ""),
                "submit_label": f"Submit for {a.descr or milestone.descr or milestone.key}",
                "approval": a.state.value,
                "approvers": rule.approvers(),
                "submitted": ", ".join(rule.submit.texts()),
                "note_on_approve": rule.note_on_approve,
                "note_on_deny": rule.note_on_deny,
                "last_action": a.last_action,
                "last_by": a.last_by,
                "last_at": a.last_at,
                "last_note": a.last_note,
                "actions": actions,
            }
        )
    return rows


def _conditions(milestone: Milestone, perms: Permissions, approval_seqs: set[int]) -> list[dict[str, Any]]:
    """The milestone's conditions with Mark Complete / undo where a person may (approvals are decided
    through their approval instead)."""
    change = perms.may_change(milestone)
    rows = []
    for c in milestone.conditions:
        ref = c.ref_milestone.key if c.ref_milestone is not None else None
        actions = []
        if change and c.condition_type == ConditionType.USER and c.condition_seq not in approval_seqs:
            if c.condition_status == ConditionStatus.READY and milestone.status == MilestoneStatus.READY:
                actions.append("complete")
            if c.condition_status == ConditionStatus.COMPLETED and milestone.status not in FINAL:
                actions.append("undo")
        rows.append(
            {
                "seq": c.condition_seq,
                "type": c.condition_type.value,
                "status": c.condition_status.value,
                "descr": c.descr,
                "waits_for": views.condition_target(c, ref),
                "completed_on": c.completed_on,
                "completed_by": c.completed_by,
                "condition_date": c.condition_date,
                "sql_text": c.sql_text,
                "ref": ref,
                "days_lag": c.days_lag,
                "approval": c.condition_seq in approval_seqs,
                "actions": actions,
            }
        )
    return rows


def milestone_card(
    session: Session,
    milestone: Milestone,
    workflow: MilestoneWorkflow | None,
    gate_status: str | None,
    found: view.MilestoneApproval | None,
    perms: Permissions,
    as_of: dt.date,
    settings: Settings,
) -> dict[str, Any]:
    """One milestone as both pages show it: status, approval view, Past Due, blocking, why not complete,
    and the actions this person is offered."""
    save = bool(workflow and workflow.save_and_complete)
    approvals = _approvals(session, milestone, found, perms, save)
    explained = explain_milestone(
        session, milestone, as_of, rules=settings.sql_rules, timeout_s=settings.sql_timeout_s
    )
    reasons = "; ".join(f"{v.seq}: {v.reason}" for v in explained.conditions if not v.met)
    why = explained.summary + (f" ({reasons})" if reasons and not explained.complete else "")
    blocks = blocked_statuses(workflow.blocks_statuses if workflow else "")
    actions: list[str] = []
    if perms.may_change(milestone):
        if milestone.status == MilestoneStatus.PENDING:
            actions += ["ready", "cancel"]
        elif milestone.status == MilestoneStatus.READY:
            actions += ["pending", "cancel"]
    key = MilestoneKey.parse(milestone.key)
    return {
        "milestone": milestone.key,
        "path": f"{key.contract.business_unit}/{key.contract.contract_num}/{key.milestone_id}/{key.milestone_num}",
        "anchor": f"m-{key.milestone_id}-{key.milestone_num}",
        "milestone_id": milestone.milestone_id,
        "milestone_num": milestone.milestone_num,
        "descr": milestone.descr,
        "status": milestone.status.value,
        "required": milestone.required_conditions.value,
        "est_date": milestone.est_completion_date,
        "completed_on": milestone.completed_on,
        "classification": milestone.classification,
        "step": describe_step(workflow.step, workflow.sub_step) if workflow else "-",
        "step_order": (workflow.step, workflow.sub_step) if workflow else (0, 0),
        "any_time": bool(workflow and workflow.any_time),
        "gate": workflow.stage_gate if workflow else None,
        "gate_status": gate_status,
        "panel": (workflow.panel if workflow else None) or DEFAULT_PANEL,
        "optional": bool(workflow and workflow.optional),
        "save_and_complete": save,
        "blocks": list(blocks) if milestone.status not in FINAL else [],
        "approval": found.state.value if found and found.state else None,
        "past_due": bool(found and found.past_due),
        "past_due_words": found.past_due_words() if found else "",
        "ready_by": found.ready_by if found else None,
        "complete_by": found.complete_by if found else None,
        "assigned": list(found.assignees) if found else [],
        "why_not_complete": why,
        "complete": explained.complete,
        "approvals": approvals,
        "conditions": _conditions(milestone, perms, {a["seq"] for a in approvals}),
        "may_edit_conditions": perms.may_change(milestone) and milestone.status not in FINAL,
        "actions": actions,
    }


def _cards(
    session: Session, milestones: Sequence[Milestone], perms: Permissions, as_of: dt.date, settings: Settings
) -> list[dict[str, Any]]:
    pks = [m.id for m in milestones]
    if not pks:
        return []
    workflows = {
        w.milestone_pk: w
        for w in session.scalars(sa.select(MilestoneWorkflow).where(MilestoneWorkflow.milestone_pk.in_(pks)))
    }
    gates = workflow_gates.milestone_gates(session, sorted({m.contract_pk for m in milestones}))
    found = {
        a.milestone_pk: a
        for a in view.milestone_approvals(session, as_of, view.milestones_in(pks), every=True)
    }
    return [
        milestone_card(
            session,
            m,
            workflows.get(m.id),
            g.gate_status.value if (g := gates.get(m.id)) and g.gate_status else None,
            found.get(m.id),
            perms,
            as_of,
            settings,
        )
        for m in milestones
    ]


def contract_page(
    session: Session, key: ContractKey, caller: Caller, as_of: dt.date, settings: Settings
) -> dict[str, Any]:
    """A contract's milestones page: its fields, then one section per panel, each grouped into the stage
    gates in gate order (with their status), the milestones in step / sub-step order."""
    detail = views.contract_detail(session, key)
    contract = get_contract(session, key)
    perms = Permissions(session, caller)
    milestones = list(
        session.scalars(
            sa.select(Milestone)
            .where(Milestone.contract_pk == contract.id)
            .order_by(Milestone.milestone_id, Milestone.milestone_num)
        )
    )
    cards = _cards(session, milestones, perms, as_of, settings)
    gates = workflow_gates.list_gates(session, key)
    gate_order = {g.name: i for i, g in enumerate(gates)}
    cards.sort(key=lambda c: (c["step_order"], c["milestone_id"], c["milestone_num"]))
    panels: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for card in cards:
        panels.setdefault(card["panel"], {}).setdefault(card["gate"] or NO_GATE, []).append(card)
    gate_info = {g.name: g.row() for g in gates}
    panel_rows = [
        {
            "panel": name,
            "gates": [
                {
                    "gate": gate,
                    "status": gate_info.get(gate, {}).get("status"),
                    "milestones": members,
                }
                for gate, members in sorted(
                    groups.items(), key=lambda kv: (kv[0] == NO_GATE, gate_order.get(kv[0], 0))
                )
            ],
        }
        for name, groups in sorted(panels.items(), key=lambda kv: (kv[0] != DEFAULT_PANEL, kv[0]))
    ]
    del detail["milestones"]
    return {
        **detail,
        "as_of": as_of,
        "gates": [g.row() for g in gates],
        "panels": panel_rows,
    }


def milestone_page(
    session: Session, key: MilestoneKey, caller: Caller, as_of: dt.date, settings: Settings
) -> dict[str, Any]:
    """One milestone: the card of the contract page, plus its references, approval history and status
    history (``milestone show`` and ``approval show`` together)."""
    detail = views.milestone_detail(
        session,
        key,
        as_of=as_of,
        sql_rules=settings.sql_rules,
        sql_timeout_s=settings.sql_timeout_s,
        sql_role=settings.sql_role,
    )
    milestone = get_milestone(session, key)
    (card,) = _cards(session, [milestone], Permissions(session, caller), as_of, settings)
    return {
        **card,
        "contract": detail["contract"],
        "created_from": detail["created_from"],
        "referenced_by": detail["referenced_by"],
        "history": detail["history"],
        "approval_history": view.history(session, milestone.id),
        "as_of": as_of,
    }


def contracts_page(
    session: Session,
    *,
    bu: str | None,
    status: str | None,
    gate: str | None,
    gate_status: str | None,
    offset: int = 0,
    limit: int | None = None,
) -> dict[str, Any]:
    """Contracts with their stage gate, filtered, from ``offset`` (``limit`` of them, and the ``total``);
    the choices each filter offers. Without a gate filter the page is cut in SQL."""
    wanted = next((s for s in ContractStatus if s.value.lower() == status.lower()), None) if status else None
    rows: list[dict[str, Any]] = []
    total = 0
    if status and wanted is None:
        pass  # no contract has a status that is not one
    elif gate is None and gate_status is None and limit is not None:
        rows = workflow_gates.annotate_contracts(
            session, views.list_contracts(session, bu or None, status=wanted, offset=offset, limit=limit)
        )
        total = views.count_contracts(session, bu or None, status=wanted)
    else:
        rows = workflow_gates.annotate_contracts(
            session, views.list_contracts(session, bu or None, status=wanted), gate, gate_status
        )
        total = len(rows)
        rows = rows[offset:] if limit is None else rows[offset : offset + limit]
    return {
        "rows": rows,
        "total": total,
        "filters": {
            "bu": bu or "",
            "status": status or "",
            "gate": gate or "",
            "gate_status": gate_status or "",
        },
        "choices": {
            "bu": list(
                session.scalars(sa.select(BusinessUnit.business_unit).order_by(BusinessUnit.business_unit))
            ),
            "status": [s.value for s in ContractStatus],
            "gate": list(session.scalars(sa.select(StageGate.name).distinct().order_by(StageGate.name))),
            "gate_status": [s.value for s in workflow_gates.GateStatus],
        },
    }


def inbox_page(session: Session, caller: Caller, as_of: dt.date) -> dict[str, Any]:
    """What waits for the person: Past Due first, then oldest first; each with its milestone's approval
    view and a link to its contract."""
    items = inbox(session, caller.user_id)
    keys = sorted({i["milestone"] for i in items if i["milestone"]})
    pks = {}
    for text in keys:
        try:
            pks[text] = get_milestone(session, MilestoneKey.parse(text)).id
        except MsPrcsError:  # a milestone removed since (a lapsed optional one): shown without its view
            continue
    found = {
        a.key: a
        for a in view.milestone_approvals(session, as_of, view.milestones_in(list(pks.values())), every=True)
    }
    rows = []
    for item in items:
        a = found.get(item["milestone"] or "")
        key = MilestoneKey.parse(item["milestone"]) if item["milestone"] else None
        rows.append(
            {
                **item,
                "status": a.status if a else None,
                "approval": a.state.value if a and a.state else None,
                "past_due": bool(a and a.past_due),
                "past_due_words": a.past_due_words() if a else "",
                "contract": str(key.contract) if key else None,
                "contract_link": f"/contracts/{key.contract.business_unit}/{key.contract.contract_num}"
                f"#m-{key.milestone_id}-{key.milestone_num}"
                if key
                else None,
            }
        )
    rows.sort(key=lambda r: (not r["past_due"], r["id"]))
    return {"user": caller.user_id, "as_of": as_of, "items": rows}
