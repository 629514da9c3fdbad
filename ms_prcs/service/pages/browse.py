"""The pages people read: home, sign in and out, My inbox, Contracts, a contract's milestones, a milestone.

Each page has a JSON twin at the same path plus ``.json``, returning the very dict the page renders
(:mod:`ms_prcs.service.pages.screens`), so the pages and the data cannot drift apart. The twins are declared
before their pages: ``/contracts/US001/K1000.json`` must not be read as contract ``K1000.json``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from contracts.errors import MsPrcsError
from ms_prcs.service.context import ServiceContext
from ms_prcs.service.credentials import Caller
from ms_prcs.service.models import Page
from ms_prcs.service.pages import screens
from ms_prcs.service.pages.web import Ctx, Form, Person, redirect, render, safe_next, twin
from ms_prcs.service.problems import status_of
from ms_prcs.service.routes.keys import CKey, MKey
from ms_prcs.service.routes.paging import Offset
from ms_prcs.service.routes.session import attempt_sign_in, start_session
from ms_prcs.service.security import SESSION_COOKIE

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25


def page_or_error(
    request: Request,
    ctx: ServiceContext,
    caller: Caller | None,
    template: str,
    build: Callable[[], dict[str, Any]],
    *,
    title: str,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    """Render ``template`` over ``build()``; a domain error (an unknown key, say) is an error page with the
    status the API would answer."""
    try:
        data = build()
    except MsPrcsError as exc:
        code, _ = status_of(exc)
        return render(request, ctx, "error.html", {"detail": str(exc)}, caller, status=code, title=title)
    return render(request, ctx, template, data, caller, status=status, error=error, title=title)


def json_or_error(build: Callable[[], Any]) -> Response:
    try:
        return twin(build())
    except MsPrcsError as exc:
        code, _ = status_of(exc)
        raise HTTPException(code, str(exc)) from exc


# --- signing in and out ------------------------------------------------------------------------------


@router.get("/")
def home(request: Request, caller: Person) -> Response:
    return redirect(request.app.state.service, "/inbox")


@router.get("/sign-in")
def sign_in_form(request: Request, ctx: Ctx, next: str = "/inbox") -> HTMLResponse:
    return render(
        request, ctx, "sign_in.html", {"next": safe_next(next, "/inbox"), "user": ""}, None, title="Sign in"
    )


@router.post("/sign-in")
def sign_in(request: Request, ctx: Ctx, form: Form) -> Response:
    user, password = form.get("user", "").strip(), form.get("password", "")
    target = safe_next(form.get("next"), "/inbox")
    try:
        if not user or not password:
            raise HTTPException(401, "enter your user id and password")
        result = attempt_sign_in(request, ctx, user[:30], password[:1024])
    except HTTPException as exc:
        data = {"next": target, "user": user}
        response = render(
            request,
            ctx,
            "sign_in.html",
            data,
            None,
            status=exc.status_code,
            error=str(exc.detail),
            title="Sign in",
        )
        if exc.headers and "Retry-After" in exc.headers:
            response.headers["Retry-After"] = exc.headers["Retry-After"]
        return response
    answer = redirect(ctx, target)
    start_session(request, ctx, result, answer)
    return answer


@router.post("/sign-out")
def sign_out(request: Request, ctx: Ctx, form: Form) -> Response:
    response = redirect(ctx, "/sign-in", "signed out")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# --- inbox -------------------------------------------------------------------------------------------


def _inbox(ctx: ServiceContext, caller: Caller, as_of: dt.date | None) -> dict[str, Any]:
    with ctx.transaction() as session:
        return screens.inbox_page(session, caller, as_of or ctx.today())


@router.get("/inbox.json")
def inbox_json(caller: Person, ctx: Ctx, as_of: dt.date | None = None) -> Response:
    return json_or_error(lambda: _inbox(ctx, caller, as_of))


@router.get("/inbox")
def inbox_page(request: Request, caller: Person, ctx: Ctx, as_of: dt.date | None = None) -> HTMLResponse:
    return page_or_error(
        request, ctx, caller, "inbox.html", lambda: _inbox(ctx, caller, as_of), title="My inbox"
    )


# --- contracts ---------------------------------------------------------------------------------------


def _contracts(
    ctx: ServiceContext, bu: str, status: str, gate: str, gate_status: str, offset: int
) -> dict[str, Any]:
    with ctx.transaction() as session:
        data = screens.contracts_page(
            session,
            bu=bu or None,
            status=status or None,
            gate=gate or None,
            gate_status=gate_status or None,
            offset=offset,
            limit=PAGE_SIZE,
        )
    page = Page[dict[str, Any]].window(data.pop("rows"), data.pop("total"), offset, PAGE_SIZE)
    return {**data, **page.model_dump()}


@router.get("/contracts.json")
def contracts_json(
    caller: Person,
    ctx: Ctx,
    bu: str = "",
    status: str = "",
    gate: str = "",
    gate_status: str = "",
    offset: Offset = 0,
) -> Response:
    return json_or_error(lambda: _contracts(ctx, bu, status, gate, gate_status, offset))


@router.get("/contracts")
def contracts_page(
    request: Request,
    caller: Person,
    ctx: Ctx,
    bu: str = "",
    status: str = "",
    gate: str = "",
    gate_status: str = "",
    offset: Offset = 0,
) -> HTMLResponse:
    return page_or_error(
        request,
        ctx,
        caller,
        "contracts.html",
        lambda: _contracts(ctx, bu, status, gate, gate_status, offset),
        title="Contracts",
    )


def contract_data(ctx: ServiceContext, key: Any, caller: Caller, as_of: dt.date | None) -> dict[str, Any]:
    with ctx.transaction() as session:
        return screens.contract_page(session, key, caller, as_of or ctx.today(), ctx.settings)


@router.get("/contracts/{bu}/{contract}.json")
def contract_json(key: CKey, caller: Person, ctx: Ctx, as_of: dt.date | None = None) -> Response:
    return json_or_error(lambda: contract_data(ctx, key, caller, as_of))


@router.get("/contracts/{bu}/{contract}")
def contract_page(
    request: Request, key: CKey, caller: Person, ctx: Ctx, as_of: dt.date | None = None
) -> HTMLResponse:
    return page_or_error(
        request,
        ctx,
        caller,
        "contract.html",
        lambda: contract_data(ctx, key, caller, as_of),
        title=f"Contract {key}",
    )


def milestone_data(ctx: ServiceContext, key: Any, caller: Caller, as_of: dt.date | None) -> dict[str, Any]:
    with ctx.transaction() as session:
        return screens.milestone_page(session, key, caller, as_of or ctx.today(), ctx.settings)


@router.get("/milestones/{bu}/{contract}/{ms_id}/{num}.json")
def milestone_json(key: MKey, caller: Person, ctx: Ctx, as_of: dt.date | None = None) -> Response:
    return json_or_error(lambda: milestone_data(ctx, key, caller, as_of))


@router.get("/milestones/{bu}/{contract}/{ms_id}/{num}")
def milestone_page(
    request: Request, key: MKey, caller: Person, ctx: Ctx, as_of: dt.date | None = None
) -> HTMLResponse:
    return page_or_error(
        request,
        ctx,
        caller,
        "milestone.html",
        lambda: milestone_data(ctx, key, caller, as_of),
        title=f"Milestone {key}",
    )
