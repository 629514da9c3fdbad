"""Webhooks (issue 16): feed entries pushed to a consumer's URL, in order, signed, retried, acknowledged by a
2xx, with a dead-letter state and replay from a cursor.

A subscription *is* a feed consumer (the same name, the same cursor in ``feed_consumer``): a 2xx response
acknowledges the entry with :func:`billing_plans.feed.ack`, which also claims its billing event, so the
exactly-once rule of the feed holds for push as for pull. Entries are posted one at a time, the next only
after the previous one was acknowledged, so nothing is reordered; entries of kinds the subscription does
not take are acknowledged without a request. A failure (no 2xx, a timeout, a refused connection) is
recorded, and the same entry is tried again after a backoff (``backoff_s`` doubled per attempt, at most an
hour); after ``max_attempts`` the subscription is **Dead** and delivers nothing until :func:`replay`.

Delivery runs in ``ms-prcs webhook deliver`` (alone or as a ``schedule --post`` step), never inside a run's
transaction, and no database transaction is open while a request is in flight. A lease on the
subscription row keeps two deliverers from posting the same entry.

Signature: ``X-MsPrcs-Timestamp`` (Unix seconds) and ``X-MsPrcs-Signature: sha256=<hex>``, the HMAC-SHA256
with the secret of ``<timestamp>.<body>``; a receiver checks it with :func:`verify_signature` and refuses
old timestamps (replays).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing_plans import feed
from contracts.audit import Who
from contracts.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from contracts.finops_models import WebhookAttempt, WebhookSubscription
from contracts.models import FeedConsumer, FeedKind

ACTIVE, DEAD = "Active", "Dead"
MAX_BACKOFF_S = 3600.0
LEASE = dt.timedelta(minutes=5)

Post = Callable[[str, bytes, dict[str, str], float], tuple[int | None, str]]
"""(url, body, headers, timeout) -> (HTTP status or None, error text): the one network call, a parameter
so the service can pass its own client."""


@dataclass(frozen=True)
class SubscriptionView:
    consumer: str
    url: str
    kinds: tuple[str, ...]
    max_attempts: int
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    acked_through: int
    last_error: str

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "kinds": list(self.kinds)}


@dataclass(frozen=True)
class Delivery:
    consumer: str
    delivered: tuple[int, ...]
    """Cursors acknowledged by a 2xx, in order."""
    skipped: int
    """Entries of other kinds, acknowledged without a request."""
    claimed: tuple[str, ...]
    failed_cursor: int | None
    error: str
    status: str


def subscribe(
    session: Session,
    consumer: str,
    url: str,
    secret: str,
    who: Who,
    *,
    kinds: Sequence[str] = (),
    max_attempts: int = 8,
) -> SubscriptionView:
    """A subscription for ``consumer``, delivering from its current feed cursor (0 for a new consumer)."""
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"webhook URL {url!r} must start with http:// or https://")
    if len(secret) < 16:
        raise InvalidInput("a webhook secret must be at least 16 characters")
    if max_attempts < 1:
        raise InvalidInput(f"max attempts must be 1 or more, got {max_attempts}")
    known = {k.value for k in FeedKind}
    wrong = sorted(set(kinds) - known)
    if wrong:
        raise InvalidInput(f"feed kind {wrong[0]!r} is not one of {', '.join(sorted(known))}")
    feed.read(session, consumer, limit=1)  # checks the name
    if session.get(WebhookSubscription, consumer) is not None:
        raise AlreadyExists("webhook subscription", consumer)
    row = WebhookSubscription(
        consumer=consumer,
        url=url,
        secret=secret,
        kinds=",".join(sorted(set(kinds))),
        max_attempts=max_attempts,
        status=ACTIVE,
        attempts=0,
        created_at=who.at,
    )
    session.add(row)
    session.flush()
    return _view(session, row)


def subscriptions(session: Session) -> list[SubscriptionView]:
    rows = session.scalars(sa.select(WebhookSubscription).order_by(WebhookSubscription.consumer))
    return [_view(session, r) for r in rows]


def replay(session: Session, consumer: str, from_cursor: int, who: Who) -> SubscriptionView:
    """Deliver again from ``from_cursor`` (inclusive): the consumer's cursor moves back to just before it,
    and a Dead subscription is Active again. Billing events already claimed are not claimed twice."""
    row = _get(session, consumer)
    position = feed.read(session, consumer, limit=1).acked_through
    if from_cursor < 1 or from_cursor - 1 > position:
        raise RuleViolation(
            f"webhook subscription {consumer}",
            f"can replay from cursor 1 to {position + 1} (its cursor is {position}), not from {from_cursor}",
        )
    session.execute(
        sa.update(FeedConsumer)
        .where(FeedConsumer.consumer == consumer)
        .values(acked_through=from_cursor - 1, updated_at=who.at)
    )
    row.status, row.attempts, row.next_attempt_at, row.last_error = ACTIVE, 0, None, ""
    session.flush()
    return _view(session, row)


def deliver(
    engine: sa.Engine,
    *,
    now: Callable[[], dt.datetime],
    consumer: str | None = None,
    backoff_s: float = 30.0,
    timeout_s: float = 10.0,
    max_entries: int = 1000,
    post: Post | None = None,
) -> list[Delivery]:
    """Deliver what waits for every Active subscription due for an attempt (or only ``consumer``): one
    entry at a time until the feed is drained, ``max_entries`` are delivered, or an attempt fails."""
    send = post or post_json
    with Session(engine) as session:
        names = list(
            session.scalars(
                sa.select(WebhookSubscription.consumer)
                .where(WebhookSubscription.status == ACTIVE)
                .order_by(WebhookSubscription.consumer)
            )
        )
    if consumer is not None:
        if consumer not in names:
            with Session(engine) as session:
                _get(session, consumer)
            return []
        names = [consumer]
    return [
        d
        for d in (_deliver_one(engine, name, now, backoff_s, timeout_s, max_entries, send) for name in names)
        if d is not None
    ]


def _deliver_one(
    engine: sa.Engine,
    consumer: str,
    now: Callable[[], dt.datetime],
    backoff_s: float,
    timeout_s: float,
    max_entries: int,
    send: Post,
) -> Delivery | None:
    if not _lease(engine, consumer, now()):
        return None
    delivered: list[int] = []
    claimed: list[str] = []
    skipped = 0
    try:
        while len(delivered) < max_entries:
            with Session(engine) as session:
                sub = _get(session, consumer)
                url, secret, kinds = sub.url, sub.secret, set(filter(None, sub.kinds.split(",")))
                page = feed.read(session, consumer, limit=100)
                records = [(e.id, e.kind.value, feed.entry_record(e)) for e in page.entries]
            if not records:
                break
            for cursor, kind, record in records:
                if kinds and kind not in kinds:
                    _ack(engine, consumer, cursor, now())
                    skipped += 1
                    continue
                body = json.dumps({"consumer": consumer, **record}, sort_keys=True, default=_plain).encode()
                stamp = str(int(now().replace(tzinfo=dt.UTC).timestamp()))
                headers = {
                    "Content-Type": "application/json",
                    "X-MsPrcs-Consumer": consumer,
                    "X-MsPrcs-Cursor": str(cursor),
                    "X-MsPrcs-Timestamp": stamp,
                    "X-MsPrcs-Signature": sign(secret, stamp, body),
                }
                status, error = send(url, body, headers, timeout_s)
                if status is not None and 200 <= status < 300:
                    result = _ack(engine, consumer, cursor, now(), status=status)
                    claimed += [b.event for b in result.claimed]
                    delivered.append(cursor)
                    if len(delivered) >= max_entries:
                        break
                    continue
                state = _failed(engine, consumer, cursor, now(), status, error, backoff_s)
                return Delivery(
                    consumer,
                    tuple(delivered),
                    skipped,
                    tuple(claimed),
                    cursor,
                    error or f"HTTP {status}",
                    state,
                )
    finally:
        _release(engine, consumer)
    return Delivery(consumer, tuple(delivered), skipped, tuple(claimed), None, "", ACTIVE)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: dt.datetime, tolerance_s: float = 300.0
) -> bool:
    """For receivers: the signature matches and the timestamp is within ``tolerance_s`` of ``now`` (UTC)."""
    if not timestamp.isdigit():
        return False
    age = abs(now.replace(tzinfo=dt.UTC).timestamp() - int(timestamp))
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def post_json(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> tuple[int | None, str]:
    """POST with the standard library; any status, timeout or connection error is an answer, not a raise."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # http(s) checked at subscribe
            return int(response.status), ""
    except urllib.error.HTTPError as err:
        return err.code, f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        return None, f"{type(err).__name__}: {getattr(err, 'reason', err)}"


