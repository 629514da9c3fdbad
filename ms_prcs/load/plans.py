"""Billing and revenue plan templates and plans (``billing_plans``), and their deferred Ready moves."""

from __future__ import annotations

from collections.abc import Callable

from billing_plans import events as plan_events
from billing_plans import plans
from billing_plans.keys import EventKey, PlanKey
from billing_plans.templates import TemplateEventSpec, add_plan_template
from contracts.keys import ContractKey, MilestoneKey, get_contract
from contracts.status import ContractStatus, EventType, MilestoneStatus
from ms_prcs.approvals import hooks
from ms_prcs.load.context import LoadContext, at
from ms_prcs.load.contracts import parse_ref
from ms_prcs.load.schema import PlanEntry, PlanTemplateEntry


def load_plan_templates(ctx: LoadContext, section: list[PlanTemplateEntry], path: str) -> None:
    """Billing and revenue plan templates; an event names a milestone template (``milestone``) or a
    ``date``, and is worth a ``percentage`` or an ``amount``."""
    for i, entry in enumerate(section):
        specs = [
            TemplateEventSpec(
                EventType.DATE if event.date is not None else EventType.MILESTONE,
                milestone_id=event.milestone,
                event_date=event.date,
                percentage=event.percentage,
                amount=event.amount,
                descr=event.descr,
            )
            for event in entry.events
        ]
        with at(f"{path}[{i}]"):
            add_plan_template(
                ctx.session,
                entry.template_id,
                entry.type,
                descr=entry.descr,
                ready_on_activation=entry.ready_on_activation,
                events=specs,
            )
        ctx.counts["plan templates"] += 1
        ctx.counts["plan template events"] += len(specs)


def load_plans(ctx: LoadContext, section: list[PlanEntry], path: str) -> None:
    """Plans on contract lines: from a ``template`` (its milestones are created and auto-readied) or by hand
    with ``type`` and ``events`` (a Milestone event's ``milestone`` is ``MS_ID/NUM`` of the same contract or a
    full key). ``status: ready`` (plan or event; on a template plan it readies its events too) and a
    template's "Ready on contract activation" happen at the end of the file, after contract statuses."""
    for i, entry in enumerate(section):
        item_path = f"{path}[{i}]"
        contract = ContractKey.parse(entry.contract)
        ready_events: list[tuple[str, EventKey]] = []
        if entry.template is not None:
            with at(item_path):
                created = hooks.create_plan_from_template(
                    ctx.session,
                    contract,
                    entry.line,
                    entry.template,
                    ctx.who,
                    ctx.rules,
                    plan_id=entry.plan_id,
                )
            key = created.key
            ctx.counts["plan events"] += len(created.plan.events)
            ctx.counts["milestones"] += len(created.milestones)
            ctx.counts["milestones auto-readied"] += sum(
                d.status == MilestoneStatus.READY for d in created.milestones
            )
            if not created.readied:
                ctx.defer(f"{item_path}.template", _plans_on_activation(ctx, contract))
        else:
            assert entry.type is not None and entry.plan_id is not None  # the schema requires them here
            with at(item_path):
                row = plans.add_plan(
                    ctx.session, contract, entry.line, entry.type, entry.plan_id, ctx.who, descr=entry.descr
                )
            key = PlanKey(contract, entry.line, row.plan_id)
            for j, event in enumerate(entry.events):
                event_path = f"{item_path}.events[{j}]"
                milestone: MilestoneKey | None = None
                if event.milestone is not None:
                    with at(f"{event_path}.milestone"):
                        milestone = parse_ref(event.milestone, contract)
                with at(event_path):
                    added = plan_events.add_event(
                        ctx.session,
                        key,
                        ctx.who,
                        event_type=EventType.MILESTONE if milestone is not None else EventType.DATE,
                        milestone=milestone,
                        event_date=event.date,
                        percentage=event.percentage,
                        amount=event.amount,
                        descr=event.descr,
                    )
                ctx.counts["plan events"] += 1
                if event.status == "Ready":
                    ready_events.append((f"{event_path}.status", EventKey(key, added.event_num)))
        ctx.counts["plans"] += 1
        if entry.status == "Ready":
            ctx.defer(
                f"{item_path}.status", _plan_ready_move(ctx, key, with_events=entry.template is not None)
            )
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
