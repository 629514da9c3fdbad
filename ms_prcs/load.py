"""``ms-prcs load``: business units, users, templates, contracts, milestones and activities from YAML or JSON.

A load file goes through the same services as the CLI (so it obeys the same rules), in the caller's one
transaction: a bad file is refused whole and nothing is written. Every error names the path of the
offending entry (``contracts[1].milestones[0].conditions[2].date``); keys the loader does not know are
errors too, because a typo silently ignored is a field silently lost.

The file is read section by section in the fixed order of :data:`SECTIONS`, whatever their order in the
file, so that what an entry names (a role, a template, an activity) exists before it. Appending a section
is one loader function and one row in the table. Moves that need everything in place (a milestone set
Ready through the edit checks, a contract's status) are deferred to the end of the file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from billing_plans import events as plan_events
from billing_plans import plans
from billing_plans.keys import EventKey, PlanKey
from billing_plans.templates import TemplateEventSpec, add_plan_template
from conditions.approvals import config as approval_config
from conditions.approvals import inbox as approval_inbox
from conditions.approvals import rules as approval_rules
from conditions.approvals import submit as approval_submit
from conditions.approvals.view import every_milestone
from conditions.ready import make_ready
from conditions.sql_rules import SqlRules
from contracts import admin, milestones, projects, templates
from contracts.audit import Who
from contracts.errors import InvalidInput, LoadError, MsPrcsError
from contracts.keys import ContractKey, MilestoneKey, get_contract, get_milestone
from contracts.specs import ConditionSpec
from contracts.status import (
    ConditionType,
    ContractStatus,
    CreatedFrom,
    EventType,
    MilestoneSource,
    MilestoneStatus,
    PlanType,
    RequiredConditions,
)
from contracts.workflow import config as workflow_config
from ms_prcs import workflow_hooks

E = TypeVar("E")

# --- the context every section loader gets -----------------------------------------------------------


@dataclass
class LoadContext:
    """The transaction's session, the acting user, the SQL rules for Ready, what was loaded, and the moves
    deferred to the end of the file."""

    session: Session
    who: Who
    rules: SqlRules
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    deferred: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def defer(self, path: str, action: Callable[[], None]) -> None:
        """Run ``action`` after every section of the file is loaded; its errors are reported at ``path``."""
        self.deferred.append((path, action))

    def run_deferred(self) -> None:
        deferred, self.deferred = self.deferred, []
        for path, action in deferred:
            with at(path):
                action()


@dataclass(frozen=True)
class LoadSummary:
    files: tuple[str, ...]
    counts: dict[str, int]
    warnings: tuple[str, ...] = ()


@contextmanager
def at(path: str) -> Iterator[None]:
    """Re-raise any refusal inside the block as a LoadError at ``path``, keeping the service's message."""
    try:
        yield
    except LoadError:
        raise
    except MsPrcsError as exc:
        raise LoadError(path, str(exc)) from exc
    except DBAPIError as exc:
        first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
        raise LoadError(path, f"the database refused it: {first_line}") from exc


# --- reading entries -----------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


