"""What every report shares: its scope (business units, window, as-of date) and the shape of its result.

The scope is a value passed in, like a run's run control: the clock of a report is its ``as_of`` date, and
only the CLI defaults it to today. Results are frozen values of DataFrames, so one renderer prints all three
reports in every format, and programs can use the DataFrames directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Date, DateTime, String, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from contracts.audit import ObjectType
from contracts.errors import InvalidInput, NotFound
from contracts.models import BusinessUnit, StatusChange
from contracts.schema import table_of

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class ReportScope:
    """Which milestones a report covers, and its clock.

    - ``business_units``: only milestones of contracts in these business units (empty: all).
    - ``date_from`` / ``date_to``: only milestones with at least one status change on a day in the window,
      both ends inclusive (either end may be open). The window picks milestones by their activity; the
      figures of a picked milestone are then its whole story, not the part inside the window.
    - ``as_of``: the report's today. A milestone is **Past Due** when it is neither Completed nor
      Cancelled and its estimated completion date is before ``as_of`` (the approvals layer will add its own
      ready-by and complete-by deadlines). Open stays (a milestone still Ready) are measured up to the
      report's :attr:`clock`, the midnight that ends the as-of day: as-of dates are inclusive everywhere in
      ms-prcs. ``as_of`` does not rewind history: statuses and amounts are those in the database now.
    """

    as_of: dt.date
    business_units: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def __post_init__(self) -> None:
        if self.date_from is not None and self.date_to is not None and self.date_from > self.date_to:
            raise InvalidInput(
                f"the report window is empty: --from {self.date_from} is after --to {self.date_to}"
            )

    @classmethod
    def asked(
        cls,
        as_of: dt.date,
        business_units: Sequence[str] = (),
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> ReportScope:
        """The scope as a person asks for it (``--bu us001``, ``?bu=US001&bu=us001``): business units
        trimmed, upper-cased and each once, in the order given. The CLI and the service both build it so."""
        units = tuple(dict.fromkeys(bu.strip().upper() for bu in business_units))
        return cls(as_of=as_of, business_units=units, date_from=date_from, date_to=date_to)

    @property
    def clock(self) -> dt.datetime:
        """The instant open stays run to: the end of the as-of day (status_change times are naive UTC)."""
        return dt.datetime.combine(self.as_of + ONE_DAY, dt.time())

    @property
    def windowed(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def params(self) -> dict[str, Any]:
        """The bind values every report query takes for its scope (see ``sql/*.sql``)."""
        start = self.date_from or dt.date.min
        end = self.date_to + ONE_DAY if self.date_to is not None and self.date_to < dt.date.max else None
        return {
            "object_type": ObjectType.MILESTONE.value,
            "all_business_units": 0 if self.business_units else 1,
            "business_units": list(self.business_units),
            "windowed": 1 if self.windowed else 0,
            "window_start": dt.datetime.combine(start, dt.time()),
            "window_end": dt.datetime.combine(end, dt.time()) if end else dt.datetime.max,
        }

    def describe(self) -> dict[str, Any]:
        """The scope as printed above a report and stored in its JSON."""
        return {
            "as_of": self.as_of.isoformat(),
            "business_units": list(self.business_units),
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }


def check_scope(session: Session, scope: ReportScope) -> None:
    """Refuse unknown business units: a typo would otherwise print an empty report that looks like news."""
    known = set(
        session.scalars(
            select(BusinessUnit.business_unit).where(BusinessUnit.business_unit.in_(scope.business_units))
        )
    )
    for business_unit in scope.business_units:
        if business_unit not in known:
            raise NotFound("business unit", business_unit)


def scope_filter(
    params: Mapping[str, Any], contract: sa.FromClause, milestone: sa.FromClause, window: str
) -> list[sa.ColumnElement[bool]]:
    """The report scope (``sql/_report_scope.sql``) for queries built in Python, over the given aliases of
    ``contract`` and ``milestone``; ``params`` are :meth:`ReportScope.params`, ``window`` names the alias of
    the status history the window looks at."""
    where: list[sa.ColumnElement[bool]] = []
    if not params["all_business_units"]:
        where.append(contract.c.business_unit.in_(params["business_units"]))
    if params["windowed"]:
        w = table_of(StatusChange).alias(window)
        where.append(
            sa.exists(
                sa.select(sa.literal(1)).where(
                    w.c.object_type == params["object_type"],
                    w.c.object_pk == milestone.c.id,
                    w.c.changed_at >= params["window_start"],
                    w.c.changed_at < params["window_end"],
                )
            )
        )
    return where


SCOPE_BINDS: tuple[BindParameter[Any], ...] = (
    bindparam("business_units", type_=String(), expanding=True),
    bindparam("window_start", type_=DateTime()),
    bindparam("window_end", type_=DateTime()),
    bindparam("as_of", type_=Date()),
    bindparam("clock", type_=DateTime()),
)
"""Typed binds for the scope's values: SQLite stores dates as text, so the value must be rendered the way the
ORM stores it, and an empty business unit list still needs a type on PostgreSQL."""


def days_between(start: pd.Series, end: pd.Series | dt.datetime) -> pd.Series:
    """Elapsed days from ``start`` to ``end`` as floats, never negative (an as-of date before a stay began
    counts it as 0 days, not as negative time)."""
    elapsed = (end - pd.to_datetime(start)) / pd.Timedelta(days=1)
    return elapsed.clip(lower=0.0).astype(float)


@dataclass(frozen=True)
class ReportTable:
    """One table of a report: its name in JSON (``by_milestone``), a heading for people, and the data."""

    name: str
    title: str
    frame: pd.DataFrame = field(compare=False)


@dataclass(frozen=True)
class ChartSpec:
    """A bar chart as data: one bar group per category, one bar (or stacked segment) per series.

    Reports describe their chart; only :mod:`ms_prcs.reports.render` knows matplotlib.
    """

    title: str
    ylabel: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    stacked: bool = False
    counts: bool = False
    """Whole numbers on the value axis (milestones), not fractions."""


class Report(Protocol):
    """What the renderer needs from a report result."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def scope(self) -> ReportScope: ...

    def tables(self) -> Sequence[ReportTable]:
        """The report's tables, the main one first (CSV holds only the main one)."""
        ...

    def totals(self) -> Mapping[str, Any]: ...

    def chart(self) -> ChartSpec: ...
