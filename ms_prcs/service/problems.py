"""Every error of the service as one JSON shape, RFC 9457 problem details, mapped in this one place.

A domain error keeps exactly the text the CLI prints (``Error: <this>``): the rule and the object it names
are the same whichever door the request came in by. Refused rules are 409 (the state of the object is the
reason), a refused authorization 403, unknown keys 404, input that cannot be understood 422. A 500 means a
bug, never bad input: it is logged with its traceback, and the answer says nothing of the internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException

from contracts.errors import (
    AlreadyExists,
    InvalidInput,
    MsPrcsError,
    NotAuthorized,
    NotFound,
    RuleViolation,
    RunLocked,
    SqlRuleError,
)

log = logging.getLogger("ms_prcs.service")

PROBLEM_TYPE = "application/problem+json"

# Most specific first: the first class an error is an instance of decides its status.
STATUSES: tuple[tuple[type[MsPrcsError], int, str], ...] = (
    (NotAuthorized, 403, "not-authorized"),
    (RunLocked, 409, "run-locked"),
    (SqlRuleError, 422, "sql-rule"),
    (NotFound, 404, "not-found"),
    (AlreadyExists, 409, "already-exists"),
    (InvalidInput, 422, "invalid-input"),
    (RuleViolation, 409, "rule-refused"),
)
TITLES = {
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    409: "Refused by a rule",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Internal error",
    503: "Database unavailable",
}


def status_of(exc: MsPrcsError) -> tuple[int, str]:
    for cls, status, slug in STATUSES:
        if isinstance(exc, cls):
            return status, slug
    return (422, "invalid-input") if exc.exit_code == 2 else (409, "rule-refused")


def problem(
    request: Request,
    status: int,
    detail: str,
    slug: str = "",
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"urn:ms-prcs:problem:{slug}" if slug else "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers, media_type=PROBLEM_TYPE)


def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MsPrcsError)
    status, slug = status_of(exc)
    if status == 403:
        log.warning(
            "authorization refused: %s %s user=%s: %s",
            request.method,
            request.url.path,
            getattr(request.state, "user", "-"),
            exc,
        )
    return problem(request, status, str(exc), slug)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return problem(
        request,
        422,
        f"{where}: {first['msg']}" if where else str(first["msg"]),
        "invalid-input",
        errors=errors,
    )


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    slug = {401: "not-signed-in", 403: "not-authorized", 429: "too-many-attempts"}.get(exc.status_code, "")
    return problem(request, exc.status_code, str(exc.detail), slug, headers=dict(exc.headers or {}))


def _database(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DataError):  # a value the column cannot hold (too long, out of range): bad input
        return problem(
            request, 422, f"a value does not fit the database: {exc.orig}".strip(), "invalid-input"
        )
    if isinstance(exc, IntegrityError):  # a concurrent change won a unique key first
        return problem(
            request, 409, "the change conflicts with another one; read again and retry", "conflict"
        )
    log.error("database error on %s %s: %s", request.method, request.url.path, exc)
    text = str(exc)
    if "no such table" in text or "does not exist" in text:
        return problem(request, 503, "the database has no ms-prcs schema (or an old one): run `ms-prcs init`")
    return problem(request, 503, "the database could not answer; try again")


def _overflow(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 422, f"a number or date is out of range: {exc}", "invalid-input")


def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "internal error; the service log has the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(MsPrcsError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(OverflowError, _overflow)
    app.add_exception_handler(Exception, _internal)