class Entry:
    """One mapping of the file and its path, with typed getters that fail at the field's own path."""

    def __init__(self, data: Any, path: str, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        if not isinstance(data, Mapping):
            raise LoadError(path, f"expected a mapping, got {_kind(data)}")
        self.data: Mapping[Any, Any] = data
        self.path = path
        known = [*required, *optional]
        for name in data:
            if name not in known:
                raise LoadError(self.at(str(name)), f"unknown key (known: {', '.join(known)})")
        for name in required:
            if data.get(name) is None:
                raise LoadError(self.at(name), "is required")

    def at(self, name: str) -> str:
        return f"{self.path}.{name}"

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise LoadError(self.at(name), f"expected text, got {_kind(value)}")
        return str(value)

    def optional_text(self, name: str) -> str | None:
        return self.text(name) if self.has(name) else None

    def integer(self, name: str, default: int = 0, minimum: int | None = None) -> int:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise LoadError(self.at(name), f"expected a whole number, got {_kind(value)}")
        try:
            number = int(value)
        except ValueError:
            raise LoadError(self.at(name), f"expected a whole number, got {_kind(value)}") from None
        if minimum is not None and number < minimum:
            raise LoadError(self.at(name), f"must be {minimum} or more, got {number}")
        return number

    def decimal(self, name: str) -> Decimal:
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise LoadError(self.at(name), f"expected a number, got {_kind(value)}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise LoadError(self.at(name), f"expected a number, got {_kind(value)}") from None
        if not number.is_finite():
            raise LoadError(self.at(name), f"expected a number, got {_kind(value)}")
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise LoadError(self.at(name), f"expected true or false, got {_kind(value)}")
        return value

    def date(self, name: str) -> dt.date | None:
        """YAML reads ``2026-01-31`` as a date already; JSON gives the same text as a string."""
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            raise LoadError(self.at(name), f"expected a date (YYYY-MM-DD), got a date and time {value}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise LoadError(self.at(name), f"expected a date of the form YYYY-MM-DD, got {_kind(value)}")

    def choice(self, name: str, choices: Mapping[str, E]) -> E | None:
        """A value from ``choices`` (keys lower-case), matched case-insensitively."""
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lower() in choices:
            return choices[value.strip().lower()]
        raise LoadError(self.at(name), f"expected one of {', '.join(choices)}, got {_kind(value)}")

    def items(self, name: str) -> list[tuple[Any, str]]:
        """The elements of a list field with their paths (``lines[0]``); absent means empty."""
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise LoadError(self.at(name), f"expected a list, got {_kind(value)}")
        return [(item, f"{self.at(name)}[{i}]") for i, item in enumerate(value)]

    def names(self, name: str) -> list[str]:
        """A list of names (roles), each a plain string."""
        result = []
        for item, path in self.items(name):
            if not isinstance(item, str) or not item.strip():
                raise LoadError(path, f"expected a name, got {_kind(item)}")
            result.append(item.strip())
        return result

    def mapping(self, name: str) -> dict[str, str]:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise LoadError(self.at(name), f"expected a mapping of names to values, got {_kind(value)}")
        result: dict[str, str] = {}
        for key, item in value.items():
            if isinstance(item, bool) or not isinstance(item, str | int | float | Decimal | dt.date):
                raise LoadError(f"{self.at(name)}.{key}", f"expected a value, got {_kind(item)}")
            result[str(key)] = item.isoformat() if isinstance(item, dt.date) else str(item)
        return result


def _entries(section: Any, path: str) -> list[tuple[Any, str]]:
    if not isinstance(section, list):
        raise LoadError(path, f"expected a list of entries, got {_kind(section)}")
    return [(item, f"{path}[{i}]") for i, item in enumerate(section)]


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
CONDITION_FIELDS = (
    "descr",
    "date",
    "sql",
    "ref",
    "days_lag",
    "source",
    "project",
    "activity",
    "activity_status",
)


def _condition_spec(entry: Entry, ref: MilestoneKey | None, ref_milestone_id: str | None) -> ConditionSpec:
    kind = entry.choice("type", CONDITION_TYPES)
    assert kind is not None  # required
    source = entry.choice("source", SOURCES)
    project_given = any(entry.has(k) for k in ("project", "activity", "activity_status"))
    return ConditionSpec(
        condition_type=kind,
        descr=entry.text("descr"),
        condition_date=entry.date("date"),
        sql_text=entry.optional_text("sql"),
        source=source or (MilestoneSource.PROJECTS if project_given else None),
        ref=ref,
        ref_milestone_id=ref_milestone_id,
        days_lag=entry.integer("days_lag"),
        project_id=entry.optional_text("project"),
        activity_id=entry.optional_text("activity"),
        activity_status=entry.optional_text("activity_status"),
    )


# --- the sections, in load order ----------------------------------------------------------------


def load_business_units(ctx: LoadContext, section: Any, path: str) -> None:
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["business_unit"], ["descr", "currency"])
        with at(item_path):
            admin.add_business_unit(
                ctx.session,
                entry.text("business_unit"),
                entry.text("descr"),
                entry.text("currency", "USD").upper(),
            )
        ctx.counts["business units"] += 1


def load_roles(ctx: LoadContext, section: Any, path: str) -> None:
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["role"], ["descr"])
        with at(item_path):
            admin.add_role(ctx.session, entry.text("role"), entry.text("descr"))
        ctx.counts["roles"] += 1


def load_users(ctx: LoadContext, section: Any, path: str) -> None:
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["user"], ["name", "roles"])
        roles = entry.names("roles")
        with at(item_path):
            admin.add_user(ctx.session, entry.text("user"), entry.text("name"), roles)
        ctx.counts["users"] += 1


