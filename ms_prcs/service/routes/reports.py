"""The three reports, as JSON (every table) or CSV (the main table), exactly as ``ms-prcs report`` renders
them. Reading reports is a coarse right (role ``ms-prcs-reports``): they total amounts over all contracts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from ms_prcs.service.deps import ReportReader, Service

router = APIRouter(tags=["reports"])

Format = Literal["json", "csv"]
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report: JSON (every table and the totals) or CSV (the main table).",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


BU = Annotated[list[str] | None, Query(max_length=100, description="Only these business units (repeatable).")]
From = Annotated[dt.date | None, Query(alias="from")]
To = Annotated[dt.date | None, Query(alias="to")]
ImpactView = Literal["flow", "own-milestone"]


@dataclass(frozen=True)
class ReportParams:
    """What every report takes, as ``ms-prcs report``'s shared options do: the format and the scope."""

    format: Format
    business_units: tuple[str, ...]
    date_from: dt.date | None
    date_to: dt.date | None
    as_of: dt.date | None


def report_params(
    format: Format = "json",
    bu: BU = None,
    date_from: From = None,
    date_to: To = None,
    as_of: dt.date | None = None,
) -> ReportParams:
    """The shared query parameters of the report routes, declared once (one dependency)."""
    return ReportParams(format, tuple(bu or ()), date_from, date_to, as_of)


Params = Annotated[ReportParams, Depends(report_params)]


def _report(ctx: Any, name: str, params: ReportParams, **extra: Any) -> Response:
    from ms_prcs import reports
    from ms_prcs.reports.render import render

    scope = reports.ReportScope.asked(
        as_of=params.as_of or ctx.today(),
        business_units=params.business_units,
        date_from=params.date_from,
        date_to=params.date_to,
    )
    build = getattr(reports, f"{name}_report")
    with ctx.transaction() as session:
        text = render(build(session, scope, **extra), params.format)
    return Response(text, media_type="text/csv" if params.format == "csv" else "application/json")


@router.get("/reports/activity", response_class=Response, responses=REPORT_RESPONSES)
def activity(
    caller: ReportReader,
    ctx: Service,
    params: Params,
    top: Annotated[int, Query(ge=1, le=1000)] = 5,
) -> Response:
    """Milestones per milestone id by status, Past Due counts, and the bottlenecks."""
    return _report(ctx, "activity", params, top=top)


@router.get("/reports/impact", response_class=Response, responses=REPORT_RESPONSES)
def impact(
    caller: ReportReader,
    ctx: Service,
    params: Params,
    by: Annotated[
        ImpactView,
        Query(
            description="flow: on the earliest milestones of the contract's flow not yet approved (what the "
            "money waits on); own-milestone: on each event's own milestone (as `ms-prcs report impact --by`)."
        ),
    ] = "flow",
) -> Response:
    """Billing and revenue amounts waiting on milestones not yet Completed."""
    return _report(ctx, "impact", params, by=by)


@router.get("/reports/cycle-time", response_class=Response, responses=REPORT_RESPONSES)
def cycle_time(caller: ReportReader, ctx: Service, params: Params) -> Response:
    """Days spent in each status per milestone id: count, mean, median and 90th percentile."""
    return _report(ctx, "cycle_time", params)
