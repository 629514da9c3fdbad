"""What every page shares: who is signed in, the CSRF token, rendering a template or its JSON twin, and the
one-time message shown after a change.

**Signing in** is the service's own (the signed session cookie of :mod:`ms_prcs.service.routes.session`);
a page asked for without it redirects to the sign-in form, its JSON twin answers 401.

**CSRF**: a random per-browser value in the cookie ``ms_prcs_csrf`` (set with the first page) and, in every
form, a hidden ``csrf_token`` that is its HMAC under the service's secret key. Every POST is refused with
403 unless the field matches the cookie: another site can make a browser send the cookies but can read
neither, so it cannot forge the field.

**Escaping**: templates are Jinja2 with autoescape on (``.html``), so whatever users typed is text.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.exceptions import HTTPException

from ms_prcs.service.context import ServiceContext
from ms_prcs.service.credentials import Caller
from ms_prcs.service.deps import CHALLENGE, identify, service
from ms_prcs.service.rights import Right

CSRF_COOKIE = "ms_prcs_csrf"
CSRF_FIELD = "csrf_token"
FLASH_COOKIE = "ms_prcs_flash"


def optional_caller(request: Request, ctx: Annotated[ServiceContext, Depends(service)]) -> Caller | None:
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    caller = identify(request, ctx)
    if caller is not None:
        request.state.caller = caller
        request.state.user = caller.user_id
    return caller


def signed_in(request: Request, caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    """The caller; else a redirect to the sign-in form (pages) or 401 (``.json`` twins)."""
    if caller is not None:
        return caller
    if request.url.path.endswith(".json"):
        raise HTTPException(
            401, "sign in (POST /api/v1/session) or send a valid API token", headers=CHALLENGE
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise HTTPException(303, "sign in first", headers={"Location": f"/sign-in?next={safe_next(target)}"})


Person = Annotated[Caller, Depends(signed_in)]
Ctx = Annotated[ServiceContext, Depends(service)]


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to (never another site: ``//evil`` and ``https://`` are refused)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# --- CSRF --------------------------------------------------------------------------------------------


def _digest(ctx: ServiceContext, value: str) -> str:
    key = hashlib.sha256(("ms-prcs-csrf:" + ctx.settings.secret_key).encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request, ctx: ServiceContext) -> str:
    """The token for this browser's forms; a new browser gets its cookie with the response."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not value:
        value = secrets.token_urlsafe(24)
        request.state.new_csrf = value
    return _digest(ctx, value)


async def checked_form(request: Request, ctx: Ctx) -> dict[str, str]:
    """The POSTed form, after the CSRF check (403 without a matching token)."""
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    cookie = request.cookies.get(CSRF_COOKIE, "")
    given = data.pop(CSRF_FIELD, "")
    if not cookie or not given or not hmac.compare_digest(given, _digest(ctx, cookie)):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page and try again")
    return data


Form = Annotated[dict[str, str], Depends(checked_form)]


# --- one-time messages -------------------------------------------------------------------------------


def _flash_signer(ctx: ServiceContext) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.secret_key, salt="ms-prcs-flash")


def redirect(ctx: ServiceContext, to: str, message: str = "", notes: list[str] | None = None) -> Response:
    """303 to ``to`` (a page), carrying ``message`` and ``notes`` to show there once."""
    response = RedirectResponse(safe_next(to), status_code=303)
    if message or notes:
        text = _flash_signer(ctx).dumps({"m": message[:1500], "n": [n[:500] for n in (notes or [])[:20]]})
        response.set_cookie(FLASH_COOKIE, text, httponly=True, samesite="lax", path="/")
    return response


def _take_flash(request: Request, ctx: ServiceContext) -> dict[str, Any] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = _flash_signer(ctx).loads(raw)
    except BadSignature:
        return None
    return {"message": str(data.get("m", "")), "notes": [str(n) for n in data.get("n", [])]}


# --- rendering ---------------------------------------------------------------------------------------


def render(
    request: Request,
    ctx: ServiceContext,
    template: str,
    data: Mapping[str, Any],
    caller: Caller | None,
    *,
    status: int = 200,
    error: str = "",
    title: str = "",
) -> HTMLResponse:
    """The page ``template`` over the view ``data`` (the same dict the ``.json`` twin returns)."""
    flash = _take_flash(request, ctx)
    context = {
        "request": request,
        "data": data,
        "caller": caller,
        "may_run": caller is not None and caller.lacks(Right.RUN) is None,
        "may_report": caller is not None and caller.lacks(Right.REPORTS) is None,
        "csrf_token": csrf_token(request, ctx),
        "csrf_field": CSRF_FIELD,
        "flash": flash,
        "error": error,
        "title": title,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status
    )
    finish(request, response, flash is not None)
    return response


def finish(request: Request, response: Response, flash_shown: bool = False) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", path="/")
    if flash_shown:
        response.delete_cookie(FLASH_COOKIE, path="/")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", CSP)


CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
"""Everything from the service itself: no asset from the internet, no inline script."""


def twin(data: Any) -> JSONResponse:
    """A page's JSON twin: the view data as it is rendered."""
    return JSONResponse(jsonable_encoder(data))