def load_classifications(ctx: LoadContext, section: Any, path: str) -> None:
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["classification", "roles"], ["descr"])
        roles = entry.names("roles")
        with at(item_path):
            admin.add_classification(ctx.session, entry.text("classification"), roles, entry.text("descr"))
        ctx.counts["classifications"] += 1


def load_project_activities(ctx: LoadContext, section: Any, path: str) -> None:
    """Activities with their status history; ``active: false`` inactivates after the history is written."""
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["project", "activity"], ["descr", "active", "history"])
        project_id, activity_id = entry.text("project"), entry.text("activity")
        with at(item_path):
            projects.add_activity(ctx.session, project_id, activity_id, entry.text("descr"))
        ctx.counts["project activities"] += 1
        for history_data, history_path in entry.items("history"):
            row = Entry(history_data, history_path, ["effdt", "status"])
            effdt = row.date("effdt")
            assert effdt is not None  # required
            with at(history_path):
                projects.set_activity_status(ctx.session, project_id, activity_id, row.text("status"), effdt)
            ctx.counts["activity status rows"] += 1
        if not entry.flag("active", True):
            with at(entry.at("active")):
                ctx.warnings += projects.inactivate_activity(ctx.session, project_id, activity_id)


def load_milestone_templates(ctx: LoadContext, section: Any, path: str) -> None:
    for data, item_path in _entries(section, path):
        entry = Entry(
            data, item_path, ["milestone_id"], ["descr", "required", "classification", "conditions"]
        )
        specs: list[ConditionSpec] = []
        for condition_data, condition_path in entry.items("conditions"):
            condition = Entry(condition_data, condition_path, ["type"], CONDITION_FIELDS)
            spec = _condition_spec(condition, None, condition.optional_text("ref"))
            with at(condition_path):
                specs.append(spec.checked(f"condition {len(specs) + 1}"))
        with at(item_path):
            templates.add_milestone_template(
                ctx.session,
                entry.text("milestone_id"),
                descr=entry.text("descr"),
                required=entry.choice("required", REQUIRED) or RequiredConditions.ALL,
                classification=entry.optional_text("classification"),
                conditions=specs,
            )
        ctx.counts["milestone templates"] += 1
        ctx.counts["template conditions"] += len(specs)


CONTRACT_FIELDS = ("descr", "customer", "currency", "status", "attributes", "lines", "milestones")
MILESTONE_FIELDS = (
    "num",
    "template",
    "descr",
    "required",
    "est_date",
    "classification",
    "status",
    "conditions",
)


def load_contracts(ctx: LoadContext, section: Any, path: str) -> None:
    """Contracts in two passes, so that a Milestone condition may name a milestone further down the file:
    first every contract with its lines, attributes and milestones, then every milestone's conditions.
    Ready milestones and contract statuses are deferred to the end of the file."""
    added: list[tuple[MilestoneKey, Entry]] = []
    statuses: list[tuple[str, ContractKey, ContractStatus]] = []
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["contract"], CONTRACT_FIELDS)
        with at(entry.at("contract")):
            key = ContractKey.parse(entry.text("contract"))
        attributes = entry.mapping("attributes")
        with at(item_path):
            admin.add_contract(
                ctx.session,
                key,
                descr=entry.text("descr"),
                customer=entry.text("customer"),
                currency=entry.text("currency").upper() or None,
                attributes=attributes,
            )
        ctx.counts["contracts"] += 1
        for line_data, line_path in entry.items("lines"):
            line = Entry(line_data, line_path, ["line", "amount"], ["product"])
            with at(line_path):
                admin.add_line(
                    ctx.session,
                    key,
                    line.integer("line", minimum=1),
                    product=line.text("product"),
                    amount=line.decimal("amount"),
                )
            ctx.counts["contract lines"] += 1
        for milestone_data, milestone_path in entry.items("milestones"):
            milestone = Entry(milestone_data, milestone_path, ["milestone_id"], MILESTONE_FIELDS)
            added.append((_add_milestone(ctx, key, milestone), milestone))
        status = entry.choice("status", CONTRACT_STATUSES)
        if status is not None and status != ContractStatus.PENDING:
            statuses.append((entry.at("status"), key, status))
    for milestone_key, milestone in added:
        for condition_data, condition_path in milestone.items("conditions"):
            _add_condition(
                ctx, milestone_key, Entry(condition_data, condition_path, ["type"], CONDITION_FIELDS)
            )
    # Milestones are set Ready (in file order) before contracts change status, as a person would.
    for milestone_key, milestone in added:
        if milestone.choice("status", LOADABLE_MILESTONE_STATUSES) == MilestoneStatus.READY:
            ctx.defer(milestone.at("status"), _ready_move(ctx, milestone_key))
    for status_path, key, status in statuses:
        ctx.defer(status_path, _contract_status_move(ctx, key, status))


