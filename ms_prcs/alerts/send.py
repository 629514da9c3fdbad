"""Sending alerts: each one in its own transaction that records it (``sent_alert``, unique per milestone,
level and approval), writes the inbox items and sends the e-mails, so an alert goes out once.

An e-mail that fails rolls its alert back (no row, no inbox items): the next ``alerts send`` tries again.
The record and the mail cannot be one atomic act; the window is the commit after a successful send, so a
crash there can repeat one e-mail, never lose one. Two senders at once: the unique key lets one insert
the row, the other skips the alert (on PostgreSQL it waits for the first to commit or roll back).
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.errors import InvalidInput, NotFound, RuleViolation
from contracts.finops_models import SentAlert, UserContact
from contracts.models import AppUser
from ms_prcs.alerts.config import AlertSettings
from ms_prcs.alerts.due import Alert, due_alerts
from ms_prcs.approvals.inbox import Notice, notify


@dataclass(frozen=True)
class SendResult:
    dry_run: bool
    sent: tuple[Alert, ...]
    emails: int
    unaddressed: tuple[Alert, ...]
    """Due, but nobody is concerned (no assignee, team or approver): not recorded, so an assignment later
    still gets the alert."""
    failed: tuple[tuple[Alert, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "sent": [a.to_json() for a in self.sent],
            "emails": self.emails,
            "unaddressed": [a.to_json() for a in self.unaddressed],
            "failed": [{**a.to_json(), "error": e} for a, e in self.failed],
        }


def send_alerts(
    engine: sa.Engine,
    settings: AlertSettings,
    *,
    as_of: dt.date,
    now: dt.datetime,
    business_unit: str | None = None,
    dry_run: bool = False,
) -> SendResult:
    """Send every due alert (see :mod:`ms_prcs.alerts.due`); commits one transaction per alert."""
    with Session(engine) as session:
        alerts = due_alerts(session, settings, as_of=as_of, now=now, business_unit=business_unit)
    addressed = [a for a in alerts if a.recipients]
    unaddressed = tuple(a for a in alerts if not a.recipients)
    if dry_run:
        return SendResult(True, tuple(addressed), 0, unaddressed, ())
    sent: list[Alert] = []
    failed: list[tuple[Alert, str]] = []
    emails = 0
    with _smtp(settings, bool(addressed)) as smtp:
        for alert in addressed:
            try:
                with Session(engine) as session, session.begin():
                    count = _send_one(session, settings, smtp, alert, now)
            except (smtplib.SMTPException, OSError) as err:
                failed.append((alert, f"e-mail failed: {err}"))
                continue
            if count is not None:
                sent.append(alert)
                emails += count
    return SendResult(False, tuple(sent), emails, unaddressed, tuple(failed))


def _send_one(
    session: Session, settings: AlertSettings, smtp: smtplib.SMTP | None, alert: Alert, now: dt.datetime
) -> int | None:
    """Record, notify, e-mail; ``None`` when another sender recorded this alert first."""
    if not _record(session, alert, now):
        return None
    notify(
        session.connection(),
        [
            Notice(user, alert.milestone_pk, f"Alert ({alert.level}): {alert.text}")
            for user in alert.recipients
        ],
        now,
    )
    addresses = list(
        session.scalars(
            sa.select(UserContact.email)
            .where(UserContact.user_id.in_(alert.recipients))
            .order_by(UserContact.email)
        )
    )
    if smtp is not None:
        for address in addresses:
            smtp.send_message(_message(settings, alert, address))
    else:
        addresses = []
    session.execute(
        sa.update(SentAlert)
        .where(
            SentAlert.milestone_pk == alert.milestone_pk,
            SentAlert.level == alert.level,
            SentAlert.condition_seq == alert.condition_seq,
        )
        .values(emailed=",".join(addresses))
    )
    return len(addresses)


def _record(session: Session, alert: Alert, now: dt.datetime) -> bool:
    values = {
        "milestone_pk": alert.milestone_pk,
        "level": alert.level,
        "condition_seq": alert.condition_seq,
        "sent_at": now,
        "recipients": ",".join(alert.recipients),
        "emailed": "",
    }
    conn = session.connection()
    keys = ["milestone_pk", "level", "condition_seq"]
    if conn.dialect.name == "postgresql":
        stmt: Any = postgresql.insert(SentAlert).values(values).on_conflict_do_nothing(index_elements=keys)
    else:
        stmt = sqlite.insert(SentAlert).values(values).on_conflict_do_nothing(index_elements=keys)
    return bool(conn.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount)


def _message(settings: AlertSettings, alert: Alert, address: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[ms-prcs] {alert.level.replace('_', ' ')}: {alert.milestone}"
    message["From"] = settings.smtp_from
    message["To"] = address
    message.set_content(f"{alert.text}\n\nThis alert is sent once (ms-prcs alerts, level {alert.level}).\n")
    return message


@contextmanager
def _smtp(settings: AlertSettings, needed: bool) -> Iterator[smtplib.SMTP | None]:
    """One SMTP connection for the batch, or ``None`` without a configured host (inbox only)."""
    if settings.smtp_host is None or not needed:
        yield None
        return
    try:
        connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
    except OSError as err:
        raise RuleViolation(
            f"SMTP server {settings.smtp_host}:{settings.smtp_port}", f"is not reachable: {err}"
        ) from err
    with connection as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        yield smtp


def set_contact(session: Session, user: str, email: str) -> None:
    """Where ``user`` gets alert e-mails (replaces the address they had)."""
    if session.get(AppUser, user) is None:
        raise NotFound("user", user)
    local, _, domain = email.rpartition("@")
    if not local or not domain or any(c.isspace() or c in "<>,;" for c in email) or len(email) > 255:
        raise InvalidInput(f"e-mail address {email!r} of user {user} is not an address")
    row = session.get(UserContact, user)
    if row is None:
        session.add(UserContact(user_id=user, email=email))
    else:
        row.email = email
    session.flush()
