"""Finance operations tables (issue 16): holds, alerts sent and where to e-mail them, webhook subscriptions.

Kept beside the core schema in its own module (registered on the same ``Base.metadata`` by
:mod:`contracts.schema`) so the engine's hot tables stay as they are.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from contracts.models import Base


class Hold(Base):
    """A hold on a contract (all its plans), a plan, or one plan event: who put it, when and why, and who
    released it. A hold is active while ``released_at`` is empty; rows are never deleted, so the history of
    holds is the table itself (with a StatusChange row, object type ``Hold``, for each move).

    ``object_type`` is a :class:`contracts.audit.ObjectType` value (``Contract``, ``Plan``, ``Plan Event``)
    and ``object_pk`` the held row's id. ``contract_pk`` and ``business_unit`` are copied from the held
    object so that a run can find the one-cycle holds of its business units without a join per kind.
    """

    __tablename__ = "hold"
    __table_args__ = (
        Index("ix_hold_object", "object_type", "object_pk"),
        Index("ix_hold_contract", "contract_pk"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(20))
    object_pk: Mapped[int]
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    business_unit: Mapped[str] = mapped_column(String(5))
    reason: Mapped[str] = mapped_column(Text)
    one_cycle: Mapped[bool] = mapped_column(Boolean, default=False)
    """Released by the next run over its business unit (that starts after the hold was put)."""
    held_at: Mapped[dt.datetime] = mapped_column(DateTime)
    held_by: Mapped[str] = mapped_column(String(40))
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    released_by: Mapped[str | None] = mapped_column(String(40))
    release_reason: Mapped[str] = mapped_column(Text, default="")


class UserContact(Base):
    """Where a user is e-mailed (alerts). A table of its own so the users table stays as it is."""

    __tablename__ = "user_contact"
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(255))


class SentAlert(Base):
    """One alert sent (inbox and e-mail): the unique key (milestone, level, condition) makes each alert
    go out once, whoever runs ``alerts send`` and however often. ``condition_seq`` is 0 for milestone
    alerts and the approval's condition for ``approval_waiting``."""

    __tablename__ = "sent_alert"
    __table_args__ = (UniqueConstraint("milestone_pk", "level", "condition_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_pk: Mapped[int] = mapped_column(ForeignKey("milestone.id"))
    level: Mapped[str] = mapped_column(String(30))
    condition_seq: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime)
    recipients: Mapped[str] = mapped_column(Text, default="")
    emailed: Mapped[str] = mapped_column(Text, default="")


class WebhookSubscription(Base):
    """A consumer of the feed that prefers push: entries after its feed cursor (``feed_consumer`` of the
    same name) are POSTed to ``url`` in order, signed with ``secret``; a 2xx acknowledges the entry (and
    claims its billing event, as ``feed ack`` does). ``kinds`` is a comma list of feed kinds (empty: all);
    entries of other kinds are acknowledged without a request. ``attempts`` counts failures of the entry at
    the head; after ``max_attempts`` the subscription is Dead until replayed."""

    __tablename__ = "webhook_subscription"
    consumer: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(200))
    kinds: Mapped[str] = mapped_column(Text, default="")
    max_attempts: Mapped[int] = mapped_column(default=8)
    status: Mapped[str] = mapped_column(String(10), default="Active")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    """A deliverer holds the subscription until then: two ``webhook deliver`` never post the same entry."""
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class WebhookAttempt(Base):
    """Every delivery attempt, for the operator: which entry, when, the HTTP status or the error."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_consumer", "consumer", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    consumer: Mapped[str] = mapped_column(ForeignKey("webhook_subscription.consumer"))
    cursor: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status_code: Mapped[int | None]
    error: Mapped[str] = mapped_column(Text, default="")
