"""The one converter and table layout shared by the reports and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pandas as pd

from contracts.status import MilestoneStatus
from ms_prcs.reports.plain import jsonable, text_table


def test_jsonable_turns_every_value_the_project_prints_into_plain_json() -> None:
    value = {
        "status": MilestoneStatus.READY,
        "at": dt.datetime(2026, 11, 23, 22, 0),
        "on": dt.date(2026, 11, 23),
        "amount": Decimal("1500.10"),
        "pairs": (np.int64(3), np.float64(1.5)),
        "missing": [None, float("nan"), pd.NaT],
        "stamp": pd.Timestamp("2026-11-23 08:30:00"),
    }
    assert json.loads(json.dumps(jsonable(value))) == {
        "status": "Ready",
        "at": "2026-11-23T22:00:00",
        "on": "2026-11-23",
        "amount": "1500.10",
        "pairs": [3, 1.5],
        "missing": [None, None, None],
        "stamp": "2026-11-23T08:30:00",
    }
    assert jsonable(pd.Timestamp("2026-11-23 08:30:00"), datetime_sep=" ") == "2026-11-23 08:30:00"


def test_text_table_pads_to_the_widest_cell_and_aligns_numbers_right() -> None:
    assert text_table(["a", "count"], []) == "(none)"
    assert text_table(["name", "n"], [["x", "7"], ["longer", "12"]], [False, True]).split("\n") == [
        "name     n",
        "------  --",
        "x        7",
        "longer  12",
    ]
