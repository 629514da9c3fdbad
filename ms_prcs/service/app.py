"""The ASGI application: ``create_app(settings)`` builds it over the same library the CLI calls.

Its shape, for whoever adds to it: ``/healthz`` and ``/readyz`` for supervisors; the JSON API under
``/api/v1`` (every route authenticated, see :mod:`ms_prcs.service.deps`; OpenAPI at
``/api/v1/openapi.json``); server-rendered pages passed as ``page_routers`` are mounted at the root, with
Jinja2 templates from ``ms_prcs/service/templates`` (``app.state.templates``) and static files from
``ms_prcs/service/static`` under ``/static``. Errors of every route are problem documents
(:mod:`ms_prcs.service.problems`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ms_prcs.service import problems
from ms_prcs.service.accesslog import AccessLog
from ms_prcs.service.context import ServiceContext
from ms_prcs.service.deps import current_caller
from ms_prcs.service.models import Problem
from ms_prcs.service.routes import API_ROUTERS, health, session
from ms_prcs.settings import Settings

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
API_PREFIX = "/api/v1"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entries of the error answers: all problem documents (they replace FastAPI's own 422)."""
    return {
        status: {
            "model": Problem,
            "description": problems.TITLES[status],
            "content": {problems.PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def create_app(settings: Settings, *, page_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The service over ``settings`` (its database, secret key, allowed hosts); raises InvalidInput when
    there is no secret key."""
    app = FastAPI(
        title="ms-prcs",
        version="1",
        summary="Milestone processing (CA_MS_PRCS): contracts, milestones, approvals, runs and the feed.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.service = ServiceContext.open(settings)
    app.state.templates = Jinja2Templates(directory=str(TEMPLATES))
    problems.install(app)
    app.include_router(health.router)
    app.include_router(session.router, prefix=API_PREFIX, responses=problem_responses(401, 422, 429))
    api = APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(current_caller)],
        responses=problem_responses(401, 403, 404, 409, 422, 503),
    )
    for router in API_ROUTERS:
        api.include_router(router)
    app.include_router(api)
    for router in page_routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    if "*" not in settings.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    app.add_middleware(AccessLog)
    return app