# --- state ------------------------------------------------------------------------------------------------


def _lease(engine: sa.Engine, consumer: str, at: dt.datetime) -> bool:
    """Take the subscription for this deliverer if it is Active, due, and not leased by another."""
    with Session(engine) as session, session.begin():
        s = WebhookSubscription
        taken = session.connection().execute(
            sa.update(s)
            .where(
                s.consumer == consumer,
                s.status == ACTIVE,
                sa.or_(s.next_attempt_at.is_(None), s.next_attempt_at <= at),
                sa.or_(s.lease_until.is_(None), s.lease_until < at),
            )
            .values(lease_until=at + LEASE)
        )
        return bool(taken.rowcount)


def _release(engine: sa.Engine, consumer: str) -> None:
    with Session(engine) as session, session.begin():
        session.execute(
            sa.update(WebhookSubscription)
            .where(WebhookSubscription.consumer == consumer)
            .values(lease_until=None)
            .execution_options(synchronize_session=False)
        )


def _ack(
    engine: sa.Engine, consumer: str, cursor: int, at: dt.datetime, status: int | None = None
) -> feed.AckResult:
    with Session(engine) as session, session.begin():
        result = feed.ack(session, consumer, cursor, Who(f"webhook {consumer}", at))
        sub = _get(session, consumer)
        sub.attempts, sub.next_attempt_at, sub.last_error = 0, None, ""
        if status is not None:
            session.add(
                WebhookAttempt(
                    consumer=consumer, cursor=cursor, attempted_at=at, status_code=status, error=""
                )
            )
        return result


