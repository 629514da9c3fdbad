"""``alerts send|contact``: alerts to the people concerned, in the inbox and by e-mail (MS_PRCS_SMTP_*).
Run it after the nightly run: ``ms-prcs schedule --at 02:00 --post "ms-prcs alerts send"``."""

from __future__ import annotations

import datetime as dt
import sys

import click

from ms_prcs.alerts import send as alert_services
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import format_table, print_json
from ms_prcs.cli.params import DATE, done


@main.group()
def alerts() -> None:
    """Alerts: estimated completion dates approaching (warning, late) or reached, Past Due milestones and
    approvals waiting too long, each sent once."""


@alerts.command("send")
@click.option("--bu", "business_unit", help="Only this business unit.")
@click.option("--as-of", type=DATE, help="Decide the levels as of this date (default: today).")
@click.option("--dry-run", is_flag=True, help="List what is due; send nothing.")
@json_option
@pass_app
def alerts_send(app: AppContext, business_unit: str | None, as_of: dt.date | None, dry_run: bool) -> None:
    """Send the alerts that are due and not sent yet (exit 1 if an e-mail failed: it is retried next time)."""
    now = app.who().at
    result = alert_services.send_alerts(
        app.engine,
        app.settings.alerts,
        as_of=as_of or app.settings.today(),
        now=now,
        business_unit=business_unit,
        dry_run=dry_run,
    )
    if app.json_output:
        print_json(result.to_json())
    else:
        rows = [
            {"milestone": a.milestone, "level": a.level, "to": ", ".join(a.recipients), "text": a.text}
            for a in result.sent
        ]
        click.echo(format_table(rows))
        verb = "due" if dry_run else "sent"
        click.echo(
            f"{len(result.sent)} alerts {verb}, {result.emails} e-mails; {len(result.unaddressed)} with nobody"
            f" concerned; {len(result.failed)} failed"
        )
        for alert, error in result.failed:
            click.echo(f"Error: alert {alert.level} of milestone {alert.milestone}: {error}", err=True)
    if result.failed:
        sys.exit(1)


@alerts.command("contact")
@click.argument("user")
@click.argument("email")
@json_option
@pass_app
def alerts_contact(app: AppContext, user: str, email: str) -> None:
    """Set the e-mail address USER's alerts go to."""
    with app.session() as session:
        alert_services.set_contact(session, user, email)
    done(app, f"alerts for {user} go to {email}", user=user, email=email)
