"""The service's tables (DESIGN 12): credentials of people and programs, sign-in attempts, and run requests.

They sit beside ``app_user`` rather than in it, so the engine's and the CLI's tables stay as they were: a
user without a password simply cannot sign in over HTTP, and the CLI's ``--user`` keeps working as an audit
name. Secrets are never stored: a password as a salted scrypt hash, a token as the SHA-256 of its
(high-entropy, random) text, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contracts.models import Base


class UserCredential(Base):
    """A person's password (``scrypt$N$r$p$salt$hash``); ``set_at`` is part of the session cookie, so a new
    password signs out every session signed with the old one."""

    __tablename__ = "user_credential"
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    set_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ApiToken(Base):
    """A program's credential: scopes (``feed,read``), the user it acts as, revocable, with a last-used time."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The first characters of the token, shown in ``token list`` so a person can tell tokens apart."""
    scopes: Mapped[str] = mapped_column(String(100))
    descr: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(30))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    consumer: Mapped[str | None] = mapped_column(String(40))
    """The one feed consumer this token may read and acknowledge; None: every consumer (migration 0011)."""


class SignInAttempt(Base):
    """One sign-in attempt: failures per user and per address decide how long the next attempt must wait.
    In the database, not in memory, so that every worker process of ``serve --workers N`` sees them."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        Index("ix_sign_in_attempt_user", "user_id", "at"),
        Index("ix_sign_in_attempt_address", "address", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    user_id: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)


class RunRequest(Base):
    """A run started over HTTP: the request answers at once, the run goes on in its own process, which
    records here how it went (its process instance, or why it was refused, and a dry run's result)."""

    __tablename__ = "run_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(30))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    run_control: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    pid: Mapped[int | None] = mapped_column(Integer)
    process_instance: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
