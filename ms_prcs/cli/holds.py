"""``hold add|release|list``: holds on contracts, plans and plan events (issue 16); each command is parse,
one call of :mod:`billing_plans.holds` in one transaction, print."""

from __future__ import annotations

import datetime as dt

import click

from billing_plans import holds as hold_services
from billing_plans.holds import HoldTarget
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit
from ms_prcs.cli.params import DATE, done

KIND = click.Choice(list(hold_services.KINDS), case_sensitive=False)
COLUMNS = (
    "hold_id",
    "kind",
    "key",
    "status",
    "reason",
    "one_cycle",
    "held_at",
    "held_by",
    "released_at",
    "released_by",
)


@main.group()
def hold() -> None:
    """Holds: while a contract, plan or event is on hold its events are not announced on the feed, claimed,
    billed or recognized; milestones keep completing. Release announces what became eligible, once."""


@hold.command("add")
@click.argument("kind", type=KIND)
@click.argument("key")
@click.option("--reason", required=True, help="Why (kept with the hold and in its history).")
@click.option("--one-cycle", is_flag=True, help="Released by the next run over its business unit.")
@json_option
@pass_app
def hold_add(app: AppContext, kind: str, key: str, reason: str, one_cycle: bool) -> None:
    """Put a contract (BU/CONTRACT), plan (BU/CONTRACT/LINE/PLAN_ID) or event (.../EVENT_NUM) on hold."""
    target = HoldTarget.parse(kind, key)
    with app.session() as session:
        view = hold_services.put_on_hold(session, target, app.who(), reason, one_cycle=one_cycle)
    cycle = " until the next run" if one_cycle else ""
    done(app, f"{target} is on hold{cycle} (hold {view.hold_id})", **view.as_dict())


@hold.command("release")
@click.argument("kind", type=KIND)
@click.argument("key")
@click.option("--reason", default="", help="Why it is released.")
@click.option("--as-of", type=DATE, help="Date events due by this date are announced (default: today).")
@json_option
@pass_app
def hold_release(app: AppContext, kind: str, key: str, reason: str, as_of: dt.date | None) -> None:
    """Release the hold on an object and announce on the feed what became eligible during the hold."""
    target = HoldTarget.parse(kind, key)
    with app.session() as session:
        result = hold_services.release(
            session, target, app.who(), as_of=as_of or app.settings.today(), reason=reason
        )
    done(
        app,
        f"{target}: hold {result.hold.hold_id} released; {result.announced} feed entries announced",
        announced=result.announced,
        **result.hold.as_dict(),
    )


@hold.command("list")
@click.option("--all", "include_released", is_flag=True, help="Released holds too.")
@click.option("--bu", "business_unit", help="Only this business unit.")
@json_option
@pass_app
def hold_list(app: AppContext, include_released: bool, business_unit: str | None) -> None:
    """Active holds (or all), oldest first."""
    with app.session() as session:
        rows = [
            h.as_dict()
            for h in hold_services.list_holds(
                session, include_released=include_released, business_unit=business_unit
            )
        ]
    emit(app, rows, [{c: r[c] for c in COLUMNS} for r in rows])
