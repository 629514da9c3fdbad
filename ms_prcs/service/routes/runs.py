"""Runs: the process monitor (list, show), and starting a run (dry runs too) in its own process."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Response

from contracts.errors import NotFound
from contracts.identity_models import RunRequest
from contracts.keys import ContractKey, MilestoneKey
from ms_prcs.engine import RunControl, runlog
from ms_prcs.service import launch
from ms_prcs.service.deps import Reader, Runner, Service
from ms_prcs.service.models_ops import RunDetail, RunRequestView, RunRow, RunStart
from ms_prcs.service.routes.keys import Num

router = APIRouter(tags=["runs"])


def request_view(row: RunRequest) -> RunRequestView:
    watch = (
        f"/api/v1/runs/{row.process_instance}" if row.process_instance else f"/api/v1/runs/requests/{row.id}"
    )
    return RunRequestView(
        request=row.id,
        state=row.state,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        run_control=json.loads(row.run_control),
        process_instance=row.process_instance,
        result=json.loads(row.result) if row.result else None,
        error=row.error,
        watch=watch,
    )


@router.get("/runs", response_model=list[RunRow])
def list_runs(caller: Reader, ctx: Service, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> list[RunRow]:
    """The most recent runs, newest first."""
    with ctx.engine.connect() as conn:
        return [RunRow.model_validate(r) for r in runlog.list_runs(conn, limit)]


@router.get("/runs/{process_instance}", response_model=RunDetail)
def show_run(process_instance: Num, caller: Reader, ctx: Service) -> RunDetail:
    """One run: its run control, timings, outcome, counts and every message."""
    with ctx.engine.connect() as conn:
        return RunDetail.model_validate(runlog.run_detail(conn, process_instance))


@router.post("/runs", response_model=RunRequestView, status_code=202)
def start_run(body: RunStart, caller: Runner, ctx: Service, response: Response) -> RunRequestView:
    """Start a run (or a dry run) in its own process, under the one-live-run-per-business-unit rule;
    answers 202 with the process instance to watch (``watch``), or 409 when another run holds the scope."""
    control = RunControl(
        as_of=body.as_of or ctx.today(),
        business_units=tuple(body.business_units),
        contract=ContractKey.parse(body.contract) if body.contract else None,
        milestone=MilestoneKey.parse(body.milestone) if body.milestone else None,
        dry_run=body.dry_run,
        trigger=launch.API_TRIGGER,
    )
    view = request_view(launch.start(ctx, control, caller.user_id))
    response.headers["Location"] = view.watch
    return view


@router.get("/runs/requests/{request_id}", response_model=RunRequestView)
def show_request(request_id: Num, caller: Reader, ctx: Service) -> RunRequestView:
    """A run started over HTTP: its state, process instance, and a dry run's result."""
    with ctx.transaction() as session:
        row = session.get(RunRequest, request_id)
        if row is None:
            raise NotFound("run request", str(request_id))
        return request_view(row)
