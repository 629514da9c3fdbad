"""The process monitor and the reports, as pages.

Runs: the list, one run with its counts and messages, and, for people with the run right, a form that starts
a run or a dry run for a scope in its own process (:mod:`ms_prcs.service.launch`, the API's own) and a page
that follows it until it ends. That page refreshes itself without JavaScript (``<meta refresh>``); the
shipped script polls its JSON twin instead and updates the progress in place.

Reports: Activity, Impact and Cycle Time by Milestone, rendered by :mod:`ms_prcs.reports.render` (its
self-contained HTML with the chart) inside the page, and as CSV downloads.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from starlette.exceptions import HTTPException

from contracts.errors import InvalidInput, MsPrcsError, NotAuthorized, NotFound
from contracts.identity_models import RunRequest
from contracts.keys import ContractKey, MilestoneKey
from contracts.models import BusinessUnit, ProcessRun
from ms_prcs.engine import RunControl, runlog
from ms_prcs.service import launch
from ms_prcs.service.context import ServiceContext
from ms_prcs.service.credentials import Caller
from ms_prcs.service.pages.browse import json_or_error, page_or_error
from ms_prcs.service.pages.web import Ctx, Form, Person, redirect, render
from ms_prcs.service.problems import status_of
from ms_prcs.service.rights import Right
from ms_prcs.service.routes.keys import Num

router = APIRouter(include_in_schema=False)
REPORTS = {
    "activity": "Activity by Milestone",
    "impact": "Impact by Milestone",
    "cycle-time": "Cycle Time by Milestone",
}


# --- runs --------------------------------------------------------------------------------------------


def _runs(ctx: ServiceContext) -> dict[str, Any]:
    with ctx.transaction() as session:
        units = list(session.scalars(select(BusinessUnit.business_unit).order_by(BusinessUnit.business_unit)))
        return {
            "runs": runlog.list_runs(session.connection(), 50),
            "business_units": units,
            "today": ctx.today(),
        }


@router.get("/runs.json")
def runs_json(caller: Person, ctx: Ctx) -> Response:
    return json_or_error(lambda: _runs(ctx))


@router.get("/runs")
def runs_page(request: Request, caller: Person, ctx: Ctx) -> HTMLResponse:
    return page_or_error(request, ctx, caller, "runs.html", lambda: _runs(ctx), title="Runs")


def _run(ctx: ServiceContext, pi: int) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        return runlog.run_detail(conn, pi)


@router.get("/runs/{process_instance}.json")
def run_json(process_instance: Num, caller: Person, ctx: Ctx) -> Response:
    return json_or_error(lambda: _run(ctx, process_instance))


@router.get("/runs/{process_instance}")
def run_page(request: Request, process_instance: Num, caller: Person, ctx: Ctx) -> HTMLResponse:
    return page_or_error(
        request, ctx, caller, "run.html", lambda: _run(ctx, process_instance), title=f"Run {process_instance}"
    )


def request_data(ctx: ServiceContext, request_id: int) -> dict[str, Any]:
    """A run started here: its state, and while it runs, how far it got (the run row's counts, written
    after every chunk, and its heartbeat)."""
    with ctx.transaction() as session:
        row = session.get(RunRequest, request_id)
        if row is None:
            raise NotFound("run request", str(request_id))
        data: dict[str, Any] = {
            "request": row.id,
            "state": row.state,
            "ended": row.state in launch.ENDED,
            "requested_by": row.requested_by,
            "requested_at": row.requested_at,
            "run_control": json.loads(row.run_control),
            "process_instance": row.process_instance,
            "result": json.loads(row.result) if row.result else None,
            "error": row.error,
            "progress": None,
        }
        if row.process_instance is not None:
            run = session.get(ProcessRun, row.process_instance)
            if run is not None:
                counts = json.loads(run.counts or "{}")
                data["progress"] = {
                    "outcome": run.outcome,
                    "milestones_processed": counts.get("milestones_processed", 0),
                    "milestones_completed": run.milestones_completed,
                    "conditions_completed": run.conditions_completed,
                    "heartbeat_at": run.heartbeat_at,
                }
        return data


@router.get("/runs/requests/{request_id}.json")
def request_json(request_id: Num, caller: Person, ctx: Ctx) -> Response:
    return json_or_error(lambda: request_data(ctx, request_id))


@router.get("/runs/requests/{request_id}")
def request_page(request: Request, request_id: Num, caller: Person, ctx: Ctx) -> HTMLResponse:
    return page_or_error(
        request,
        ctx,
        caller,
        "run_request.html",
        lambda: request_data(ctx, request_id),
        title=f"Run request {request_id}",
    )


def _control(ctx: ServiceContext, form: dict[str, str]) -> RunControl:
    try:
        as_of = dt.date.fromisoformat(form["as_of"]) if form.get("as_of") else ctx.today()
    except ValueError:
        raise InvalidInput(f"as-of date {form['as_of']!r} is not a date (YYYY-MM-DD)") from None
    units = tuple(b for b in re.split(r"[,\s]+", form.get("bu", "").upper()) if b)
    return RunControl(
        as_of=as_of,
        business_units=units,
        contract=ContractKey.parse(form["contract"].strip()) if form.get("contract", "").strip() else None,
        milestone=MilestoneKey.parse(form["milestone"].strip())
        if form.get("milestone", "").strip()
        else None,
        dry_run=form.get("dry_run") == "1",
        trigger=launch.API_TRIGGER,
    )


@router.post("/runs/start")
def start_run(request: Request, caller: Person, ctx: Ctx, form: Form) -> Response:
    """Start a run for the scope in the form; answers with the page that follows it."""
    try:
        why = caller.lacks(Right.RUN)
        if why is not None:
            raise NotAuthorized(caller.user_id, "runs", why)
        row = launch.start(ctx, _control(ctx, form), caller.user_id, wait_s=5.0)
    except MsPrcsError as exc:
        code, _ = status_of(exc)
        return page_or_error(
            request, ctx, caller, "runs.html", lambda: _runs(ctx), title="Runs", error=str(exc), status=code
        )
    return redirect(ctx, f"/runs/requests/{row.id}", f"run request {row.id} started")


# --- reports -----------------------------------------------------------------------------------------


def _check_reports(caller: Caller) -> None:
    why = caller.lacks(Right.REPORTS)
    if why is not None:
        raise HTTPException(403, f"user {caller.user_id} is not allowed: {why}")


def _report(ctx: ServiceContext, name: str, fmt: str, bu: str, date_from: str, date_to: str) -> str:
    from ms_prcs import reports
    from ms_prcs.reports.render import render as render_report

    if name not in REPORTS:
        raise NotFound("report", name)
    try:
        start = dt.date.fromisoformat(date_from) if date_from else None
        end = dt.date.fromisoformat(date_to) if date_to else None
    except ValueError:
        raise InvalidInput("report dates must be YYYY-MM-DD") from None
    scope = reports.ReportScope(
        as_of=ctx.today(),
        business_units=tuple(dict.fromkeys(b for b in re.split(r"[,\s]+", bu.upper()) if b)),
        date_from=start,
        date_to=end,
    )
    build = getattr(reports, f"{name.replace('-', '_')}_report")
    with ctx.transaction() as session:
        return str(render_report(build(session, scope), fmt))


def _body(document: str) -> Markup:
    """The body of the renderer's self-contained page (it escaped everything it printed)."""
    match = re.search(r"<body>\n?(.*)</body>", document, re.S)
    return Markup(match.group(1) if match else "")  # the renderer's own escaped HTML


