"""Milestone templates and contracts (lines, attributes, milestones, conditions), and the moves they defer:
milestones set Ready, then contract statuses, at the end of the file."""

from __future__ import annotations

from collections.abc import Callable

from conditions.ready import make_ready
from contracts import admin, milestones, templates
from contracts.errors import LoadError
from contracts.keys import ContractKey, MilestoneKey, get_milestone
from contracts.specs import ConditionSpec
from contracts.status import ContractStatus, CreatedFrom, MilestoneStatus, RequiredConditions
from ms_prcs.approvals import hooks
from ms_prcs.load import bulk_contracts
from ms_prcs.load.context import LoadContext, at
from ms_prcs.load.schema import ConditionEntry, ContractEntry, MilestoneEntry, MilestoneTemplateEntry
from ms_prcs.load.specs import condition_spec, parse_ref

__all__ = ["condition_spec", "load_contracts", "load_milestone_templates", "parse_ref"]


def load_milestone_templates(ctx: LoadContext, section: list[MilestoneTemplateEntry], path: str) -> None:
    for i, entry in enumerate(section):
        item_path = f"{path}[{i}]"
        specs: list[ConditionSpec] = []
        for j, condition in enumerate(entry.conditions):
            spec = condition_spec(condition, None, condition.ref)
            with at(f"{item_path}.conditions[{j}]"):
                specs.append(spec.checked(f"condition {len(specs) + 1}"))
        with at(item_path):
            templates.add_milestone_template(
                ctx.session,
                entry.milestone_id,
                descr=entry.descr,
                required=entry.required or RequiredConditions.ALL,
                classification=entry.classification,
                conditions=specs,
            )
        ctx.counts["milestone templates"] += 1
        ctx.counts["template conditions"] += len(specs)


def load_contracts(ctx: LoadContext, section: list[ContractEntry], path: str) -> None:
    """Contracts in two passes, so that a Milestone condition may name a milestone further down the file:
    first every contract with its lines, attributes and milestones, then every milestone's conditions.
    Set-based (:mod:`ms_prcs.load.bulk_contracts`) unless a milestone is copied from a template. Ready
    milestones and contract statuses are deferred to the end of the file."""
    if bulk_contracts.applies(section):
        added, statuses = bulk_contracts.add_contracts(ctx, section, path)
    else:
        added, statuses = _add_one_by_one(ctx, section, path)
    # Milestones are set Ready (in file order) before contracts change status, as a person would.
    for milestone_key, milestone, milestone_path in added:
        if milestone.status == MilestoneStatus.READY:
            ctx.defer(f"{milestone_path}.status", _ready_move(ctx, milestone_key))
    for status_path, key, status in statuses:
        ctx.defer(status_path, _contract_status_move(ctx, key, status))


def _add_one_by_one(
    ctx: LoadContext, section: list[ContractEntry], path: str
) -> tuple[list[tuple[MilestoneKey, MilestoneEntry, str]], list[tuple[str, ContractKey, ContractStatus]]]:
    """Through the services, an entry at a time: a section with milestones copied from templates."""
    added: list[tuple[MilestoneKey, MilestoneEntry, str]] = []
    statuses: list[tuple[str, ContractKey, ContractStatus]] = []
    for i, entry in enumerate(section):
        item_path = f"{path}[{i}]"
        key = ContractKey.parse(entry.contract)
        with at(item_path):
            admin.add_contract(
                ctx.session,
                key,
                descr=entry.descr,
                customer=entry.customer,
                currency=entry.currency,
                attributes=entry.attributes,
            )
        ctx.counts["contracts"] += 1
        for j, line in enumerate(entry.lines):
            with at(f"{item_path}.lines[{j}]"):
                admin.add_line(ctx.session, key, line.line, product=line.product, amount=line.amount)
            ctx.counts["contract lines"] += 1
        for j, milestone in enumerate(entry.milestones):
            milestone_path = f"{item_path}.milestones[{j}]"
            added.append((_add_milestone(ctx, key, milestone, milestone_path), milestone, milestone_path))
        if entry.status is not None and entry.status != ContractStatus.PENDING:
            statuses.append((f"{item_path}.status", key, entry.status))
    for milestone_key, milestone, milestone_path in added:
        for j, condition in enumerate(milestone.conditions):
            _add_condition(ctx, milestone_key, condition, f"{milestone_path}.conditions[{j}]")
    return added, statuses


def _add_milestone(ctx: LoadContext, contract: ContractKey, entry: MilestoneEntry, path: str) -> MilestoneKey:
    with at(path):
        row = hooks.add_milestone(
            ctx.session,
            contract,
            entry.milestone_id,
            ctx.who,
            from_template=entry.template,
            descr=entry.descr,
            required=entry.required,
            est_completion_date=entry.est_date,
            classification=entry.classification,
            created_from=CreatedFrom.LOAD,
        )
    if entry.num is not None and entry.num != row.milestone_num:
        raise LoadError(
            f"{path}.num",
            f"is {entry.num}, but this is milestone {row.milestone_id} number {row.milestone_num}"
            f" of contract {contract} (numbers count from 1 in file order)",
        )
    ctx.counts["milestones"] += 1
    ctx.counts["conditions"] += len(row.conditions)
    return MilestoneKey(contract, row.milestone_id, row.milestone_num)


def _add_condition(ctx: LoadContext, key: MilestoneKey, entry: ConditionEntry, path: str) -> None:
    ref: MilestoneKey | None = None
    if entry.ref is not None:
        with at(f"{path}.ref"):
            ref = parse_ref(entry.ref, key.contract)
            get_milestone(ctx.session, ref)
    spec = condition_spec(entry, ref, None)
    with at(path):
        milestones.add_condition(ctx.session, key, spec, ctx.who)
    ctx.counts["conditions"] += 1


def _ready_move(ctx: LoadContext, key: MilestoneKey) -> Callable[[], None]:
    def move() -> None:
        make_ready(ctx.session, key, ctx.who, ctx.rules)
        ctx.counts["milestones set Ready"] += 1

    return move


def _contract_status_move(ctx: LoadContext, key: ContractKey, status: ContractStatus) -> Callable[[], None]:
    """Closed is reached through Active, as a person would: the status machine has no Pending -> Closed.
    Each step goes through :func:`ms_prcs.approvals.hooks.change_contract_status`, like the CLI's."""
    steps = [ContractStatus.ACTIVE, ContractStatus.CLOSED] if status == ContractStatus.CLOSED else [status]

    def move() -> None:
        for step in steps:
            for note in hooks.change_contract_status(ctx.session, key, step, ctx.who):
                _count_note(ctx, note)

    return move


def _count_note(ctx: LoadContext, note: str) -> None:
    """The hook's notes are for a person at a prompt; a load file counts what they report instead."""
    if note.startswith("plan ") and note.endswith("set Ready on contract activation"):
        ctx.counts["plans set Ready"] += 1
    elif note.startswith("approval of condition "):
        ctx.counts["approvals submitted"] += 1
    else:
        ctx.warnings.append(note)
