"""``ms-prcs report ...`` end to end: what a user sees in each format, files written, and refusals."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.conftest import CliInvoke

AS_OF = ("--as-of", "2025-03-10")

ACTIVITY_TABLE = """\
Activity by Milestone
as of 2025-03-10; business units: all

Milestones by status
milestone_id  descr          pending  ready  completed  cancelled  total  past_due  past_due_estimated  past_due_ready_by  past_due_complete_by  longest_ready_days
------------  -------------  -------  -----  ---------  ---------  -----  --------  ------------------  -----------------  --------------------  ------------------
MS001         Design review        1      1          1          0      3         1                   1                  0                     0                9.50
MS002         Delivery             0      1          0          1      2         1                   1                  0                     0                9.00

Bottlenecks (Ready longest)
milestone         descr               ready_since          days_ready  est_completion_date  past_due
----------------  ------------------  -------------------  ----------  -------------------  --------
CA001/K3/MS001/1  Design review       2025-03-01 12:00:00        9.50  2025-03-09           yes
US001/K1/MS002/1  Hardware delivered  2025-03-02 00:00:00        9.00  2025-03-05           yes

Totals: pending 1, ready 2, completed 1, cancelled 1, total 5, past_due 2, past_due_estimated 2, past_due_ready_by 0, past_due_complete_by 0
"""


def test_activity_table(cli: CliInvoke, report_db: Session) -> None:
    result = cli("report", "activity", *AS_OF)

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ACTIVITY_TABLE


@pytest.mark.parametrize("by", [(), ("--by", "flow"), ("--by", "own-milestone")])
def test_impact_csv_is_the_main_table(cli: CliInvoke, report_db: Session, by: tuple[str, ...]) -> None:
    # The fixture has no steps: the flow view (the default) and the own-milestone view agree here.
    result = cli("report", "impact", *AS_OF, *by, "--format", "csv", "--bu", "us001")

    assert result.exit_code == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["milestone", "business_unit", "milestone_id", "status", "est_completion_date", "past_due", "currency",
         "billing_events", "billing_amount", "revenue_events", "revenue_amount"],
        ["US001/K1/MS002/1", "US001", "MS002", "Ready", "2025-03-05", "True", "USD", "1", "600.00", "1", "1000.00"],
        ["US001/K2/MS001/1", "US001", "MS001", "Pending", "2025-03-20", "False", "USD", "1", "250.50", "0", "0.00"],
        ["US001/K2/MS002/1", "US001", "MS002", "Cancelled", "2025-03-01", "False", "USD", "1", "1000.00", "0", "0.00"],
    ]  # fmt: skip


def test_cycle_time_json(cli: CliInvoke, report_db: Session) -> None:
    result = cli("report", "cycle-time", *AS_OF, "--format", "json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["report"] == "cycle-time"
    assert document["scope"] == {"as_of": "2025-03-10", "business_units": [], "from": None, "to": None}
    assert document["totals"] == {"milestones": 5}
    assert list(document["tables"]) == ["by_milestone", "overall"]
    assert document["tables"]["overall"] == [
        {
            "status": "Pending",
            "milestones": 5,
            "open": 1,
            "mean_days": 3.7,
            "median_days": 4.0,
            "p90_days": 7.0,
        },
        {
            "status": "Ready",
            "milestones": 4,
            "open": 2,
            "mean_days": 6.0,
            "median_days": 6.25,
            "p90_days": 9.35,
        },
    ]
    assert document["tables"]["by_milestone"][1] == {
        "milestone_id": "MS001",
        "status": "Ready",
        "milestones": 2,
        "open": 1,
        "mean_days": 6.5,
        "median_days": 6.5,
        "p90_days": 8.9,
    }


def test_json_keeps_money_exact_and_dates_iso(cli: CliInvoke, report_db: Session) -> None:
    """The global ``--json`` picks JSON too; amounts are strings (exact decimals), missing values null."""
    result = cli("--json", "report", "impact", *AS_OF, "--bu", "CA001")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["tables"]["by_business_unit"] == [
        {"business_unit": "CA001", "currency": "CAD", "milestones": 1, "billing_events": 1,
         "billing_amount": "500.00", "revenue_events": 0, "revenue_amount": "0.00"},
    ]  # fmt: skip
    assert document["tables"]["by_milestone"][0]["est_completion_date"] == "2025-03-09"

    activity = json.loads(cli("--json", "report", "activity", *AS_OF, "--bu", "US001").stdout)
    assert activity["tables"]["by_milestone"][0]["longest_ready_days"] is None


@pytest.mark.parametrize("report", ["activity", "impact", "cycle-time"])
def test_html_is_one_file_with_tables_and_a_chart(
    cli: CliInvoke, report_db: Session, tmp_path: Path, report: str
) -> None:
    out = tmp_path / f"{report}.html"

    result = cli("report", report, *AS_OF, "--format", "html", "--output", str(out))

    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith(f"(html) written to {out}\n")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<table") >= 2
    assert "<td>MS001</td>" in page
    marker = '<img src="data:image/png;base64,'
    assert page.count(marker) == 1
    png = base64.b64decode(page.split(marker, 1)[1].split('"', 1)[0])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "http://" not in page and "https://" not in page  # nothing to fetch: readable with no server


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_output_file_for_every_format(cli: CliInvoke, report_db: Session, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"activity.{fmt}"

    result = cli("report", "activity", *AS_OF, "--format", fmt, "-o", str(out))

    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Activity by Milestone ({fmt}) written to {out}\n"
    assert out.read_text(encoding="utf-8") == cli("report", "activity", *AS_OF, "--format", fmt).stdout


def test_window_and_top(cli: CliInvoke, report_db: Session) -> None:
    result = cli("report", "activity", *AS_OF, "--from", "2025-03-01", "--to", "2025-03-01", "--top", "1")

    assert result.exit_code == 0, result.stderr
    assert "milestones with a status change from 2025-03-01 to 2025-03-01" in result.stdout
    assert "CA001/K3/MS001/1" in result.stdout
    assert "US001/K1/MS002/1  " not in result.stdout  # second in line, cut by --top 1


def test_empty_database_prints_none(cli: CliInvoke) -> None:
    result = cli("report", "impact", *AS_OF)

    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Impact by Milestone\nas of 2025-03-10; business units: all\n\n"
        "Amounts waiting on each milestone\n(none)\n\n"
        "Totals per business unit and currency\n(none)\n\n"
        "Totals: milestones 0, billing_events 0, revenue_events 0\n"
    )
    assert cli("report", "cycle-time", *AS_OF, "--format", "html").exit_code == 0


def test_unknown_business_unit_is_refused(cli: CliInvoke, report_db: Session) -> None:
    result = cli("report", "activity", "--bu", "US001", "--bu", "XX001")

    assert result.exit_code == 1
    assert result.stderr == "Error: business unit XX001 does not exist\n"


def test_empty_window_is_bad_input(cli: CliInvoke) -> None:
    result = cli("report", "cycle-time", "--from", "2025-03-10", "--to", "2025-03-01")

    assert result.exit_code == 2
    assert result.stderr == "Error: the report window is empty: --from 2025-03-10 is after --to 2025-03-01\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--as-of", "10/03/2025"), "--as-of '10/03/2025' is not a date of the form YYYY-MM-DD"),
        (("--format", "pdf"), "'pdf' is not one of 'table', 'csv', 'json', 'html'"),
        (("--top", "0"), "--top: must be from 1 to 2147483647, got 0"),
    ],
)
def test_usage_errors(cli: CliInvoke, args: tuple[str, ...], message: str) -> None:
    result = cli("report", "activity", *args)

    assert result.exit_code == 2
    assert message in result.stderr


def test_every_report_command_has_help(cli: CliInvoke) -> None:
    result = cli("report", "--help")

    assert result.exit_code == 0
    for command in ("activity", "impact", "cycle-time"):
        assert command in result.stdout
        help_text = cli("report", command, "--help").stdout
        for option in ("--bu", "--from", "--to", "--as-of", "--format", "--output"):
            assert option in help_text
