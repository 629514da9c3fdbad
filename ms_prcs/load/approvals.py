"""Approval sections (``ms_prcs.approvals``): rule templates, rules, assignments, contract teams, and the
approvals the loaded file calls for, submitted after every file."""

from __future__ import annotations

from contracts.keys import ContractKey, MilestoneKey
from ms_prcs.approvals import inbox as approval_inbox
from ms_prcs.approvals import rules as approval_rules
from ms_prcs.approvals import submit as approval_submit
from ms_prcs.approvals.config import approval as approval_config
from ms_prcs.approvals.view import every_milestone
from ms_prcs.load.context import LoadContext, at
from ms_prcs.load.schema import (
    ApprovalRuleEntry,
    ApprovalRuleTemplateEntry,
    AssignmentEntry,
    ContractTeamEntry,
)


def approval_rule(
    entry: ApprovalRuleEntry | ApprovalRuleTemplateEntry, path: str
) -> approval_config.RuleSpec:
    """An approval rule: the same words as ``ms-prcs approval rule`` (``submit: [manual, status=Active]``)."""
    with at(path):
        return approval_config.RuleSpec(
            roles=tuple(entry.roles),
            team_roles=tuple(entry.team_roles),
            users=tuple(entry.users),
            note_on_approve=entry.note_on_approve,
            note_on_deny=entry.note_on_deny,
            auto_approve=entry.auto_approve,
            submit=approval_config.SubmitModes.parse(entry.submit),
            on_approve=approval_config.parse_followups(entry.on_approve, "on_approve"),
            on_deny=approval_config.parse_followups(entry.on_deny, "on_deny"),
            complete_at_once=entry.complete_at_once,
        )


def submit_due_approvals(ctx: LoadContext) -> None:
    """After every file: submit the approvals that the loaded contracts' statuses, attributes and steps call
    for (a file sets Ready milestones at its end, before its contract statuses)."""
    ctx.session.flush()
    done = approval_submit.auto_submit(ctx.session.connection(), every_milestone, ctx.who, ctx.who.at.date())
    ctx.session.expire_all()
    if done:
        ctx.counts["approvals submitted"] += len(done)


def load_approval_rule_templates(
    ctx: LoadContext, section: list[ApprovalRuleTemplateEntry], path: str
) -> None:
    """Rules of milestone templates' User Initiated conditions (``milestone_template``, ``seq``), before the
    contracts, so milestones added from the templates copy them."""
    for i, entry in enumerate(section):
        item_path = f"{path}[{i}]"
        spec = approval_rule(entry, item_path)
        with at(item_path):
            approval_config.set_template_rule(ctx.session, entry.milestone_template, entry.seq, spec)
        ctx.counts["approval rule templates"] += 1


def load_approval_rules(ctx: LoadContext, section: list[ApprovalRuleEntry], path: str) -> None:
    """Rules of contract milestones' User Initiated conditions (``milestone``: a full key, ``seq``); set
    while the milestones are still Pending (their Ready moves wait for the end of the file)."""
    for i, entry in enumerate(section):
        item_path = f"{path}[{i}]"
        spec = approval_rule(entry, item_path)
        with at(item_path):
            approval_config.set_rule(
                ctx.session, MilestoneKey.parse(entry.milestone), entry.seq, spec, ctx.who
            )
        ctx.counts["approval rules"] += 1


def load_milestone_assignments(ctx: LoadContext, section: list[AssignmentEntry], path: str) -> None:
    """``milestone`` (a full key) assigned to ``user``, who is notified."""
    for i, entry in enumerate(section):
        with at(f"{path}[{i}]"):
            approval_inbox.assign(ctx.session, MilestoneKey.parse(entry.milestone), entry.user, ctx.who)
        ctx.counts["milestone assignments"] += 1


def load_contract_teams(ctx: LoadContext, section: list[ContractTeamEntry], path: str) -> None:
    """A contract's team: ``contract`` and ``members`` (``user``, ``role``). Late in the file, because once
    a contract has a team only its members may edit it."""
    for i, entry in enumerate(section):
        key = ContractKey.parse(entry.contract)
        for j, member in enumerate(entry.members):
            with at(f"{path}[{i}].members[{j}]"):
                approval_rules.add_team_member(ctx.session, key, member.user, member.role, ctx.who.user)
            ctx.counts["contract team members"] += 1