def _add_milestone(ctx: LoadContext, contract: ContractKey, entry: Entry) -> MilestoneKey:
    entry.choice("status", LOADABLE_MILESTONE_STATUSES)  # refuse Completed/Cancelled before writing
    with at(entry.path):
        row = milestones.add_milestone(
            ctx.session,
            contract,
            entry.text("milestone_id"),
            ctx.who,
            from_template=entry.flag("template", False),
            descr=entry.optional_text("descr"),
            required=entry.choice("required", REQUIRED),
            est_completion_date=entry.date("est_date"),
            classification=entry.optional_text("classification"),
            created_from=CreatedFrom.LOAD,
        )
    if entry.has("num") and entry.integer("num") != row.milestone_num:
        raise LoadError(
            entry.at("num"),
            f"is {entry.integer('num')}, but this is milestone {row.milestone_id} number {row.milestone_num}"
            f" of contract {contract} (numbers count from 1 in file order)",
        )
    ctx.counts["milestones"] += 1
    ctx.counts["conditions"] += len(row.conditions)
    return MilestoneKey(contract, row.milestone_id, row.milestone_num)


def _add_condition(ctx: LoadContext, key: MilestoneKey, entry: Entry) -> None:
    ref: MilestoneKey | None = None
    if entry.has("ref"):
        with at(entry.at("ref")):
            ref = _parse_ref(entry.text("ref"), key.contract)
            get_milestone(ctx.session, ref)
    spec = _condition_spec(entry, ref, None)
    with at(entry.path):
        milestones.add_condition(ctx.session, key, spec, ctx.who)
    ctx.counts["conditions"] += 1


def _parse_ref(text: str, contract: ContractKey) -> MilestoneKey:
    """A full key, or ``MS_ID/NUM`` for a milestone of the same contract."""
    parts = text.strip().split("/")
    if len(parts) == 2:
        return MilestoneKey.parse(f"{contract}/{text.strip()}")
    return MilestoneKey.parse(text)


def _ready_move(ctx: LoadContext, key: MilestoneKey) -> Callable[[], None]:
    def move() -> None:
        make_ready(ctx.session, key, ctx.who, ctx.rules)
        ctx.counts["milestones set Ready"] += 1

    return move


def _contract_status_move(ctx: LoadContext, key: ContractKey, status: ContractStatus) -> Callable[[], None]:
    """Closed is reached through Active, as a person would: the status machine has no Pending -> Closed."""
    steps = [ContractStatus.ACTIVE, ContractStatus.CLOSED] if status == ContractStatus.CLOSED else [status]

    def move() -> None:
        for step in steps:
            old = workflow_hooks.before_contract_status(ctx.session, key, step, ctx.who)
            admin.set_contract_status(ctx.session, key, step, ctx.who)
            ctx.warnings += workflow_hooks.after_contract_status(ctx.session, key, old, step, ctx.who)

    return move


# --- billing and revenue plans (billing_plans) ------------------------------------------------------

PLAN_TYPES: dict[str, PlanType] = {t.value.lower(): t for t in PlanType}
PLAN_STATUSES: dict[str, str] = {"pending": "Pending", "ready": "Ready"}
TEMPLATE_EVENT_FIELDS = ("milestone", "date", "percentage", "amount", "descr")
PLAN_FIELDS = ("plan_id", "template", "type", "descr", "status", "events")


