"""The feed for billing and revenue systems: ``feed read|ack|consumers``.

``feed read`` prints the entries after a consumer's cursor (JSON lines or CSV) and changes nothing;
``feed ack --through CURSOR`` moves the cursor and claims the acknowledged billing events (In Progress)
in one transaction, printing the events this consumer now owns. See :mod:`billing_plans.feed` for why
no billing event is ever handed out twice.
"""

from __future__ import annotations

import csv
import json
import sys

import click

from billing_plans import feed as services
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, format_table, print_json, to_jsonable
from ms_prcs.cli.params import CURSOR, whole

HANDOUT_COLUMNS = ("cursor", "event", "amount", "currency", "claimed", "status")


@main.group()
def feed() -> None:
    """The change log billing and revenue systems read: completed milestones and eligible plan events."""


@feed.command("read")
@click.option("--consumer", required=True, help="The reading system's name (its own cursor).")
@click.option("--limit", default=100, show_default=True, type=whole(1), help="At most this many entries.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"], case_sensitive=False),
    default="jsonl",
    show_default=True,
    help="JSON lines (one entry a line) or CSV with a header.",
)
@pass_app
def feed_read(app: AppContext, consumer: str, limit: int, fmt: str) -> None:
    """Print the entries after the consumer's cursor, oldest first. Reading twice without an ack returns
    the same entries; acknowledge with ``feed ack --through`` the last cursor processed."""
    with app.session() as session:
        page = services.read(session, consumer, limit=limit)
        records = [services.entry_record(e) for e in page.entries]
    if fmt.lower() == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=services.FEED_FIELDS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow({k: "" if v is None else v for k, v in to_jsonable(record).items()})
        return
    for record in records:
        click.echo(json.dumps(to_jsonable(record)))


@feed.command("ack")
@click.option("--consumer", required=True, help="The reading system's name.")
@click.option("--through", type=CURSOR, required=True, help="The last cursor processed (inclusive).")
@json_option
@pass_app
def feed_ack(app: AppContext, consumer: str, through: int) -> None:
    """Acknowledge every entry up to CURSOR and claim their billing events (Ready -> In Progress). Prints
    the billing events: ``claimed`` ones are this consumer's to bill, the others went to another consumer."""
    with app.session() as session:
        result = services.ack(session, consumer, through, app.who())
    billing = [
        {
            "cursor": b.cursor,
            "event": b.event,
            "amount": b.amount,
            "currency": b.currency,
            "claimed": b.claimed,
            "status": b.status,
        }
        for b in result.billing
    ]
    if app.json_output:
        print_json(
            {
                "consumer": result.consumer,
                "previous": result.previous,
                "acked_through": result.acked_through,
                "entries": result.entries,
                "claimed": [b["event"] for b in billing if b["claimed"]],
                "billing_events": billing,
            }
        )
        return
    if result.acked_through == result.previous and result.entries == 0:
        click.echo(
            f"consumer {consumer} has already acknowledged through cursor {result.previous}: nothing to do"
        )
        return
    click.echo(
        f"consumer {consumer} acknowledged cursors {result.previous + 1}..{result.acked_through}"
        f" ({result.entries} entries); claimed {len(result.claimed)} billing events (In Progress)"
    )
    if billing:
        click.echo(format_table(billing, HANDOUT_COLUMNS))


@feed.command("consumers")
@json_option
@pass_app
def feed_consumers(app: AppContext) -> None:
    """Every consumer's cursor and how many entries wait after it."""
    with app.session() as session:
        rows = [
            {
                "consumer": c.consumer,
                "acked_through": c.acked_through,
                "waiting": c.waiting,
                "updated_at": c.updated_at,
            }
            for c in services.consumers(session)
        ]
    emit(app, rows)