@router.get("/reports")
def reports_index(request: Request, caller: Person, ctx: Ctx) -> HTMLResponse:
    _check_reports(caller)
    return render(request, ctx, "reports.html", {"reports": REPORTS, "report": None}, caller, title="Reports")


def _download(
    ctx: ServiceContext, caller: Caller, name: str, fmt: str, bu: str, date_from: str, date_to: str
) -> str:
    """A report as a file (CSV or JSON): a refusal is the HTTP status of its error, not a page."""
    _check_reports(caller)
    try:
        return _report(ctx, name, fmt, bu, date_from, date_to)
    except MsPrcsError as exc:
        raise HTTPException(status_of(exc)[0], str(exc)) from exc


@router.get("/reports/{name}.csv")
def report_csv(
    name: str, caller: Person, ctx: Ctx, bu: str = "", date_from: str = "", date_to: str = ""
) -> Response:
    text = _download(ctx, caller, name, "csv", bu, date_from, date_to)
    return Response(
        text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'}
    )


@router.get("/reports/{name}.json")
def report_json(
    name: str, caller: Person, ctx: Ctx, bu: str = "", date_from: str = "", date_to: str = ""
) -> Response:
    text = _download(ctx, caller, name, "json", bu, date_from, date_to)
    return Response(text, media_type="application/json")


@router.get("/reports/{name}")
def report_page(
    request: Request,
    name: str,
    caller: Person,
    ctx: Ctx,
    bu: str = "",
    date_from: str = "",
    date_to: str = "",
) -> HTMLResponse:
    _check_reports(caller)

    def build() -> dict[str, Any]:
        return {
            "reports": REPORTS,
            "report": name,
            "title": REPORTS.get(name, name),
            "filters": {"bu": bu, "date_from": date_from, "date_to": date_to},
            "html": _body(_report(ctx, name, "html", bu, date_from, date_to)),
        }

    return page_or_error(request, ctx, caller, "reports.html", build, title=REPORTS.get(name, "Reports"))
