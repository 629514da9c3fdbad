"""``/healthz`` (the process answers) and ``/readyz`` (the database answers, with the schema at head)."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ms_prcs.db import MIGRATIONS
from ms_prcs.service.deps import Service
from ms_prcs.service.models import Health

router = APIRouter(tags=["health"])


@cache
def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(ctx: Service) -> Health | JSONResponse:
    """Ready when the database answers and its schema is this version's head (else 503, and why)."""
    try:
        with ctx.engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        return JSONResponse({"status": "unavailable", "detail": f"database: {exc.orig}"}, status_code=503)
    if current != head_revision():
        detail = f"schema at {current}, this version needs {head_revision()}: run `ms-prcs init`"
        return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)
    return Health(status="ok", detail=f"schema at {current}")
