"""Feed consumers: a name, a cursor (the last entry acknowledged), and every consumer's position."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.errors import InvalidInput
from contracts.models import FeedConsumer, FeedEntry

MAX_CONSUMER_NAME = 40


def check_consumer(consumer: str) -> None:
    if not consumer.strip() or len(consumer) > MAX_CONSUMER_NAME:
        raise InvalidInput(f"feed consumer name {consumer!r} must be 1 to {MAX_CONSUMER_NAME} characters")


def cursor_of(conn: Connection, consumer: str) -> int:
    """The consumer's cursor; 0 for a consumer that never acknowledged (it has no row yet)."""
    return conn.scalar(select(FeedConsumer.acked_through).where(FeedConsumer.consumer == consumer)) or 0


def ensure_consumer(conn: Connection, consumer: str, at: dt.datetime) -> None:
    """The consumer's row at cursor 0 unless it exists: one ``INSERT .. ON CONFLICT DO NOTHING``."""
    values = {"consumer": consumer, "acked_through": 0, "updated_at": at}
    if conn.dialect.name == "postgresql":
        conn.execute(
            postgresql.insert(FeedConsumer).values(values).on_conflict_do_nothing(index_elements=["consumer"])
        )
    elif conn.dialect.name == "sqlite":
        conn.execute(
            sqlite.insert(FeedConsumer).values(values).on_conflict_do_nothing(index_elements=["consumer"])
        )
    else:  # pragma: no cover - only SQLite and PostgreSQL ship
        raise NotImplementedError(conn.dialect.name)


@dataclass(frozen=True)
class ConsumerPosition:
    consumer: str
    acked_through: int
    waiting: int
    updated_at: dt.datetime


def consumers(session: Session, only: str | None = None) -> list[ConsumerPosition]:
    """Every consumer's cursor and how many entries wait after it (or ``only`` that consumer's)."""
    waiting = (
        select(func.count())
        .select_from(FeedEntry)
        .where(FeedEntry.id > FeedConsumer.acked_through)
        .scalar_subquery()
    )
    query = select(
        FeedConsumer.consumer, FeedConsumer.acked_through, waiting, FeedConsumer.updated_at
    ).order_by(FeedConsumer.consumer)
    if only is not None:
        query = query.where(FeedConsumer.consumer == only)
    return [ConsumerPosition(c, a, w, u) for c, a, w, u in session.execute(query)]
