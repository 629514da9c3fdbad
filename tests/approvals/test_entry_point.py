"""The approval layer's one entry point (``ms_prcs.approvals.hooks``) against the bare domain services.

``contracts`` may not read the approval layer's tables, so its ``add_milestone`` copies only what it owns and
its Mark Complete knows no approvals; what the layer adds happens in the entry point every front end calls.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from contracts import milestones
from contracts.audit import Who
from contracts.errors import RuleViolation
from contracts.keys import ContractKey, MilestoneKey
from contracts.models import Milestone
from ms_prcs.approvals import hooks
from ms_prcs.approvals.models import ApprovalRule, MilestoneWorkflow
from tests.approvals.helpers import K1000, ok
from tests.conftest import CliInvoke

WHO = Who("admin", dt.datetime(2026, 1, 5, 9, 0))


def _config(session: Session, milestone: Milestone) -> tuple[bool, MilestoneWorkflow | None]:
    rule = session.scalar(select(ApprovalRule).where(ApprovalRule.condition_pk == milestone.conditions[0].id))
    return rule is not None, session.get(MilestoneWorkflow, milestone.id)


def test_a_milestone_added_through_the_entry_point_gets_its_templates_rule_and_structure(
    world: CliInvoke, engine: Engine
) -> None:
    ok(world, "template", "milestone", "add", "MSX", "--condition", "type=user,descr=Sign-off")
    ok(world, "approval", "rule", "MSX", "1", "--role", "FIN")
    ok(world, "template", "milestone", "workflow", "MSX", "--step", "2", "--gate", "Build")
    contract = ContractKey.parse(K1000)
    with Session(engine) as session:
        through_hooks = hooks.add_milestone(session, contract, "MSX", WHO, from_template=True)
        bare = milestones.add_milestone(session, contract, "MSX", WHO, from_template=True)
        has_rule, workflow = _config(session, through_hooks)
        assert has_rule
        assert workflow is not None and (workflow.step, workflow.stage_gate) == (2, "Build")
        assert _config(session, bare) == (False, None)
        by_hand = hooks.add_milestone(session, contract, "MSX", WHO)  # not from the template: nothing copied
        assert by_hand.conditions == [] and session.get(MilestoneWorkflow, by_hand.id) is None


def test_mark_complete_through_the_entry_point_refuses_an_approval(world: CliInvoke, engine: Engine) -> None:
    ok(world, "template", "milestone", "add", "MSX", "--condition", "type=user,descr=Sign-off")
    ok(world, "approval", "rule", "MSX", "1", "--role", "FIN")
    contract = ContractKey.parse(K1000)
    with Session(engine) as session:
        row = hooks.add_milestone(session, contract, "MSX", WHO, from_template=True)
        key = MilestoneKey.parse(row.key)
        for refused in (hooks.mark_complete, hooks.undo_mark_complete):
            with pytest.raises(RuleViolation, match="is an approval: only an eligible approver"):
                refused(session, key, 1, WHO)