def _share(entry: Entry) -> tuple[Decimal | None, Decimal | None]:
    percentage = entry.decimal("percentage") if entry.has("percentage") else None
    return percentage, entry.decimal("amount") if entry.has("amount") else None


def load_plan_templates(ctx: LoadContext, section: Any, path: str) -> None:
    """Billing and revenue plan templates; an event names a milestone template (``milestone``) or a
    ``date``, and is worth a ``percentage`` or an ``amount``."""
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["template_id", "type", "events"], ["descr", "ready_on_activation"])
        plan_type = entry.choice("type", PLAN_TYPES)
        assert plan_type is not None  # required
        specs: list[TemplateEventSpec] = []
        for event_data, event_path in entry.items("events"):
            event = Entry(event_data, event_path, [], TEMPLATE_EVENT_FIELDS)
            percentage, amount = _share(event)
            specs.append(
                TemplateEventSpec(
                    EventType.DATE if event.has("date") else EventType.MILESTONE,
                    milestone_id=event.optional_text("milestone"),
                    event_date=event.date("date"),
                    percentage=percentage,
                    amount=amount,
                    descr=event.text("descr"),
                )
            )
        with at(item_path):
            add_plan_template(
                ctx.session,
                entry.text("template_id"),
                plan_type,
                descr=entry.text("descr"),
                ready_on_activation=entry.flag("ready_on_activation", False),
                events=specs,
            )
        ctx.counts["plan templates"] += 1
        ctx.counts["plan template events"] += len(specs)


def load_plans(ctx: LoadContext, section: Any, path: str) -> None:
    """Plans on contract lines: from a ``template`` (its milestones are created and auto-readied) or by hand
    with ``type`` and ``events`` (a Milestone event's ``milestone`` is ``MS_ID/NUM`` of the same contract or a
    full key). ``status: ready`` (plan or event; on a template plan it readies its events too) and a
    template's "Ready on contract activation" happen at the end of the file, after contract statuses."""
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["contract", "line"], PLAN_FIELDS)
        with at(entry.at("contract")):
            contract = ContractKey.parse(entry.text("contract"))
        line = entry.integer("line", minimum=1)
        status = entry.choice("status", PLAN_STATUSES)
        ready_events: list[tuple[str, EventKey]] = []
        if entry.has("template"):
            for name in ("type", "events"):
                if entry.has(name):
                    raise LoadError(
                        entry.at(name), "a plan made from a template takes its type and events from it"
                    )
            with at(item_path):
                created = plans.create_from_template(
                    ctx.session,
                    contract,
                    line,
                    entry.text("template"),
                    ctx.who,
                    ctx.rules,
                    plan_id=entry.optional_text("plan_id"),
                )
            key = created.key
            ctx.counts["plan events"] += len(created.plan.events)
            ctx.counts["milestones"] += len(created.milestones)
            ctx.counts["milestones auto-readied"] += sum(
                d.status == MilestoneStatus.READY for d in created.milestones
            )
            if not created.readied:
                ctx.defer(entry.at("template"), _plans_on_activation(ctx, contract))
        else:
            for name in ("plan_id", "type"):
                if not entry.has(name):
                    raise LoadError(entry.at(name), "is required for a plan without a template")
            plan_type = entry.choice("type", PLAN_TYPES)
            assert plan_type is not None
            with at(item_path):
                row = plans.add_plan(
                    ctx.session,
                    contract,
                    line,
                    plan_type,
                    entry.text("plan_id"),
                    ctx.who,
                    descr=entry.text("descr"),
                )
            key = PlanKey(contract, line, row.plan_id)
            for event_data, event_path in entry.items("events"):
                event = Entry(event_data, event_path, [], (*TEMPLATE_EVENT_FIELDS, "status"))
                milestone: MilestoneKey | None = None
                if event.has("milestone"):
                    with at(event.at("milestone")):
                        milestone = _parse_ref(event.text("milestone"), contract)
                percentage, amount = _share(event)
                with at(event_path):
                    added = plan_events.add_event(
                        ctx.session,
                        key,
                        ctx.who,
                        event_type=EventType.MILESTONE if milestone is not None else EventType.DATE,
                        milestone=milestone,
                        event_date=event.date("date"),
                        percentage=percentage,
                        amount=amount,
                        descr=event.text("descr"),
                    )
                ctx.counts["plan events"] += 1
                if event.choice("status", PLAN_STATUSES) == "Ready":
                    ready_events.append((event.at("status"), EventKey(key, added.event_num)))
        ctx.counts["plans"] += 1
        if status == "Ready":
            ctx.defer(entry.at("status"), _plan_ready_move(ctx, key, with_events=entry.has("template")))
        for event_path, event_key in ready_events:
            ctx.defer(event_path, _event_ready_move(ctx, event_key))


