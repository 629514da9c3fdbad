"""Reports over the milestone data: Activity, Impact and Cycle Time by Milestone (DESIGN 11, issue 8).

pandas and matplotlib stay here, at the edge: the engine and the domain packages never import them (a ruff
banned-api rule keeps it so). Each report is one module whose function takes a session and a
:class:`~ms_prcs.reports.scope.ReportScope` and returns a frozen result of DataFrames and totals; its SQL lives
in the top-level ``sql/`` package (:mod:`ms_prcs.reports.queries`); :mod:`ms_prcs.reports.render` prints any
result as a table, CSV, JSON or one self-contained HTML file with a chart.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ms_prcs.reports.formats import FORMATS

if TYPE_CHECKING:
    from ms_prcs.reports.activity import ActivityReport, activity_report
    from ms_prcs.reports.cycle_time import CycleTimeReport, cycle_time_report
    from ms_prcs.reports.impact import ImpactReport, impact_report
    from ms_prcs.reports.scope import Report, ReportScope, ReportTable

# pandas and matplotlib take seconds to import; every CLI command imports this package to register
# ``report``, so the heavy modules load on first use (PEP 562), not at start-up. The renderer is imported
# from its module (``ms_prcs.reports.render.render``): a lazy name equal to a submodule's would be shadowed.
_LAZY = {
    "ActivityReport": "activity",
    "activity_report": "activity",
    "CycleTimeReport": "cycle_time",
    "cycle_time_report": "cycle_time",
    "ImpactReport": "impact",
    "impact_report": "impact",
    "Report": "scope",
    "ReportScope": "scope",
    "ReportTable": "scope",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"ms_prcs.reports.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMATS",
    "ActivityReport",
    "CycleTimeReport",
    "ImpactReport",
    "Report",
    "ReportScope",
    "ReportTable",
    "activity_report",
    "cycle_time_report",
    "impact_report",
]
