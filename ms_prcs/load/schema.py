"""The load file as pydantic models: what each section's entries may hold, with the columns' limits.

The whole file is validated against :class:`LoadDocument` before anything is written, so a file that is
wrong in its last entry is refused at once and with the path of that entry. ``ms-prcs load --schema``
prints the JSON Schema of these models, for editors that validate YAML and JSON as it is typed.

Field order is the order ``unknown key (known: ...)`` lists them in. Key parsing, lengths, ranges and
currencies are checked here; what needs the database (a role exists, a status move is allowed) is left to
the services the section loaders call.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any

from pydantic import model_validator

from contracts.finops_models import UserContact, WebhookSubscription
from contracts.limits import MAX_DAYS, column_length
from contracts.models import (
    AppUser,
    BusinessUnit,
    Classification,
    ContractLine,
    MilestoneCondition,
    MilestoneTemplate,
    PlanTemplate,
    ProjectActivity,
    Role,
)
from contracts.status import (
    ConditionType,
    ContractStatus,
    MilestoneSource,
    MilestoneStatus,
    PlanType,
    RequiredConditions,
)
from ms_prcs.approvals.models import MilestoneWorkflow, StageGate
from ms_prcs.inputs import (
    CONTRACT_KEY,
    CURRENCY,
    DATE,
    FLAG,
    MILESTONE_KEY,
    PERCENTAGE,
    VALUES,
    Amount,
    Choice,
    Entry,
    Key,
    Name,
    Text,
    Whole,
    empty,
    fail,
    kind,
)

BU = column_length(BusinessUnit.business_unit)
ROLE = column_length(Role.role_name)
USER = column_length(AppUser.user_id)
CLASSIFICATION = column_length(Classification.classification)
PROJECT = column_length(ProjectActivity.project_id)
ACTIVITY = column_length(ProjectActivity.activity_id)
STATUS = 20
MILESTONE_ID = column_length(MilestoneTemplate.milestone_id)
PLAN_TEMPLATE = column_length(PlanTemplate.template_id)
PRODUCT = column_length(ContractLine.product)
DESCR = 255
"""``descr`` columns are ``String(255)`` (the models' default for text)."""
GATE = column_length(StageGate.name)
PANEL = column_length(MilestoneWorkflow.panel)
CUSTOMER = 30
SQL_TEXT = column_length(MilestoneCondition.sql_text)

REQUIRED: dict[str, RequiredConditions] = {r.value.lower(): r for r in RequiredConditions}
CONDITION_TYPES: dict[str, ConditionType] = {
    "date": ConditionType.DATE,
    "sql": ConditionType.SQL,
    "user": ConditionType.USER,
    "user initiated": ConditionType.USER,
    "milestone": ConditionType.MILESTONE,
}
SOURCES: dict[str, MilestoneSource] = {s.value.lower(): s for s in MilestoneSource}
CONTRACT_STATUSES: dict[str, ContractStatus] = {s.value.lower(): s for s in ContractStatus}
LOADABLE_MILESTONE_STATUSES: dict[str, MilestoneStatus] = {
    "pending": MilestoneStatus.PENDING,
    "ready": MilestoneStatus.READY,
}
PLAN_TYPES: dict[str, PlanType] = {t.value.lower(): t for t in PlanType}
PLAN_STATUSES: dict[str, str] = {"pending": "Pending", "ready": "Ready"}


# --- reference data ------------------------------------------------------------------------------------


class BusinessUnitEntry(Entry):
    business_unit: Annotated[str, Key(BU)]
    descr: Annotated[str, Text(DESCR)] = ""
    currency: Annotated[str, CURRENCY] = "USD"


class RoleEntry(Entry):
    role: Annotated[str, Key(ROLE)]
    descr: Annotated[str, Text(DESCR)] = ""


class UserEntry(Entry):
    user: Annotated[str, Key(USER)]
    name: Annotated[str, Text(DESCR)] = ""
    roles: list[Annotated[str, Name(ROLE)]] = empty(list)


class ClassificationEntry(Entry):
    classification: Annotated[str, Key(CLASSIFICATION)]
    roles: list[Annotated[str, Name(ROLE)]]
    descr: Annotated[str, Text(DESCR)] = ""


class ActivityStatusEntry(Entry):
    effdt: Annotated[dt.date, DATE]
    status: Annotated[str, Key(STATUS)]


class ProjectActivityEntry(Entry):
    project: Annotated[str, Key(PROJECT)]
    activity: Annotated[str, Key(ACTIVITY)]
    descr: Annotated[str, Text(DESCR)] = ""
    active: Annotated[bool, FLAG] = True
    history: list[ActivityStatusEntry] = empty(list)


# --- milestone templates, contracts, milestones, conditions ---------------------------------------------


class ConditionEntry(Entry):
    type: Annotated[ConditionType, Choice(CONDITION_TYPES)]
    descr: Annotated[str, Text(DESCR)] = ""
    date: Annotated[dt.date, DATE] | None = None
    sql: Annotated[str, Text(SQL_TEXT)] | None = None
    ref: Annotated[str, Text(80)] | None = None
    days_lag: Annotated[int, Whole(0, MAX_DAYS)] = 0
    source: Annotated[MilestoneSource, Choice(SOURCES)] | None = None
    project: Annotated[str, Text(PROJECT)] | None = None
    activity: Annotated[str, Text(ACTIVITY)] | None = None
    activity_status: Annotated[str, Text(STATUS)] | None = None


class MilestoneTemplateEntry(Entry):
    milestone_id: Annotated[str, Key(MILESTONE_ID)]
    descr: Annotated[str, Text(DESCR)] = ""
    required: Annotated[RequiredConditions, Choice(REQUIRED)] | None = None
    classification: Annotated[str, Text(CLASSIFICATION)] | None = None
    conditions: list[ConditionEntry] = empty(list)


class LineEntry(Entry):
    line: Annotated[int, Whole(1)]
    amount: Annotated[Decimal, Amount(credits=True)]
    product: Annotated[str, Text(PRODUCT)] = ""


class MilestoneEntry(Entry):
    milestone_id: Annotated[str, Key(MILESTONE_ID)]
    num: Annotated[int, Whole(1)] | None = None
    template: Annotated[bool, FLAG] = False
    descr: Annotated[str, Text(DESCR)] | None = None
    required: Annotated[RequiredConditions, Choice(REQUIRED)] | None = None
    est_date: Annotated[dt.date, DATE] | None = None
    classification: Annotated[str, Text(CLASSIFICATION)] | None = None
    status: Annotated[MilestoneStatus, Choice(LOADABLE_MILESTONE_STATUSES)] | None = None
    conditions: list[ConditionEntry] = empty(list)


class ContractEntry(Entry):
    contract: Annotated[str, CONTRACT_KEY]
    descr: Annotated[str, Text(DESCR)] = ""
    customer: Annotated[str, Text(CUSTOMER)] = ""
    currency: Annotated[str, CURRENCY] | None = None
    status: Annotated[ContractStatus, Choice(CONTRACT_STATUSES)] | None = None
    attributes: Annotated[dict[str, str], VALUES] = empty(dict)
    lines: list[LineEntry] = empty(list)
    milestones: list[MilestoneEntry] = empty(list)


# --- billing and revenue plans -------------------------------------------------------------------------


class TemplateEventEntry(Entry):
    milestone: Annotated[str, Text(80)] | None = None
    date: Annotated[dt.date, DATE] | None = None
    percentage: Annotated[Decimal, PERCENTAGE] | None = None
    amount: Annotated[Decimal, Amount()] | None = None
    descr: Annotated[str, Text(DESCR)] = ""


class PlanEventEntry(Entry):
    milestone: Annotated[str, Text(80)] | None = None
    date: Annotated[dt.date, DATE] | None = None
    percentage: Annotated[Decimal, PERCENTAGE] | None = None
    amount: Annotated[Decimal, Amount()] | None = None
    descr: Annotated[str, Text(DESCR)] = ""
    status: Annotated[str, Choice(PLAN_STATUSES)] | None = None


class PlanTemplateEntry(Entry):
    template_id: Annotated[str, Key(PLAN_TEMPLATE)]
    type: Annotated[PlanType, Choice(PLAN_TYPES)]
    events: list[TemplateEventEntry]
    descr: Annotated[str, Text(DESCR)] = ""
    ready_on_activation: Annotated[bool, FLAG] = False


class PlanEntry(Entry):
    contract: Annotated[str, CONTRACT_KEY]
    line: Annotated[int, Whole(1)]
    plan_id: Annotated[str, Key(PLAN_TEMPLATE)] | None = None
    template: Annotated[str, Key(PLAN_TEMPLATE)] | None = None
    type: Annotated[PlanType, Choice(PLAN_TYPES)] | None = None
    descr: Annotated[str, Text(DESCR)] = ""
    status: Annotated[str, Choice(PLAN_STATUSES)] | None = None
    events: list[PlanEventEntry] = empty(list)

    @model_validator(mode="after")
    def _template_or_by_hand(self) -> PlanEntry:
        if self.has("template"):
            for name in ("type", "events"):
                if self.has(name):
                    fail("a plan made from a template takes its type and events from it", name)
        else:
            for name in ("plan_id", "type"):
                if not self.has(name):
                    fail("is required for a plan without a template", name)
        return self


# --- approvals ------------------------------------------------------------------------------------------


class ApprovalRuleTemplateEntry(Entry):
    milestone_template: Annotated[str, Key(MILESTONE_ID)]
    seq: Annotated[int, Whole(1)]
    roles: list[Annotated[str, Name(ROLE)]] = empty(list)
    team_roles: list[Annotated[str, Name(ROLE)]] = empty(list)
    users: list[Annotated[str, Name(USER)]] = empty(list)
    note_on_approve: Annotated[bool, FLAG] = False
    note_on_deny: Annotated[bool, FLAG] = False
    auto_approve: Annotated[bool, FLAG] = False
    submit: list[Annotated[str, Name(DESCR)]] = empty(list)
    on_approve: Annotated[str, Text(DESCR)] = ""
    on_deny: Annotated[str, Text(DESCR)] = ""
    complete_at_once: Annotated[bool, FLAG] = True


class ApprovalRuleEntry(Entry):
    milestone: Annotated[str, MILESTONE_KEY]
    seq: Annotated[int, Whole(1)]
    roles: list[Annotated[str, Name(ROLE)]] = empty(list)
    team_roles: list[Annotated[str, Name(ROLE)]] = empty(list)
    users: list[Annotated[str, Name(USER)]] = empty(list)
    note_on_approve: Annotated[bool, FLAG] = False
    note_on_deny: Annotated[bool, FLAG] = False
    auto_approve: Annotated[bool, FLAG] = False
    submit: list[Annotated[str, Name(DESCR)]] = empty(list)
    on_approve: Annotated[str, Text(DESCR)] = ""
    on_deny: Annotated[str, Text(DESCR)] = ""
    complete_at_once: Annotated[bool, FLAG] = True


class AssignmentEntry(Entry):
    milestone: Annotated[str, MILESTONE_KEY]
    user: Annotated[str, Key(USER)]


class TeamMemberEntry(Entry):
    user: Annotated[str, Key(USER)]
    role: Annotated[str, Key(ROLE)]


class ContractTeamEntry(Entry):
    contract: Annotated[str, CONTRACT_KEY]
    members: list[TeamMemberEntry]


# --- structure: steps, gates, deadlines, unset actions, blocking, optional triggers ---------------------


class TemplateWorkflowEntry(Entry):
    template: Annotated[str, Key(MILESTONE_ID)]
    step: Annotated[int, Whole(0)] | None = None
    sub_step: Annotated[int, Whole(0)] | None = None
    any_time: Annotated[bool, FLAG] | None = None
    gate: Annotated[str, Text(GATE)] | None = None
    ready_by: Annotated[dt.date, DATE] | None = None
    ready_by_days: Annotated[int, Whole(0, MAX_DAYS)] | None = None
    complete_by: Annotated[dt.date, DATE] | None = None
    complete_by_days: Annotated[int, Whole(0, MAX_DAYS)] | None = None
    unset_on: list[Annotated[str, Name(DESCR)]] | None = None
    blocks: list[Annotated[str, Name(STATUS)]] | None = None
    panel: Annotated[str, Text(PANEL)] | None = None
    save_and_complete: Annotated[bool, FLAG] | None = None
    optional: Annotated[bool, FLAG] | None = None
    manual_roles: list[Annotated[str, Name(ROLE)]] | None = None
    amount_source: Annotated[str, Text(STATUS)] | None = None
    thresholds: Annotated[dict[str, str], VALUES] | None = None
    attributes: Annotated[dict[str, str], VALUES] | None = None
    join: Annotated[str, Text(STATUS)] | None = None


class MilestoneWorkflowEntry(Entry):
    milestone: Annotated[str, MILESTONE_KEY]
    step: Annotated[int, Whole(0)] | None = None
    sub_step: Annotated[int, Whole(0)] | None = None
    any_time: Annotated[bool, FLAG] | None = None
    gate: Annotated[str, Text(GATE)] | None = None
    ready_by: Annotated[dt.date, DATE] | None = None
    ready_by_days: Annotated[int, Whole(0, MAX_DAYS)] | None = None
    complete_by: Annotated[dt.date, DATE] | None = None
    complete_by_days: Annotated[int, Whole(0, MAX_DAYS)] | None = None
    unset_on: list[Annotated[str, Name(DESCR)]] | None = None
    blocks: list[Annotated[str, Name(STATUS)]] | None = None
    panel: Annotated[str, Text(PANEL)] | None = None
    save_and_complete: Annotated[bool, FLAG] | None = None


# --- finance operations: holds, alert contacts, webhooks ----------------------------------------------


class HoldEntry(Entry):
    kind: Annotated[str, Choice({"contract": "contract", "plan": "plan", "event": "event"})]
    key: Annotated[str, Key(DESCR)]
    reason: Annotated[str, Key(None)]
    one_cycle: Annotated[bool, FLAG] = False


class AlertContactEntry(Entry):
    user: Annotated[str, Key(USER)]
    email: Annotated[str, Key(column_length(UserContact.email))]


class WebhookEntry(Entry):
    consumer: Annotated[str, Key(column_length(WebhookSubscription.consumer))]
    url: Annotated[str, Key(2000)]
    secret: Annotated[str, Key(column_length(WebhookSubscription.secret))]
    kinds: list[Annotated[str, Name(DESCR)]] = empty(list)
    max_attempts: Annotated[int, Whole(1, 1000)] = 8


# --- the document ---------------------------------------------------------------------------------------


class LoadDocument(Entry):
    """A load file: sections by name, in load order (:data:`ms_prcs.load.files.SECTIONS`)."""

    business_units: list[BusinessUnitEntry] = []
    roles: list[RoleEntry] = []
    users: list[UserEntry] = []
    classifications: list[ClassificationEntry] = []
    project_activities: list[ProjectActivityEntry] = []
    milestone_templates: list[MilestoneTemplateEntry] = []
    approval_rule_templates: list[ApprovalRuleTemplateEntry] = []
    milestone_template_workflows: list[TemplateWorkflowEntry] = []
    contracts: list[ContractEntry] = []
    plan_templates: list[PlanTemplateEntry] = []
    plans: list[PlanEntry] = []
    approval_rules: list[ApprovalRuleEntry] = []
    milestone_assignments: list[AssignmentEntry] = []
    contract_teams: list[ContractTeamEntry] = []
    milestone_workflows: list[MilestoneWorkflowEntry] = []
    optional_evaluate: list[Annotated[str, CONTRACT_KEY]] = []
    holds: list[HoldEntry] = []
    alert_contacts: list[AlertContactEntry] = []
    webhooks: list[WebhookEntry] = []

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        if data is None:
            return {}
        if not isinstance(data, dict):
            fail(f"expected a mapping of sections, got {kind(data)}")
        known = list(cls.model_fields)
        for name in data:
            if name not in known:
                fail(f"unknown section (known: {', '.join(known)})", str(name))
        return data


SECTION_NAMES: tuple[str, ...] = tuple(LoadDocument.model_fields)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a load file (``ms-prcs load --schema``)."""
    schema = LoadDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ms-prcs load file"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False)