def _plans_on_activation(ctx: LoadContext, contract: ContractKey) -> Callable[[], None]:
    """After the file's contract statuses: an Active contract's "Ready on contract activation" plans."""

    def move() -> None:
        if get_contract(ctx.session, contract).status == ContractStatus.ACTIVE:
            ctx.counts["plans set Ready"] += sum(
                o.readied for o in plans.ready_on_activation(ctx.session, contract, ctx.who)
            )

    return move


def _plan_ready_move(ctx: LoadContext, key: PlanKey, *, with_events: bool) -> Callable[[], None]:
    def move() -> None:
        plans.set_plan_ready(ctx.session, key, ctx.who, with_events=with_events)
        ctx.counts["plans set Ready"] += 1

    return move


def _event_ready_move(ctx: LoadContext, key: EventKey) -> Callable[[], None]:
    def move() -> None:
        plan_events.set_event_ready(ctx.session, key, ctx.who)
        ctx.counts["plan events set Ready"] += 1

    return move


# --- approvals (conditions.approvals) ---------------------------------------------------------------

APPROVAL_RULE_FIELDS = (
    "roles",
    "team_roles",
    "users",
    "note_on_approve",
    "note_on_deny",
    "auto_approve",
    "submit",
    "on_approve",
    "on_deny",
)


def _approval_rule(entry: Entry) -> approval_config.RuleSpec:
    """An approval rule: the same words as ``ms-prcs approval rule`` (``submit: [manual, status=Active]``)."""
    roles, team_roles, users = entry.names("roles"), entry.names("team_roles"), entry.names("users")
    modes = entry.names("submit")
    with at(entry.path):
        return approval_config.RuleSpec(
            roles=tuple(roles),
            team_roles=tuple(team_roles),
            users=tuple(users),
            note_on_approve=entry.flag("note_on_approve", False),
            note_on_deny=entry.flag("note_on_deny", False),
            auto_approve=entry.flag("auto_approve", False),
            submit=approval_config.SubmitModes.parse(modes),
            on_approve=approval_config.parse_followups(entry.text("on_approve"), "on_approve"),
            on_deny=approval_config.parse_followups(entry.text("on_deny"), "on_deny"),
        )


def _submit_due_approvals(ctx: LoadContext) -> None:
    """After every file: submit the approvals that the loaded contracts' statuses, attributes and steps call
    for (a file sets contract statuses and Ready milestones at its end, without the CLI's hooks)."""
    ctx.session.flush()
    done = approval_submit.auto_submit(ctx.session.connection(), every_milestone, ctx.who, ctx.who.at.date())
    ctx.session.expire_all()
    if done:
        ctx.counts["approvals submitted"] += len(done)


def load_approval_rule_templates(ctx: LoadContext, section: Any, path: str) -> None:
    """Rules of milestone templates' User Initiated conditions (``milestone_template``, ``seq``), before the
    contracts, so milestones added from the templates copy them."""
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["milestone_template", "seq"], APPROVAL_RULE_FIELDS)
        spec = _approval_rule(entry)
        with at(item_path):
            approval_config.set_template_rule(
                ctx.session, entry.text("milestone_template"), entry.integer("seq", minimum=1), spec
            )
        ctx.counts["approval rule templates"] += 1


def load_approval_rules(ctx: LoadContext, section: Any, path: str) -> None:
    """Rules of contract milestones' User Initiated conditions (``milestone``: a full key, ``seq``); set
    while the milestones are still Pending (their Ready moves wait for the end of the file)."""
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["milestone", "seq"], APPROVAL_RULE_FIELDS)
        with at(entry.at("milestone")):
            key = MilestoneKey.parse(entry.text("milestone"))
        spec = _approval_rule(entry)
        with at(item_path):
            approval_config.set_rule(ctx.session, key, entry.integer("seq", minimum=1), spec, ctx.who)
        ctx.counts["approval rules"] += 1


