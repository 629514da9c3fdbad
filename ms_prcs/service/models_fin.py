"""Request and response bodies of the finance operations (issue 16): holds, reversals and corrections, the
work queue's mass updates, alerts and webhook subscriptions. The responses are the library's own frozen
values (``HoldView``, ``MassResult``, ``SubscriptionView``, ...) field for field, so the CLI's ``--json`` and
the API answer the same data."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from ms_prcs.service.models import Body

Text = Field(default="", max_length=254)

# --- holds --------------------------------------------------------------------------------------------


class HoldRequest(Body):
    kind: Literal["contract", "plan", "event"]
    key: str = Field(min_length=3, max_length=120, description="BU/CONTRACT, .../LINE/PLAN_ID or .../NUM")
    reason: str = Field(min_length=1, max_length=254)
    one_cycle: bool = False


class ReleaseRequest(Body):
    reason: str = Text
    as_of: dt.date | None = None
    """Events due by this date are announced (default: today)."""


class HoldOut(BaseModel):
    hold_id: int
    kind: str
    key: str
    business_unit: str
    status: str
    reason: str
    one_cycle: bool
    held_at: dt.datetime
    held_by: str
    released_at: dt.datetime | None
    released_by: str | None
    release_reason: str


class Released(BaseModel):
    hold: HoldOut
    announced: int
    message: str


# --- reversals and corrections ------------------------------------------------------------------------


class PlanUndone(BaseModel):
    plan: str
    status: str
    events: list[str]
    plan_reopened: bool
    feed_entries: int
    message: str


class Replacement(BaseModel):
    event: str
    replaces: str
    status: str
    message: str


# --- the work queue -----------------------------------------------------------------------------------


class QueueFilterIn(Body):
    """The queue's filter, as ``ms-prcs queue list`` takes it (``business_unit`` required)."""

    business_unit: str = Field(min_length=1, max_length=5)
    milestone_id: str | None = Field(default=None, min_length=1, max_length=30)
    est_from: dt.date | None = None
    est_to: dt.date | None = None
    type: Literal["date", "user", "sql", "milestone"] | None = None
    contract: str | None = Field(default=None, min_length=1, max_length=25)
    customer: str | None = Field(default=None, min_length=1, max_length=60)
    reason: str | None = Field(default=None, min_length=1, max_length=40)


class MassRequest(Body):
    """A mass update over ``filter`` or over ``keys`` (one of the two): conditions ``BU/CONTRACT/MS_ID/NUM#SEQ``
    for complete and set-date, milestones ``BU/CONTRACT/MS_ID/NUM`` for ready and pending."""

    filter: QueueFilterIn | None = None
    keys: list[str] | None = Field(default=None, max_length=10000)
    as_of: dt.date | None = None
    dry_run: bool = False
    atomic: bool = False


class SetDateRequest(MassRequest):
    date: dt.date | None = None
    shift: int | None = Field(default=None, ge=-36500, le=36500)


class ItemOut(BaseModel):
    key: str
    outcome: str
    detail: str


class MassOut(BaseModel):
    operation: str
    atomic: bool
    dry_run: bool
    applied: bool
    changed: int
    refused: int
    items: list[ItemOut]


class QueueRow(BaseModel):
    milestone: str
    contract_num: str
    customer: str | None
    milestone_id: str
    descr: str | None
    est_completion_date: dt.date | None
    reasons: list[str]
    why: str


class QueueOut(BaseModel):
    business_unit: str
    as_of: dt.date
    page: int
    page_size: int
    total: int
    rows: list[QueueRow]


# --- alerts and webhooks ------------------------------------------------------------------------------


class AlertSend(Body):
    business_unit: str | None = Field(default=None, min_length=1, max_length=5)
    as_of: dt.date | None = None
    dry_run: bool = False


class AlertOut(BaseModel):
    milestone: str
    level: str
    condition_seq: int
    text: str
    recipients: list[str]
    error: str = ""


class AlertsSent(BaseModel):
    dry_run: bool
    sent: list[AlertOut]
    emails: int
    unaddressed: list[AlertOut]
    failed: list[AlertOut]


class WebhookIn(Body):
    consumer: str = Field(min_length=1, max_length=40)
    url: str = Field(min_length=1, max_length=500)
    secret: str = Field(min_length=16, max_length=200, description="Never returned after creation.")
    kinds: list[str] = Field(default=[], max_length=20)
    max_attempts: int = Field(default=8, ge=1, le=1000)


class WebhookOut(BaseModel):
    consumer: str
    url: str
    kinds: list[str]
    max_attempts: int
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    acked_through: int
    last_error: str


class Replay(Body):
    from_cursor: int = Field(ge=1, le=2**62)
