"""Who is calling: passwords, sign-in (slowed after failures), API tokens and the caller they make.

The library behind ``ms-prcs user password``, ``ms-prcs token create|list|revoke`` and the service's sign-in
and authentication; callers own the transaction. Nothing here knows HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from billing_plans.feed import check_consumer
from contracts.admin import user_roles
from contracts.audit import Who
from contracts.errors import InvalidInput, NotFound
from contracts.identity_models import ApiToken, SignInAttempt, UserCredential
from contracts.models import AppUser
from ms_prcs.service import security
from ms_prcs.service.rights import Right, Scope, consumer_refused, missing, parse_scopes

MIN_PASSWORD = 8
FREE_FAILURES = 5
"""Failed sign-ins (per user, and per address) within :data:`FAILURE_WINDOW` before attempts are slowed."""
FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_DELAY_S = 900
LAST_USED_EVERY = dt.timedelta(seconds=60)
"""A token's last-used time is written at most this often, so a busy feed reader is not a write a call."""


@dataclass(frozen=True)
class Caller:
    """An authenticated identity: a person (``scopes`` None: their roles decide) or a token's user."""

    user_id: str
    roles: frozenset[str]
    scopes: frozenset[Scope] | None = None
    token_id: int | None = None
    consumer: str | None = None
    """The feed consumer a bound token is limited to (None: every consumer; see :mod:`rights`)."""

    def who(self) -> Who:
        return Who.now(self.user_id)

    def lacks(self, right: Right) -> str | None:
        return missing(right, self.roles, self.scopes)

    def refused_consumer(self, consumer: str) -> str | None:
        return consumer_refused(self.consumer, consumer)

    @property
    def via(self) -> str:
        return "session" if self.token_id is None else f"token {self.token_id}"


def set_password(session: Session, user_id: str, password: str, at: dt.datetime) -> None:
    if session.get(AppUser, user_id) is None:
        raise NotFound("user", user_id)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password of user {user_id} must have at least {MIN_PASSWORD} characters")
    row = session.get(UserCredential, user_id)
    hashed = security.hash_password(password)
    if row is None:
        session.add(UserCredential(user_id=user_id, password_hash=hashed, set_at=at))
    else:
        row.password_hash, row.set_at = hashed, at
    session.flush()


@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: ``caller`` on success, else ``retry_after_s`` > 0 when slowed."""

    user_id: str
    caller: Caller | None
    session_data: security.SessionData | None
    retry_after_s: int = 0


def sign_in(session: Session, user_id: str, password: str, address: str, at: dt.datetime) -> SignIn:
    """Check a person's password, unless recent failures (of this user id or from this address) ask them to
    wait. Every attempt is recorded, the caller commits it even when the attempt failed."""
    wait = retry_after(session, user_id, address, at)
    if wait > 0:
        return SignIn(user_id, None, None, wait)
    credential = session.get(UserCredential, user_id)
    ok = security.verify_password(password, credential.password_hash if credential else None)
    session.add(SignInAttempt(at=at, user_id=user_id[:30], address=address[:64], succeeded=ok))
    session.flush()
    if not ok or credential is None:
        return SignIn(user_id, None, None)
    data = security.SessionData(user_id, credential.set_at.isoformat())
    return SignIn(user_id, Caller(user_id, user_roles(session, user_id)), data)


def retry_after(session: Session, user_id: str, address: str, at: dt.datetime) -> int:
    """Seconds to wait before the next attempt: 0 for the first :data:`FREE_FAILURES` failures in the window
    (since the last success), then doubling from 1 s per further failure, up to :data:`MAX_DELAY_S`."""
    since = at - FAILURE_WINDOW
    waits = []
    for column, value in ((SignInAttempt.user_id, user_id[:30]), (SignInAttempt.address, address[:64])):
        last_ok = session.scalar(
            select(func.max(SignInAttempt.at)).where(column == value, SignInAttempt.succeeded.is_(True))
        )
        start = max(since, last_ok) if last_ok else since
        failures, last = session.execute(
            select(func.count(), func.max(SignInAttempt.at)).where(
                column == value, SignInAttempt.succeeded.is_(False), SignInAttempt.at > start
            )
        ).one()
        if failures >= FREE_FAILURES and last is not None:
            delay = min(2 ** (failures - FREE_FAILURES), MAX_DELAY_S)
            waits.append(delay - int((at - last).total_seconds()))
    return int(max([0, *waits]))


def session_caller(session: Session, data: security.SessionData) -> Caller | None:
    """The person a valid cookie names, unless their password changed since (or was removed)."""
    credential = session.get(UserCredential, data.user_id)
    if credential is None or credential.set_at.isoformat() != data.password_set_at:
        return None
    return Caller(data.user_id, user_roles(session, data.user_id))


def token_caller(session: Session, text: str, at: dt.datetime) -> Caller | None:
    """The user and scopes of a live token (not revoked, not expired), noting when it was last used."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == security.token_digest(text)))
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= at):
        return None
    if row.last_used_at is None or at - row.last_used_at >= LAST_USED_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=at))
    scopes = frozenset(Scope(s) for s in row.scopes.split(",") if s)
    return Caller(row.user_id, user_roles(session, row.user_id), scopes, row.id, row.consumer)


def create_token(
    session: Session,
    user_id: str,
    scopes: list[str] | tuple[str, ...],
    who: Who,
    *,
    descr: str = "",
    expires_at: dt.datetime | None = None,
    consumer: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user_id``; returns its row and its text, which is not stored and cannot be shown
    again. With ``consumer``, a feed token bound to that feed consumer (it needs the feed scope)."""
    if session.get(AppUser, user_id) is None:
        raise NotFound("user", user_id)
    chosen = parse_scopes(scopes)
    if consumer is not None:
        check_consumer(consumer)
        if Scope.FEED not in chosen:
            raise InvalidInput(
                f"a token bound to feed consumer {consumer} needs the feed scope (--scope feed)"
            )
    text = security.new_token()
    row = ApiToken(
        user_id=user_id,
        token_hash=security.token_digest(text),
        prefix=text[:12],
        scopes=",".join(sorted(chosen)),
        descr=descr,
        created_at=who.at,
        created_by=who.user[:30],
        expires_at=expires_at,
        consumer=consumer,
    )
    session.add(row)
    session.flush()
    return row, text


def token_record(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.id,
        "user": row.user_id,
        "prefix": row.prefix,
        "scopes": row.scopes.split(","),
        "descr": row.descr,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "expires_at": row.expires_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
        "consumer": row.consumer,
    }


def list_tokens(session: Session, user_id: str | None = None) -> list[dict[str, Any]]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return [token_record(row) for row in session.scalars(query)]


def revoke_token(session: Session, token_id: int, at: dt.datetime) -> ApiToken:
    """Revoke a token (from now on it authenticates nobody); revoking twice keeps the first time."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("token", str(token_id))
    if row.revoked_at is None:
        row.revoked_at = at
    session.flush()
    return row