def load_milestone_assignments(ctx: LoadContext, section: Any, path: str) -> None:
    """``milestone`` (a full key) assigned to ``user``, who is notified."""
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["milestone", "user"])
        with at(entry.at("milestone")):
            key = MilestoneKey.parse(entry.text("milestone"))
        with at(item_path):
            approval_inbox.assign(ctx.session, key, entry.text("user"), ctx.who)
        ctx.counts["milestone assignments"] += 1


def load_contract_teams(ctx: LoadContext, section: Any, path: str) -> None:
    """A contract's team: ``contract`` and ``members`` (``user``, ``role``). Last in the file, because once
    a contract has a team only its members may edit it."""
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["contract", "members"])
        with at(entry.at("contract")):
            key = ContractKey.parse(entry.text("contract"))
        for member_data, member_path in entry.items("members"):
            member = Entry(member_data, member_path, ["user", "role"])
            with at(member_path):
                approval_rules.add_team_member(
                    ctx.session, key, member.text("user"), member.text("role"), ctx.who.user
                )
            ctx.counts["contract team members"] += 1


Loader = Callable[[LoadContext, Any, str], None]
"""A section loader: the context, the section's value from the file, and the section's path (its name)."""

# --- structure: steps, gates, deadlines, unset actions, blocking, optional triggers (contracts.workflow) ---

WORKFLOW_FIELDS = (
    "step",
    "sub_step",
    "any_time",
    "gate",
    "ready_by",
    "ready_by_days",
    "complete_by",
    "complete_by_days",
    "unset_on",
    "blocks",
    "panel",
    "save_and_complete",
)
OPTIONAL_FIELDS = ("optional", "manual_roles", "amount_source", "thresholds", "attributes", "join")


def _workflow_spec(entry: Entry, template: bool) -> workflow_config.WorkflowSpec:
    def maybe_int(name: str) -> int | None:
        return entry.integer(name, minimum=0) if entry.has(name) else None

    with at(entry.path):
        spec = workflow_config.WorkflowSpec(
            step=maybe_int("step"),
            sub_step=maybe_int("sub_step"),
            any_time=entry.flag("any_time", False) if entry.has("any_time") else None,
            stage_gate=entry.text("gate") if entry.has("gate") else None,
            ready_by_date=entry.date("ready_by"),
            ready_by_days=maybe_int("ready_by_days"),
            complete_by_date=entry.date("complete_by"),
            complete_by_days=maybe_int("complete_by_days"),
            unset_on=workflow_config.parse_unset(entry.names("unset_on")) if entry.has("unset_on") else None,
            blocks=workflow_config.parse_statuses(entry.names("blocks")) if entry.has("blocks") else None,
            panel=entry.text("panel") if entry.has("panel") else None,
            save_and_complete=entry.flag("save_and_complete", False)
            if entry.has("save_and_complete")
            else None,
        )
        if not template:
            return spec
        source = entry.optional_text("amount_source")
        join = entry.optional_text("join")
        return workflow_config.WorkflowSpec(
            **{f: getattr(spec, f) for f in WORKFLOW_SPEC_FIELDS},
            optional=entry.flag("optional", False) if entry.has("optional") else None,
            manual_add_roles=tuple(entry.names("manual_roles")) if entry.has("manual_roles") else None,
            amount_source=workflow_config.AmountSource(source.lower()) if source else None,
            thresholds={
                bu: _decimal(v, entry.at("thresholds")) for bu, v in entry.mapping("thresholds").items()
            }
            or None,
            attribute_trigger=entry.mapping("attributes") if entry.has("attributes") else None,
            trigger_join=workflow_config.TriggerJoin(join.upper()) if join else None,
        )


WORKFLOW_SPEC_FIELDS = (
    "step",
    "sub_step",
    "any_time",
    "stage_gate",
    "ready_by_date",
    "ready_by_days",
    "complete_by_date",
    "complete_by_days",
    "unset_on",
    "blocks",
    "panel",
    "save_and_complete",
)


