"""Alerts: each milestone and level is e-mailed (over a real SMTP server) and put in the inbox once, to the
assignees, the contract team and the approvers; approvals waiting too long go to their approvers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from contracts.errors import RuleViolation
from contracts.models import Milestone
from ms_prcs.alerts.config import AlertSettings
from ms_prcs.alerts.send import send_alerts
from ms_prcs.approvals.models import InboxItem
from tests.alerts.conftest import Inbox
from tests.approvals.helpers import MS100, approval_milestone, ok
from tests.conftest import CliInvoke

NOW = dt.datetime(2026, 2, 1, 8, 0)


def est(engine: Engine, day: str) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(Milestone).values(est_completion_date=dt.date.fromisoformat(day)))


def inbox_texts(engine: Engine, user: str) -> list[str]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(InboxItem.text)
                .where(InboxItem.user_id == user, InboxItem.text.like("Alert%"))
                .order_by(InboxItem.id)
            )
        )


def mails(inbox: Inbox) -> list[tuple[str, str]]:
    return [(to[0], str(m["Subject"])) for to, m in inbox.messages]


def test_each_alert_is_emailed_once_per_milestone_and_level(
    world: CliInvoke, engine: Engine, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    approval_milestone(world, "MS100", "--role", "FIN")  # bob approves
    ok(world, "milestone", "assign", MS100, "alice")
    ok(world, "alerts", "contact", "alice", "alice@example.com")
    ok(world, "alerts", "contact", "bob", "bob@example.com")
    est(engine, "2026-02-10")
    settings = AlertSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="alerts@example.com")

    def send(day: str) -> int:
        result = send_alerts(engine, settings, as_of=dt.date.fromisoformat(day), now=NOW)
        assert result.failed == ()
        return result.emails

    assert send("2026-02-01") == 0  # nine days away: nothing yet
    assert send("2026-02-04") == 2  # six days: warning, to the assignee and the approver
    assert send("2026-02-04") == 0
    assert send("2026-02-05") == 0  # still the warning level: sent already
    assert send("2026-02-08") == 2  # late
    assert send("2026-02-12") == 2  # reached
    assert send("2026-02-13") == 0
    assert mails(inbox) == [
        ("alice@example.com", "[ms-prcs] warning: US001/K1000/MS100/1"),
        ("bob@example.com", "[ms-prcs] warning: US001/K1000/MS100/1"),
        ("alice@example.com", "[ms-prcs] late: US001/K1000/MS100/1"),
        ("bob@example.com", "[ms-prcs] late: US001/K1000/MS100/1"),
        ("alice@example.com", "[ms-prcs] reached: US001/K1000/MS100/1"),
        ("bob@example.com", "[ms-prcs] reached: US001/K1000/MS100/1"),
    ]
    first = inbox.messages[0][1]
    assert first["From"] == "alerts@example.com"
    assert (
        "MS100/1 (MS100 approval) is estimated to complete on 2026-02-10, in 6 days (Ready)"
        in first.get_payload(decode=True).decode()
    )
    assert inbox_texts(engine, "alice") == [
        "Alert (warning): milestone US001/K1000/MS100/1 (MS100 approval) is estimated to complete on 2026-02-10,"
        " in 6 days (Ready)",
        "Alert (late): milestone US001/K1000/MS100/1 (MS100 approval) is estimated to complete on 2026-02-10,"
        " in 2 days (Ready)",
        "Alert (reached): milestone US001/K1000/MS100/1 (MS100 approval) was estimated to complete on 2026-02-10"
        " and is still Ready",
    ]


def test_an_approval_waiting_too_long_goes_to_its_approvers(
    world: CliInvoke, engine: Engine, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    approval_milestone(world, "MS100", "--role", "FIN")
    ok(world, "alerts", "contact", "bob", "bob@example.com")
    ok(world, "approval", "submit", MS100, "1")
    settings = AlertSettings(smtp_host="127.0.0.1", smtp_port=port, approval_wait_hours=48)
    submitted = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    early = send_alerts(engine, settings, as_of=dt.date(2026, 1, 1), now=submitted + dt.timedelta(hours=47))
    assert early.sent == ()
    late = send_alerts(engine, settings, as_of=dt.date(2026, 1, 1), now=submitted + dt.timedelta(hours=49))
    assert [(a.level, a.condition_seq, a.recipients) for a in late.sent] == [
        ("approval_waiting", 1, ("bob",))
    ]
    assert mails(inbox) == [("bob@example.com", "[ms-prcs] approval waiting: US001/K1000/MS100/1")]
    again = send_alerts(engine, settings, as_of=dt.date(2026, 1, 1), now=submitted + dt.timedelta(hours=99))
    assert again.sent == ()


def test_a_failing_smtp_server_sends_nothing_and_the_next_send_retries(
    world: CliInvoke, engine: Engine, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    approval_milestone(world, "MS100", "--role", "FIN")
    ok(world, "alerts", "contact", "bob", "bob@example.com")
    bad = world("alerts", "contact", "bob", "bob@")
    assert (bad.exit_code, bad.stderr) == (2, "Error: e-mail address 'bob@' of user bob is not an address\n")
    est(engine, "2026-02-02")
    closed = AlertSettings(smtp_host="127.0.0.1", smtp_port=1)
    with pytest.raises(RuleViolation, match="SMTP server 127.0.0.1:1: is not reachable"):
        send_alerts(engine, closed, as_of=dt.date(2026, 2, 1), now=NOW)
    assert inbox_texts(engine, "bob") == []
    ok_settings = AlertSettings(smtp_host="127.0.0.1", smtp_port=port)
    assert len(send_alerts(engine, ok_settings, as_of=dt.date(2026, 2, 1), now=NOW).sent) == 1
    assert len(inbox_texts(engine, "bob")) == 1


def test_alerts_cli(
    world: CliInvoke, engine: Engine, smtp: tuple[int, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, inbox = smtp
    monkeypatch.setenv("MS_PRCS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MS_PRCS_SMTP_PORT", str(port))
    approval_milestone(world, "MS100", "--role", "FIN")
    ok(world, "milestone", "assign", MS100, "alice")
    ok(world, "alerts", "contact", "alice", "alice@example.com")
    est(engine, "2026-02-03")
    dry = ok(world, "alerts", "send", "--as-of", "2026-02-01", "--dry-run")
    assert dry.splitlines()[-1] == "1 alerts due, 0 e-mails; 0 with nobody concerned; 0 failed"
    out = ok(world, "alerts", "send", "--as-of", "2026-02-01")
    assert (
        out.splitlines()[-1] == "1 alerts sent, 2 e-mails; 0 with nobody concerned; 0 failed"
        or out.splitlines()[-1] == "1 alerts sent, 1 e-mails; 0 with nobody concerned; 0 failed"
    )
    assert len(inbox.messages) == 1
    assert ok(world, "alerts", "send", "--as-of", "2026-02-01").splitlines()[-1].startswith("0 alerts sent")
    bad = world("alerts", "contact", "nobody", "x@example.com")
    assert (bad.exit_code, bad.stderr) == (1, "Error: user nobody does not exist\n")