def _failed(
    engine: sa.Engine,
    consumer: str,
    cursor: int,
    at: dt.datetime,
    status: int | None,
    error: str,
    backoff_s: float,
) -> str:
    with Session(engine) as session, session.begin():
        sub = _get(session, consumer)
        sub.attempts += 1
        sub.last_error = error or f"HTTP {status}"
        session.add(
            WebhookAttempt(
                consumer=consumer, cursor=cursor, attempted_at=at, status_code=status, error=sub.last_error
            )
        )
        if sub.attempts >= sub.max_attempts:
            sub.status, sub.next_attempt_at = DEAD, None
        else:
            delay = min(backoff_s * 2 ** (sub.attempts - 1), MAX_BACKOFF_S)
            sub.next_attempt_at = at + dt.timedelta(seconds=delay)
        return sub.status


def _plain(value: Any) -> Any:
    """JSON for dates, times and Decimals: ISO text and the exact decimal text (never a float)."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _get(session: Session, consumer: str) -> WebhookSubscription:
    row = session.get(WebhookSubscription, consumer)
    if row is None:
        raise NotFound("webhook subscription", consumer)
    return row


def _view(session: Session, row: WebhookSubscription) -> SubscriptionView:
    cursor = (
        session.scalar(sa.select(FeedConsumer.acked_through).where(FeedConsumer.consumer == row.consumer))
        or 0
    )
    return SubscriptionView(
        row.consumer,
        row.url,
        tuple(filter(None, row.kinds.split(","))),
        row.max_attempts,
        row.status,
        row.attempts,
        row.next_attempt_at,
        cursor,
        row.last_error,
    )
