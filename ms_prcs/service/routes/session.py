"""Signing in and out: ``POST /api/v1/session`` (JSON) sets the signed session cookie.

The sign-in itself is :func:`ms_prcs.service.credentials.sign_in`; :func:`start_session` puts the cookie on
any response, so the HTML sign-in form of the pages can reuse it with a redirect instead of JSON.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.exceptions import HTTPException

from ms_prcs.service.context import ServiceContext
from ms_prcs.service.credentials import Caller, SignIn, sign_in
from ms_prcs.service.deps import CHALLENGE, Service, current_caller
from ms_prcs.service.models import Credentials, SessionInfo
from ms_prcs.service.security import SESSION_COOKIE

router = APIRouter(tags=["session"])
log = logging.getLogger("ms_prcs.service.auth")


def attempt_sign_in(request: Request, ctx: ServiceContext, user_id: str, password: str) -> SignIn:
    """One attempt, committed whatever its outcome (failures are what slow the next attempts); raises 429
    while slowed and 401 for a wrong user id or password (the same answer for both)."""
    address = request.client.host if request.client else "-"
    with ctx.transaction() as session:
        result = sign_in(session, user_id, password, address, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    if result.retry_after_s > 0:
        log.warning(
            "sign-in slowed: user=%s address=%s retry after %s s", user_id, address, result.retry_after_s
        )
        raise HTTPException(
            429,
            f"too many failed sign-ins for user {user_id} or from {address}: try again in {result.retry_after_s} s",
            headers={"Retry-After": str(result.retry_after_s)},
        )
    if result.caller is None:
        log.warning("sign-in failed: user=%s address=%s", user_id, address)
        raise HTTPException(401, "wrong user id or password", headers=CHALLENGE)
    request.state.user = user_id
    return result


def start_session(request: Request, ctx: ServiceContext, result: SignIn, response: Response) -> None:
    assert result.session_data is not None
    response.set_cookie(
        SESSION_COOKIE,
        ctx.signer.sign(result.session_data),
        max_age=int(ctx.settings.session_max_age_s),
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure or request.url.scheme == "https",
        path="/",
    )


@router.post("/session", response_model=SessionInfo)
def create_session(body: Credentials, request: Request, response: Response, ctx: Service) -> SessionInfo:
    """Sign in with a user id and password: sets the session cookie (HttpOnly, SameSite=Lax)."""
    result = attempt_sign_in(request, ctx, body.user, body.password)
    start_session(request, ctx, result, response)
    assert result.caller is not None
    return SessionInfo(user=result.caller.user_id, roles=sorted(result.caller.roles), via="session")


@router.get("/session", response_model=SessionInfo)
def read_session(caller: Annotated[Caller, Depends(current_caller)]) -> SessionInfo:
    """Who the request is authenticated as (by cookie or token), with their roles and scopes."""
    return SessionInfo.of(caller)


@router.delete("/session", status_code=204)
def delete_session(response: Response) -> Response:
    """Sign out: the cookie is cleared."""
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
