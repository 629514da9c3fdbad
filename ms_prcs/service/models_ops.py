"""Request and response bodies of the operational side: approvals, the inbox, plans and events, the feed,
runs and tokens (the contract and milestone bodies are in :mod:`ms_prcs.service.models`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from billing_plans.feed import BillingHandout  # the feed's own record: one field list
from ms_prcs.service.models import Body, Id, Stamp

# --- approvals and the inbox --------------------------------------------------------------------------


class ApprovalRow(BaseModel):
    seq: int
    descr: str
    condition_status: str
    approval: str
    rule: dict[str, Any]
    last_action: str | None
    last_by: str | None
    last_at: Stamp | None
    last_note: str | None


class ApprovalHistoryRow(BaseModel):
    seq: int
    action: str
    via: str | None
    by: str
    at: Stamp
    note: str | None


class MilestoneApprovals(BaseModel):
    """A milestone's approval view, like ``ms-prcs approval show --json``."""

    milestone: str
    descr: str
    status: str
    approval: str | None
    past_due: bool
    ready_by: dt.date | None
    complete_by: dt.date | None
    ready_late: bool
    complete_late: bool
    assigned: list[str]
    approvals: list[ApprovalRow]
    history: list[ApprovalHistoryRow] = []


class InboxItem(BaseModel):
    id: int
    created_at: Stamp
    milestone: str | None
    text: str
    done: bool


class Dismiss(Body):
    ids: list[Id] = Field(min_length=1, max_length=1000)


# --- plans and events ---------------------------------------------------------------------------------


class EventSummary(BaseModel):
    event: str
    event_num: int
    event_type: str
    status: str
    milestone: str | None
    milestone_status: str | None
    event_date: dt.date | None
    share: str
    amount: Decimal
    feed_cursor: int | None
    descr: str


class PlanSummary(BaseModel):
    plan: str
    plan_type: str
    status: str
    template_id: str | None
    descr: str
    line_amount: Decimal
    currency: str
    total_percentage: Decimal
    not_completed_because: str | list[str] | None
    events: list[EventSummary]


class AutoReady(BaseModel):
    milestone: str
    status: str
    reason: str


class CreatedPlan(PlanSummary):
    milestones: list[AutoReady]


class PlanFromTemplate(Body):
    """``plan create --template T BU/CONTRACT LINE [--plan-id P]``."""

    template: str = Field(min_length=1, max_length=30)
    contract: str = Field(min_length=3, max_length=60)
    line: int = Field(ge=1, le=2**31 - 1)
    plan_id: str | None = Field(default=None, min_length=1, max_length=30)


class PlanReady(Body):
    events: bool = False


class EventMoved(BaseModel):
    event: str
    status: str
    plan_completed: bool
    plan_reopened: bool = False
    """A reversal or credit took the plan out of Completed (it is Ready again)."""
    feed_entries: int = 0
    message: str


# --- the feed -----------------------------------------------------------------------------------------


class FeedRecord(BaseModel):
    """One feed entry, the record ``ms-prcs feed read`` prints as a JSON line."""

    cursor: int
    kind: str
    key: str
    business_unit: str
    contract_num: str
    milestone: str | None
    completed_on: dt.date | None
    line_num: int | None
    plan_type: str | None
    plan_id: str | None
    event_num: int | None
    event_type: str | None
    event_date: dt.date | None
    percentage: Decimal | None
    amount: Decimal | None
    currency: str | None
    as_of: dt.date | None
    process_instance: int | None
    created_at: Stamp


class FeedPage(BaseModel):
    consumer: str
    acked_through: int
    entries: list[FeedRecord]


class Ack(Body):
    through: int = Field(ge=0, le=2**63 - 1, description="The last cursor processed (inclusive).")


class AckResult(BaseModel):
    """Like ``ms-prcs --json feed ack``: ``claimed`` are this consumer's to bill."""

    consumer: str
    previous: int
    acked_through: int
    entries: int
    claimed: list[str]
    billing_events: list[BillingHandout]


class ConsumerRow(BaseModel):
    consumer: str
    acked_through: int
    waiting: int
    updated_at: Stamp


# --- runs ---------------------------------------------------------------------------------------------


class RunStart(Body):
    """The run control of ``ms-prcs run``: empty ``business_units`` is every business unit."""

    business_units: list[str] = Field(default=[], max_length=100)
    contract: str | None = Field(default=None, max_length=60)
    milestone: str | None = Field(default=None, max_length=120)
    as_of: dt.date | None = None
    dry_run: bool = False


class RunRequestView(BaseModel):
    """A run started over HTTP: ``Starting`` until its process has the run lock, then ``Running`` (with its
    process instance), and ``Done``, ``Refused`` or ``Failed``. A dry run has no process instance: its
    result is here when it is ``Done``."""

    request: int
    state: str
    requested_by: str
    requested_at: Stamp
    run_control: dict[str, Any]
    process_instance: int | None
    result: dict[str, Any] | None
    error: str | None
    watch: str


class RunRow(BaseModel):
    process_instance: int
    as_of: dt.date
    scope: str
    trigger: str
    job: str
    started_at: Stamp
    ended_at: Stamp | None
    outcome: str
    milestones_completed: int
    conditions_completed: int
    errors: int
    warnings: int


class RunMessageRow(BaseModel):
    severity: str
    object: str
    text: str


class RunDetail(RunRow):
    """One run, like ``ms-prcs --json runs show``."""

    run_control: dict[str, Any]
    dry_run: bool
    host: str
    pid: int | None
    heartbeat_at: Stamp | None
    milestones_processed: int
    chunks: int
    passes: int
    feed_entries: int
    conditions_by_type: dict[str, int]
    messages: list[RunMessageRow]


# --- tokens -------------------------------------------------------------------------------------------


class TokenRow(BaseModel):
    id: int
    user: str
    prefix: str
    scopes: list[str]
    descr: str
    created_at: Stamp
    created_by: str
    expires_at: Stamp | None
    last_used_at: Stamp | None
    revoked_at: Stamp | None
    consumer: str | None = Field(
        default=None, description="The one feed consumer the token may use; null: every consumer."
    )


class NewToken(TokenRow):
    token: str = Field(description="The token's text: shown this once, never again.")


class TokenCreate(Body):
    user: str = Field(min_length=1, max_length=30)
    scopes: list[str] = Field(min_length=1, max_length=5)
    descr: str = Field(default="", max_length=200)
    expires_days: int | None = Field(default=None, ge=1, le=3650)
    consumer: str | None = Field(
        default=None, min_length=1, max_length=40, description="Bind a feed token to this feed consumer."
    )
