"""Webhooks against a real HTTP receiver on loopback that fails on purpose: each entry arrives once
(acknowledged), in order, correctly signed; retries wait for their backoff; a dead subscription stops until
replayed; replay delivers again without claiming twice."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from contracts.status import PlanType
from ms_prcs import webhooks
from tests.billing_plans.conftest import activate, create, event_status, run, template, who
from tests.conftest import CliInvoke

SECRET = "s3cret-for-the-erp-0123"
T0 = dt.datetime(2026, 2, 1, 6, 0)


class Receiver:
    """Answers 500 to the first ``fail`` requests, then 200; keeps every request."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code = 500 if len(receiver.requests) < receiver.fail else 200
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body, code))
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body, code in self.requests if code == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail=2)
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def entries(world: Session, engine: Engine) -> Session:
    """Four feed entries: two milestones completed, a billing event (US001/K1000/1/BP/2) and a revenue
    event eligible."""
    activate(world)
    template(world, "BP", ["MS-USER=30%", "MS-DATE=70%"], ready_on_activation=True)
    template(world, "RP", ["MS-DATE=100%"], PlanType.REVENUE, ready_on_activation=True)
    create(world, "BP")
    create(world, "RP", line=2)
    run(engine)
    return world


def test_fails_twice_then_delivers_each_entry_once_in_order_signed(
    entries: Session, engine: Engine, receiver: Receiver
) -> None:
    webhooks.subscribe(entries, "erp", receiver.url, SECRET, who())
    entries.commit()
    clock = Clock()
    first = webhooks.deliver(engine, now=clock, backoff_s=30)
    assert [(d.delivered, d.failed_cursor, d.error, d.status) for d in first] == [
        ((), 1, "HTTP 500", "Active")
    ]
    clock.at = T0 + dt.timedelta(seconds=10)
    assert webhooks.deliver(engine, now=clock, backoff_s=30) == []  # backoff: not due before T0 + 30 s
    clock.at = T0 + dt.timedelta(seconds=31)
    second = webhooks.deliver(engine, now=clock, backoff_s=30)
    assert second[0].failed_cursor == 1
    clock.at = T0 + dt.timedelta(seconds=31 + 59)
    assert webhooks.deliver(engine, now=clock, backoff_s=30) == []  # the second retry waits 60 s
    clock.at = T0 + dt.timedelta(seconds=31 + 61)
    third = webhooks.deliver(engine, now=clock, backoff_s=30)
    assert [(d.delivered, d.claimed, d.failed_cursor) for d in third] == [
        ((1, 2, 3, 4), ("US001/K1000/1/BP/2",), None)
    ]
    assert [(e["cursor"], e["kind"], e["key"]) for e in receiver.accepted()] == [
        (1, "milestone_completed", "US001/K1000/MS-DATE/1"),
        (2, "milestone_completed", "US001/K1000/MS-DATE/2"),
        (3, "billing_event_eligible", "US001/K1000/1/BP/2"),
        (4, "revenue_event_eligible", "US001/K1000/2/RP/1"),
    ]
    assert [json.loads(b)["cursor"] for _, b, _ in receiver.requests] == [1, 1, 1, 2, 3, 4]
    for headers, body, _ in receiver.requests:
        assert webhooks.verify_signature(
            SECRET, headers["x-msprcs-timestamp"], body, headers["x-msprcs-signature"], now=clock.at
        )
        assert not webhooks.verify_signature(
            "another-secret-0000",
            headers["x-msprcs-timestamp"],
            body,
            headers["x-msprcs-signature"],
            now=clock.at,
        )
    old = receiver.requests[0][0]
    assert not webhooks.verify_signature(
        SECRET,
        old["x-msprcs-timestamp"],
        receiver.requests[0][1],
        old["x-msprcs-signature"],
        now=clock.at + dt.timedelta(minutes=10),
    )  # a replayed request, too old
    assert event_status(entries, "1/BP/2") == "In Progress"
    assert webhooks.deliver(engine, now=clock) == [webhooks.Delivery("erp", (), 0, (), None, "", "Active")]

    # replay from cursor 3: delivered again, nothing claimed twice
    webhooks.replay(entries, "erp", 3, who())
    entries.commit()
    again = webhooks.deliver(engine, now=clock)
    assert [(d.delivered, d.claimed) for d in again] == [((3, 4), ())]


def test_dead_letter_after_max_attempts_and_kinds(
    entries: Session, engine: Engine, receiver: Receiver
) -> None:
    webhooks.subscribe(
        entries, "billing", receiver.url, SECRET, who(), kinds=["billing_event_eligible"], max_attempts=2
    )
    entries.commit()
    clock = Clock()
    webhooks.deliver(engine, now=clock, backoff_s=1)
    clock.at += dt.timedelta(seconds=5)
    dead = webhooks.deliver(engine, now=clock, backoff_s=1)
    assert [(d.skipped, d.failed_cursor, d.status) for d in dead] == [
        (0, 3, "Dead")
    ]  # 1 and 2 skipped earlier
    clock.at += dt.timedelta(hours=2)
    assert webhooks.deliver(engine, now=clock) == []
    view = webhooks.subscriptions(entries)[0]
    assert (view.status, view.attempts, view.acked_through, view.last_error) == ("Dead", 2, 2, "HTTP 500")
    webhooks.replay(entries, "billing", 3, who())
    entries.commit()
    revived = webhooks.deliver(engine, now=clock)
    assert [(d.delivered, d.skipped, d.claimed) for d in revived] == [((3,), 1, ("US001/K1000/1/BP/2",))]
    with pytest.raises(Exception, match="can replay from cursor 1 to 5"):
        webhooks.replay(entries, "billing", 9, who())


def test_webhook_cli(entries: Session, cli: CliInvoke, receiver: Receiver) -> None:
    receiver.fail = 0
    out = cli("webhook", "add", "erp", receiver.url, "--secret", SECRET)
    assert out.exit_code == 0, out.output
    assert out.output == f"webhook erp delivers to {receiver.url} from cursor 1\n"
    short = cli("webhook", "add", "erp2", receiver.url, "--secret", "short")
    assert (short.exit_code, short.stderr) == (2, "Error: a webhook secret must be at least 16 characters\n")
    delivered = cli("webhook", "deliver")
    assert delivered.exit_code == 0, delivered.output
    assert delivered.output.splitlines()[2].split()[:3] == ["erp", "4", "4"]
    listed = cli("webhook", "list", "--json")
    assert json.loads(listed.output)[0]["acked_through"] == 4
    replayed = cli("webhook", "replay", "erp", "--from", "4")
    assert replayed.output == "webhook erp delivers again from cursor 4 (Active)\n"
