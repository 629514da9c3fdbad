"""The approval layer's tables (DESIGN 11): data added beside the PeopleSoft statuses, never replacing them.

The milestone and condition statuses of ``models.py`` stay the single source of truth: an approval *is* a
User Initiated condition, and approving it *is* Mark Complete. What this module adds is configuration
(who may approve, how a milestone is submitted, steps, gates, deadlines, triggers, unset actions, blocking)
and the approval history from which the approval view (Not Ready for Approval, Ready for Approval,
Approved, Not Approved, Past Due) is derived. Side tables keep the engine's hot ``milestone`` rows narrow.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contracts.models import Base


class MilestoneWorkflowFields:
    """Ordering, grouping, deadlines, unset actions and blocking: on a milestone template and copied to milestones."""

    step: Mapped[int] = mapped_column(default=0)
    """Milestones complete in step order; same step = any order; 0 = no order (the PeopleSoft default)."""
    sub_step: Mapped[int] = mapped_column(default=0)
    any_time: Mapped[bool] = mapped_column(Boolean, default=False)
    """May be submitted and approved before earlier steps finish."""
    stage_gate: Mapped[str | None] = mapped_column(String(30))
    ready_by_date: Mapped[dt.date | None] = mapped_column(Date)
    ready_by_days: Mapped[int | None]
    """Ready (submitted) deadline as days after contract activation, when no fixed date is given."""
    complete_by_date: Mapped[dt.date | None] = mapped_column(Date)
    complete_by_days: Mapped[int | None]
    unset_on_amount: Mapped[bool] = mapped_column(Boolean, default=False)
    unset_on_detail: Mapped[bool] = mapped_column(Boolean, default=False)
    unset_on_reopen: Mapped[bool] = mapped_column(Boolean, default=False)
    blocks_statuses: Mapped[str] = mapped_column(String(60), default="")
    """Comma-separated contract statuses (e.g. ``Active,Closed``) refused until this milestone is Completed."""
    panel: Mapped[str | None] = mapped_column(String(30))
    """The panel (section of the contract's milestones page) the milestone is shown on; None = Milestones."""
    save_and_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    """Approving it may close the contract in the same step (the seed's Save & Complete button)."""


class MilestoneWorkflow(MilestoneWorkflowFields, Base):
    __tablename__ = "milestone_workflow"
    milestone_pk: Mapped[int] = mapped_column(ForeignKey("milestone.id"), primary_key=True)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    """Added by an optional template's trigger (or by hand); removed again if the trigger lapses before anyone acts."""


class MilestoneTemplateWorkflow(MilestoneWorkflowFields, Base):
    __tablename__ = "milestone_template_workflow"
    milestone_id: Mapped[str] = mapped_column(ForeignKey("milestone_template.milestone_id"), primary_key=True)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    manual_add_roles: Mapped[str] = mapped_column(String(255), default="")
    """Roles allowed to add this optional milestone by hand; empty = everyone who can edit the contract."""
    trigger_join: Mapped[str] = mapped_column(String(3), default="AND")
    """How the amount trigger and the attribute trigger combine: ``AND`` or ``OR``."""
    amount_source: Mapped[str | None] = mapped_column(String(20))
    """``line`` | ``billing`` | ``revenue``: which amounts the threshold compares (None = no amount trigger)."""


class OptionalThreshold(Base):
    """The amount over which an optional milestone is added; may differ per business unit ('*' = default)."""

    __tablename__ = "optional_threshold"
    milestone_id: Mapped[str] = mapped_column(ForeignKey("milestone_template.milestone_id"), primary_key=True)
    business_unit: Mapped[str] = mapped_column(String(5), primary_key=True)
    amount: Mapped[Decimal]


class OptionalAttributeTrigger(Base):
    """All name=value pairs of one template must hold on the contract for the attribute trigger to hold."""

    __tablename__ = "optional_attribute_trigger"
    milestone_id: Mapped[str] = mapped_column(ForeignKey("milestone_template.milestone_id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class StageGate(Base):
    """A named, ordered group of a contract's milestones; its status is derived, never stored."""

    __tablename__ = "stage_gate"
    __table_args__ = (UniqueConstraint("contract_pk", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    name: Mapped[str] = mapped_column(String(30))
    gate_seq: Mapped[int]


class ContractTeam(Base):
    """Contract team roles (e.g. Project Manager) for approver rules, beside the users' system roles."""

    __tablename__ = "contract_team"
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), primary_key=True)
    team_role: Mapped[str] = mapped_column(String(30), primary_key=True)


class ApprovalFields:
    """An approval's configuration: on a User Initiated condition template and copied to the condition."""

    approver_roles: Mapped[str] = mapped_column(String(255), default="")
    approver_team_roles: Mapped[str] = mapped_column(String(255), default="")
    approver_users: Mapped[str] = mapped_column(String(255), default="")
    note_on_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    note_on_deny: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    submit_manual: Mapped[bool] = mapped_column(Boolean, default=True)
    submit_on_status: Mapped[str | None] = mapped_column(String(20))
    submit_after_steps: Mapped[bool] = mapped_column(Boolean, default=False)
    submit_attr_name: Mapped[str | None] = mapped_column(String(50))
    submit_attr_values: Mapped[str] = mapped_column(String(255), default="")
    on_approve: Mapped[str] = mapped_column(Text, default="")
    """Follow-up actions after an approval, e.g. ``event_ready;contract_status=Active;notify=jdoe``."""
    on_deny: Mapped[str] = mapped_column(Text, default="")
    complete_at_once: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa.true())
    """An approval that completes what its milestone needs has the engine complete the milestone at once (a
    run scoped to it and what it frees); false: the next run does."""


class ApprovalRule(ApprovalFields, Base):
    __tablename__ = "approval_rule"
    condition_pk: Mapped[int] = mapped_column(ForeignKey("milestone_condition.id"), primary_key=True)


class ApprovalRuleTemplate(ApprovalFields, Base):
    __tablename__ = "approval_rule_template"
    milestone_id: Mapped[str] = mapped_column(primary_key=True)
    condition_seq: Mapped[int] = mapped_column(primary_key=True)


class ApprovalAction(Base):
    """Append-only history of an approval: Submitted, Withdrawn, Approved, Not Approved, Unapproved, Reverted.

    The approval view is derived from the latest action and the condition's status; every decision keeps
    who, when and the note.
    """

    __tablename__ = "approval_action"
    __table_args__ = (Index("ix_approval_action_condition", "condition_pk", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    condition_pk: Mapped[int] = mapped_column(ForeignKey("milestone_condition.id"))
    action: Mapped[str] = mapped_column(String(20))
    via: Mapped[str] = mapped_column(String(20), default="")
    """How a submission happened: manual, status, steps, attribute, auto."""
    note: Mapped[str] = mapped_column(Text, default="")
    acted_by: Mapped[str] = mapped_column(String(40))
    acted_at: Mapped[dt.datetime] = mapped_column(DateTime)


class InboxItem(Base):
    """A notification waiting for a person: an assignment, a submission to approve, a follow-up."""

    __tablename__ = "inbox_item"
    __table_args__ = (Index("ix_inbox_item_user", "user_id", "done"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(30))
    milestone_pk: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class MilestoneAssignment(Base):
    """The person a milestone is assigned to (Milestone Assignment): notified, and listed in their inbox."""

    __tablename__ = "milestone_assignment"
    milestone_pk: Mapped[int] = mapped_column(ForeignKey("milestone.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), primary_key=True)
    assigned_at: Mapped[dt.datetime] = mapped_column(DateTime)
