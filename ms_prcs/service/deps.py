"""Authentication and rights as dependencies: every route under ``/api/v1`` declares the right it needs
(:data:`Reader`, :data:`Writer`, ...), and the API router itself depends on :func:`current_caller`, so a route
cannot forget to authenticate (``tests/service/test_routes.py`` checks that each route names a right).

A program sends ``Authorization: Bearer <token>``; a person sends the session cookie that
``POST /api/v1/session`` set. The identity found is the only user the services ever see.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from starlette.exceptions import HTTPException

from billing_plans.feed import MAX_CONSUMER_NAME
from ms_prcs.service.context import ServiceContext
from ms_prcs.service.credentials import Caller, session_caller, token_caller
from ms_prcs.service.rights import Right
from ms_prcs.service.security import SESSION_COOKIE

log = logging.getLogger("ms_prcs.service.auth")

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ms-prcs"'}


def service(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.service
    return ctx


Service = Annotated[ServiceContext, Depends(service)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def identify(request: Request, ctx: ServiceContext) -> Caller | None:
    """The caller a request authenticates as, or None (no credentials, or ones that are no good)."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if header:
        if scheme.lower() != "bearer" or not credentials.strip():
            return None
        with ctx.transaction() as session:
            return token_caller(session, credentials.strip(), _now())
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    data = ctx.signer.unsign(cookie)
    if data is None:
        return None
    with ctx.transaction() as session:
        return session_caller(session, data)


def current_caller(request: Request, ctx: Service) -> Caller:
    """The authenticated caller; 401 for anonymous requests and bad, expired or revoked credentials."""
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    caller = identify(request, ctx)
    if caller is None:
        given = (
            "credentials"
            if request.headers.get("authorization") or request.cookies.get(SESSION_COOKIE)
            else "none"
        )
        log.warning("authentication refused: %s %s (%s given)", request.method, request.url.path, given)
        raise HTTPException(
            401, "sign in (POST /api/v1/session) or send a valid API token", headers=CHALLENGE
        )
    request.state.caller = caller
    request.state.user = caller.user_id
    return caller


def refuse(request: Request, caller: Caller, why: str | None) -> None:
    """403 naming why (logged), unless ``why`` is None."""
    if why is not None:
        log.warning(
            "authorization refused: %s %s user=%s via %s: %s",
            request.method,
            request.url.path,
            caller.user_id,
            caller.via,
            why,
        )
        raise HTTPException(403, f"user {caller.user_id} is not allowed: {why}")


def requires(right: Right) -> Callable[..., Caller]:
    def check(request: Request, caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        refuse(request, caller, caller.lacks(right))
        return caller

    check.right = right  # type: ignore[attr-defined]  # read by the test that every route names a right
    return check


Reader = Annotated[Caller, Depends(requires(Right.READ))]
Writer = Annotated[Caller, Depends(requires(Right.WRITE))]
ReportReader = Annotated[Caller, Depends(requires(Right.REPORTS))]
Runner = Annotated[Caller, Depends(requires(Right.RUN))]
FeedReader = Annotated[Caller, Depends(requires(Right.FEED))]
Admin = Annotated[Caller, Depends(requires(Right.ADMIN))]

ConsumerName = Annotated[str, Path(min_length=1, max_length=MAX_CONSUMER_NAME)]


def check_consumer_of(request: Request, caller: Caller, consumer: str) -> None:
    """403 when the caller's token is bound to another feed consumer (:func:`rights.consumer_refused`)."""
    refuse(request, caller, caller.refused_consumer(consumer))


def feed_consumer(request: Request, consumer: ConsumerName, caller: FeedReader) -> Caller:
    """The feed right, for the consumer in the path: a token bound to another consumer is refused."""
    check_consumer_of(request, caller, consumer)
    return caller


ConsumerReader = Annotated[Caller, Depends(feed_consumer)]
"""A feed route of one consumer (``/feed/{consumer}``): :data:`FeedReader`, and the token's binding."""