def _decimal(text: str, path: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise LoadError(path, f"{text!r} is not a number") from exc


def load_milestone_template_workflows(ctx: LoadContext, section: Any, path: str) -> None:
    """``template: MS_ID`` with the structure fields, and for optional templates their triggers."""
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["template"], [*WORKFLOW_FIELDS, *OPTIONAL_FIELDS])
        spec = _workflow_spec(entry, template=True)
        with at(item_path):
            workflow_config.set_template_workflow(ctx.session, entry.text("template"), spec)
        ctx.counts["template workflows"] += 1


def load_milestone_workflows(ctx: LoadContext, section: Any, path: str) -> None:
    """``milestone: BU/CONTRACT/MS_ID/NUM`` with the structure fields (contract statuses, deferred to the end
    of the file, then respect what blocks them)."""
    for data, item_path in _entries(section, path):
        entry = Entry(data, item_path, ["milestone"], WORKFLOW_FIELDS)
        with at(entry.at("milestone")):
            key = MilestoneKey.parse(entry.text("milestone"))
        spec = _workflow_spec(entry, template=False)
        with at(item_path):
            workflow_config.set_milestone_workflow(ctx.session, key, spec, ctx.who)
        ctx.counts["milestone workflows"] += 1


def load_optional_evaluations(ctx: LoadContext, section: Any, path: str) -> None:
    """``optional_evaluate: [BU/CONTRACT, ...]``: add the optional milestones whose triggers hold."""
    for data, item_path in _entries(section, path):
        with at(item_path):
            if not isinstance(data, str):
                raise LoadError(item_path, f"expected a contract key, got {_kind(data)}")
            ctx.warnings += workflow_hooks.evaluate_optional(
                ctx.session, ContractKey.parse(data), ctx.who, ctx.rules
            )


SECTIONS: tuple[tuple[str, Loader], ...] = (
    ("business_units", load_business_units),
    ("roles", load_roles),
    ("users", load_users),
    ("classifications", load_classifications),
    ("project_activities", load_project_activities),
    ("milestone_templates", load_milestone_templates),
    ("approval_rule_templates", load_approval_rule_templates),
    ("milestone_template_workflows", load_milestone_template_workflows),
    ("contracts", load_contracts),
    ("plan_templates", load_plan_templates),
    ("plans", load_plans),
    ("approval_rules", load_approval_rules),
    ("milestone_assignments", load_milestone_assignments),
    ("contract_teams", load_contract_teams),
    ("milestone_workflows", load_milestone_workflows),
    ("optional_evaluate", load_optional_evaluations),
)
"""Load order: whatever an entry names is loaded before it. Append new sections (plans) at the end."""


# --- documents and files -----------------------------------------------------------------------------


def load_document(ctx: LoadContext, document: Any) -> None:
    """Load one parsed document (a mapping of section name to entries) through every section in order."""
    if document is None:
        return
    if not isinstance(document, Mapping):
        raise LoadError("(top)", f"expected a mapping of sections, got {_kind(document)}")
    known = [name for name, _ in SECTIONS]
    for name in document:
        if name not in known:
            raise LoadError(str(name), f"unknown section (known: {', '.join(known)})")
    for name, loader in SECTIONS:
        if document.get(name) is not None:
            loader(ctx, document[name], name)
    ctx.run_deferred()


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping instead of keeping the last silently."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_document(path: Path) -> Any:
    """YAML (``.yaml``/``.yml``) or JSON (``.json``), chosen by the file's extension."""
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise InvalidInput(f"{path}: a load file must end in .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc})") from exc
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}: not valid JSON: {exc}") from exc
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {exc}") from exc


def load_files(session: Session, paths: Sequence[Path], who: Who, rules: SqlRules) -> LoadSummary:
    """Load every file into the caller's transaction. The first error aborts all of them (the caller rolls
    back); its message starts with the file name and the entry's path."""
    ctx = LoadContext(session=session, who=who, rules=rules)
    for path in paths:
        document = read_document(path)
        try:
            load_document(ctx, document)
        except LoadError as exc:
            raise LoadError(f"{path}: {exc.path}", exc.problem) from exc
    _submit_due_approvals(ctx)
    return LoadSummary(
        files=tuple(str(p) for p in paths), counts=dict(ctx.counts), warnings=tuple(ctx.warnings)
    )
