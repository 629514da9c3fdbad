"""``webhook add|list|deliver|replay``: push the feed to a consumer's URL (see :mod:`ms_prcs.webhooks`).
Deliver after the nightly run with ``ms-prcs schedule --at 02:00 --post "ms-prcs webhook deliver"``."""

from __future__ import annotations

import datetime as dt
import sys

import click

from ms_prcs import webhooks as services
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, format_table, print_json
from ms_prcs.cli.params import done

COLUMNS = ("consumer", "url", "kinds", "status", "acked_through", "attempts", "next_attempt_at", "last_error")


@main.group()
def webhook() -> None:
    """Webhook subscriptions: feed entries POSTed in order, signed (HMAC-SHA256), retried with backoff
    until a 2xx acknowledges them, Dead after too many failures, replayable from a cursor."""


@webhook.command("add")
@click.argument("consumer")
@click.argument("url")
@click.option("--secret", required=True, help="Shared secret of the signature (16 characters or more).")
@click.option("--kind", "kinds", multiple=True, help="Only this feed kind (repeatable; default all).")
@click.option("--max-attempts", type=int, default=8, show_default=True, help="Failures before Dead.")
@json_option
@pass_app
def webhook_add(
    app: AppContext, consumer: str, url: str, secret: str, kinds: tuple[str, ...], max_attempts: int
) -> None:
    """Subscribe CONSUMER (a feed consumer name) at URL, from its current cursor."""
    with app.session() as session:
        view = services.subscribe(
            session, consumer, url, secret, app.who(), kinds=kinds, max_attempts=max_attempts
        )
    done(app, f"webhook {consumer} delivers to {url} from cursor {view.acked_through + 1}", **view.to_json())


@webhook.command("list")
@json_option
@pass_app
def webhook_list(app: AppContext) -> None:
    """Subscriptions, their cursor and state."""
    with app.session() as session:
        rows = [v.to_json() for v in services.subscriptions(session)]
    emit(app, rows, [{c: (", ".join(r[c]) if c == "kinds" else r[c]) for c in COLUMNS} for r in rows])


@webhook.command("deliver")
@click.option("--consumer", help="Only this subscription.")
@click.option(
    "--backoff",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds before the first retry (doubled per attempt, at most an hour).",
)
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per request.")
@json_option
@pass_app
def webhook_deliver(app: AppContext, consumer: str | None, backoff: float, timeout: float) -> None:
    """Deliver what waits for every Active subscription that is due (exit 1 if an attempt failed)."""

    def now() -> dt.datetime:
        return app.who().at

    results = services.deliver(app.engine, now=now, consumer=consumer, backoff_s=backoff, timeout_s=timeout)
    rows = [
        {
            "consumer": d.consumer,
            "delivered": len(d.delivered),
            "through": d.delivered[-1] if d.delivered else None,
            "skipped": d.skipped,
            "claimed": len(d.claimed),
            "failed_cursor": d.failed_cursor,
            "status": d.status,
            "error": d.error,
        }
        for d in results
    ]
    if app.json_output:
        print_json(rows)
    else:
        click.echo(format_table(rows))
    if any(d.failed_cursor is not None for d in results):
        sys.exit(1)


@webhook.command("replay")
@click.argument("consumer")
@click.option("--from", "from_cursor", type=int, required=True, help="The first cursor to deliver again.")
@json_option
@pass_app
def webhook_replay(app: AppContext, consumer: str, from_cursor: int) -> None:
    """Deliver again from a cursor (also revives a Dead subscription)."""
    with app.session() as session:
        view = services.replay(session, consumer, from_cursor, app.who())
    done(
        app, f"webhook {consumer} delivers again from cursor {from_cursor} ({view.status})", **view.to_json()
    )
