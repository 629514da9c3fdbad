"""Reports over the milestone data: Activity, Impact and Cycle Time by Milestone (DESIGN 11, issue 8).

pandas and matplotlib stay here, at the edge: the engine and the domain packages never import them (a ruff
banned-api rule keeps it so). Each report is one module whose function takes a session and a
:class:`~ms_prcs.reports.scope.ReportScope` and returns a frozen result of DataFrames and totals; its SQL lives
in the top-level ``sql/`` package (:mod:`ms_prcs.reports.queries`); :mod:`ms_prcs.reports.render` prints any
result as a table, CSV, JSON or one self-contained HTML file with a chart.
"""

from __future__ import annotations

from ms_prcs.reports.activity import ActivityReport, activity_report
from ms_prcs.reports.cycle_time import CycleTimeReport, cycle_time_report
from ms_prcs.reports.impact import ImpactReport, impact_report
from ms_prcs.reports.render import FORMATS, render
from ms_prcs.reports.scope import Report, ReportScope, ReportTable

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
    "render",
]
