"""Feed consumers and publishers as separate processes, for the crash and concurrency tests.

``python -m tests.billing_plans.feed_worker MODE URL ...``:

- ``read-then-crash URL CONSUMER``: read (printing the cursors), then die by SIGKILL before acknowledging.
- ``ack-then-hang URL CONSUMER THROUGH``: acknowledge inside a transaction, print ``acked``, and wait to be
  killed before the commit.
- ``consume URL CONSUMER LIMIT STOPFILE``: read and acknowledge until the feed is drained and STOPFILE exists;
  print one JSON object: every cursor read and acknowledged, and every billing event claimed.
- ``publish URL PAUSE EVENT_PK...``: announce each event as eligible in its own transaction, pausing up to
  PAUSE seconds (at random) between the insert and the commit: the window in which another publisher's
  later insert could commit first.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

from sqlalchemy import select

from billing_plans import feed
from contracts.audit import Who
from contracts.models import PlanEvent
from ms_prcs.db import make_engine, transaction


def who(consumer: str) -> Who:
    return Who(f"{consumer}@{os.getpid()}", dt.datetime.now(dt.UTC).replace(tzinfo=None))


def read_then_crash(url: str, consumer: str) -> None:
    engine = make_engine(url)
    with transaction(engine) as session:
        page = feed.read(session, consumer)
        print(json.dumps([e.id for e in page.entries]), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def ack_then_hang(url: str, consumer: str, through: int) -> None:
    engine = make_engine(url)
    with transaction(engine) as session:
        result = feed.ack(session, consumer, through, who(consumer))
        print(json.dumps({"acked": [b.event for b in result.claimed]}), flush=True)
        time.sleep(600)


def consume(url: str, consumer: str, limit: int, stopfile: Path) -> None:
    engine = make_engine(url)
    seen: list[int] = []
    claimed: list[str] = []
    while True:
        stopping = stopfile.exists()  # before reading: what was published before the stop is drained
        with transaction(engine) as session:
            page = feed.read(session, consumer, limit=limit)
        if not page.entries:
            if stopping:
                break
            time.sleep(0.01)
            continue
        with transaction(engine) as session:
            result = feed.ack(session, consumer, page.entries[-1].id, who(consumer))
        if result.acked_through > result.previous:
            # Only what this ack moved the cursor over is this process's; another process of the same
            # consumer name may have acknowledged part of the page first.
            seen += [e.id for e in page.entries if result.previous < e.id <= result.acked_through]
        claimed += [b.event for b in result.claimed]
    print(
        json.dumps({"consumer": consumer, "pid": os.getpid(), "seen": seen, "claimed": claimed}), flush=True
    )


def publish(url: str, pause: float, event_pks: list[int]) -> None:
    engine = make_engine(url)
    at = dt.datetime(2026, 2, 1, 12, 0)
    for pk in event_pks:
        with transaction(engine) as session:
            appended = feed.publish_eligible_events(
                session.connection(), select(PlanEvent.id).where(PlanEvent.id == pk), as_of=at.date(), at=at
            )
            assert appended == 1, (pk, appended)
            time.sleep(random.uniform(0, pause))  # commits land out of insert order


def main(argv: list[str]) -> None:
    mode, url, *rest = argv
    match mode:
        case "read-then-crash":
            read_then_crash(url, rest[0])
        case "ack-then-hang":
            ack_then_hang(url, rest[0], int(rest[1]))
        case "consume":
            consume(url, rest[0], int(rest[1]), Path(rest[2]))
        case "publish":
            publish(url, float(rest[0]), [int(pk) for pk in rest[1:]])
        case _:
            raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
