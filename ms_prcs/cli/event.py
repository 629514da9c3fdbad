"""Plan events: every verb of ``event`` (``add|update|ready|pending|bill|recognize|reverse|credit|replace``).

An event is addressed as ``BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM``. Each command is parse, one service call of
:mod:`billing_plans` in one transaction, print; a changed share goes through the approval layer's entry point
(:func:`ms_prcs.approvals.hooks.after_amount_change`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import click

from billing_plans import events as event_services
from billing_plans.events import EventMove
from billing_plans.keys import EventKey, PlanKey, event_key
from billing_plans.shares import parse_share
from contracts.keys import MilestoneKey
from contracts.status import EventType
from ms_prcs.approvals import hooks
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.params import DATE, MILESTONE_KEY, done
from ms_prcs.cli.plans import PLAN_KEY

EVENT_TYPES = {"milestone": EventType.MILESTONE, "date": EventType.DATE}


class EventKeyType(click.ParamType[EventKey]):
    name = "BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> EventKey:
        return value if isinstance(value, EventKey) else EventKey.parse(str(value))


EVENT_KEY = EventKeyType()


def _share(percentage: str | None, amount: str | None) -> tuple[Decimal | None, Decimal | None]:
    p = parse_share(percentage.rstrip("%") + "%", "--percentage")[0] if percentage is not None else None
    a = parse_share(amount, "--amount")[1] if amount is not None else None
    return p, a


@main.group()
def event() -> None:
    """Plan events (BU/CONTRACT/LINE/PLAN_ID/EVENT_NUM): add, update, ready, pending; and the downstream
    side: bill (billing), recognize and reverse (revenue)."""


@event.command("add")
@click.argument("key", type=PLAN_KEY)
@click.option(
    "--type", "event_type", type=click.Choice(list(EVENT_TYPES), case_sensitive=False), required=True
)
@click.option(
    "--milestone", type=MILESTONE_KEY, help="A Milestone event's milestone (BU/CONTRACT/MS_ID/NUM)."
)
@click.option("--date", "event_date", type=DATE, help="A Date event's date.")
@click.option("--percentage", help="Share of the line amount, e.g. 40 or 40%.")
@click.option("--amount", help="A fixed amount instead of a percentage.")
@click.option("--descr", default="", help="Description.")
@json_option
@pass_app
def event_add(
    app: AppContext,
    key: PlanKey,
    event_type: str,
    milestone: MilestoneKey | None,
    event_date: dt.date | None,
    percentage: str | None,
    amount: str | None,
    descr: str,
) -> None:
    """Add the next event to a plan, Pending."""
    pct, amt = _share(percentage, amount)
    with app.session() as session:
        row = event_services.add_event(
            session,
            key,
            app.who(),
            event_type=EVENT_TYPES[event_type.lower()],
            milestone=milestone,
            event_date=event_date,
            percentage=pct,
            amount=amt,
            descr=descr,
        )
        ekey, obj = str(event_key(row)), event_services.describe(row)
        hooks.after_amount_change(session, key.contract, app.who())
    done(app, f"{obj} added (Pending)", event=ekey, status="Pending")


@event.command("update")
@click.argument("key", type=EVENT_KEY)
@click.option("--milestone", type=MILESTONE_KEY, help="A Milestone event's milestone.")
@click.option("--date", "event_date", type=DATE, help="A Date event's date.")
@click.option("--percentage", help="Share of the line amount, e.g. 40 or 40%.")
@click.option("--amount", help="A fixed amount instead of a percentage.")
@click.option("--descr", help="Description.")
@json_option
@pass_app
def event_update(
    app: AppContext,
    key: EventKey,
    milestone: MilestoneKey | None,
    event_date: dt.date | None,
    percentage: str | None,
    amount: str | None,
    descr: str | None,
) -> None:
    """Change a Pending event."""
    pct, amt = _share(percentage, amount)
    with app.session() as session:
        row = event_services.update_event(
            session,
            key,
            app.who(),
            milestone=milestone,
            event_date=event_date,
            percentage=pct,
            amount=amt,
            descr=descr,
        )
        obj = event_services.describe(row)
        if pct is not None or amt is not None:
            hooks.after_amount_change(session, key.plan.contract, app.who())
    done(app, f"{obj} updated", event=str(key))


def _event_move(verb: str, help_text: str) -> None:
    """``event ready|pending|bill|recognize|reverse KEY``: one shape, one service each."""

    @event.command(verb, help=help_text)
    @click.argument("key", type=EVENT_KEY)
    @json_option
    @pass_app
    def command(app: AppContext, key: EventKey) -> None:
        with app.session() as session:
            who = app.who()
            match verb:
                case "ready":
                    move = EventMove.of(event_services.set_event_ready(session, key, who))
                case "pending":
                    move = EventMove.of(event_services.set_event_pending(session, key, who))
                case "bill" | "recognize" | "reverse" | "credit":
                    move = getattr(event_services, verb)(session, key, who)
                case _:  # pragma: no cover
                    raise AssertionError(verb)
        done(
            app,
            move.message,
            event=str(key),
            status=move.status,
            plan_completed=move.plan_completed,
            plan_reopened=move.plan_reopened,
        )


_event_move("ready", "Set a Pending event Ready (its plan Ready; milestone or date, and share checked).")
_event_move("pending", "Set a Ready event back to Pending (not once it was announced on the feed).")
_event_move("bill", "Billing system: a claimed (In Progress) billing event was billed.")
_event_move("recognize", "Revenue system: recognize an eligible (Ready, announced) revenue event.")
_event_move(
    "reverse",
    "Reverse a Recognized revenue event, also of a Completed plan (final; a reversal entry on the feed;"
    " `event replace` adds the replacement).",
)
_event_move(
    "credit",
    "Credit a Billed billing event (final; a credit entry on the feed, the billed event is not edited;"
    " `event replace` adds the replacement).",
)


@event.command("replace")
@click.argument("key", type=EVENT_KEY)
@json_option
@pass_app
def event_replace(app: AppContext, key: EventKey) -> None:
    """Add a Pending event like a Reversed or Credited one (type, milestone, date, share)."""
    with app.session() as session:
        row = event_services.add_replacement(session, key, app.who())
        ekey, obj = str(event_key(row)), event_services.describe(row)
    done(app, f"{obj} added (Pending), replacing event {key.event_num}", event=ekey, status="Pending")
