"""Bad input never crashes and never writes: every case is exit 2 naming the field, the value and the rule,
and the database dump is the same after it as before, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import CliInvoke
from tests.contracts.helpers import dump

MS1 = "US001/K1000/MS001/1"
BIG = "99999999999999999999"
LONG = "K" * 10_000


@pytest.fixture
def world(cli: CliInvoke) -> CliInvoke:
    for args in (
        ["bu", "add", "US001"],
        ["contract", "add", "US001/K1000"],
        ["contract", "line", "add", "US001/K1000", "1", "--amount", "1000.00"],
        ["milestone", "add", "US001/K1000", "MS001"],
    ):
        result = cli(*args)
        assert result.exit_code == 0, result.output
    return cli


CLI_CASES: list[tuple[str, list[str], str]] = [
    (
        "milestone number beyond Integer",
        ["milestone", "show", f"US001/K1000/MS001/{BIG}"],
        f"milestone key 'US001/K1000/MS001/{BIG}': the milestone number must be from 1 to 2147483647",
    ),
    (
        "process instance beyond Integer",
        ["runs", "show", BIG],
        f"PROCESS_INSTANCE: must be from 1 to 2147483647, got {BIG}",
    ),
    (
        "days lag beyond a century",
        ["condition", "add", MS1, "--type", "milestone", "--ref", MS1, "--days-lag", BIG],
        f"--days-lag: must be from -36500 to 36500, got {BIG}",
    ),
    ("sequence not a number", ["condition", "delete", MS1, "one"], "SEQ 'one' is not a valid integer"),
    ("empty business unit", ["bu", "add", ""], "business unit '': must not be empty"),
    (
        "10,000-character business unit",
        ["bu", "add", LONG],
        "business unit 'KKKKKKKKKKKKKKKKKKKK'... (10000 characters): at most 5 characters, got 10000",
    ),
    (
        "currency not ISO 4217",
        ["bu", "add", "US002", "--currency", "XYZ"],
        "currency: 'XYZ' is not an ISO 4217",
    ),
    (
        "10,000-character contract number",
        ["contract", "add", f"US001/{LONG}"],
        "the contract number is at most 25 characters, got 10000",
    ),
    (
        "10,000-character customer",
        ["contract", "add", "US001/K2", "--customer", LONG],
        "contract.customer 'KKKKKKKKKKKKKKKKKKKK'... (10000 characters): at most 30 characters",
    ),
    (
        "10,000-character role",
        ["role", "add", LONG],
        "role.role_name 'KKKKKKKKKKKKKKKKKKKK'... (10000 characters): at most 30 characters",
    ),
    (
        "amount beyond Numeric(15, 2)",
        ["contract", "line", "add", "US001/K1000", "2", "--amount", "1e20"],
        "line 2 amount: must be from -9999999999999.99 to 9999999999999.99",
    ),
    (
        "amount with a fraction of a cent",
        ["contract", "line", "add", "US001/K1000", "2", "--amount", "10.005"],
        "at most 2 decimal places, got 10.005",
    ),
    (
        "line number beyond Integer",
        ["contract", "line", "add", "US001/K1000", BIG, "--amount", "1"],
        f"LINE_NUM: must be from 1 to 2147483647, got {BIG}",
    ),
]


@pytest.mark.parametrize(("args", "message"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_bad_command_line_input_is_exit_2_and_writes_nothing(
    world: CliInvoke, engine: Engine, args: list[str], message: str
) -> None:
    before = dump(engine)
    result = world(*args)
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert dump(engine) == before


def test_a_database_url_that_is_no_database_is_bad_input(cli: CliInvoke, engine: Engine) -> None:
    before = dump(engine)
    result = cli("--db", "nonsense://x", "bu", "add", "US009")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --db 'nonsense://x': not a database ms-prcs supports (sqlite:///FILE or postgresql://USER@HOST/DB)\n"
    )
    garbage = cli("--db", "garbage", "runs", "list")
    assert (garbage.exit_code, garbage.stderr) == (
        2,
        "Error: --db 'garbage': not a database URL (e.g. sqlite:///ms_prcs.db, postgresql://...)\n",
    )
    assert dump(engine) == before


LOAD_CASES: list[tuple[str, str, str, str]] = [
    (
        "line number beyond Integer",
        "a.yaml",
        f"contracts:\n  - contract: US001/K2\n    lines: [{{line: {BIG}, amount: 1}}]\n",
        f"contracts[0].lines[0].line: must be from 1 to 2147483647, got {BIG}",
    ),
    (
        "impossible date, unquoted YAML",
        "a.yaml",
        "project_activities:\n  - {project: P, activity: A, history: [{effdt: 2026-02-30, status: Open}]}\n",
        "project_activities[0].history[0].effdt: expected a date of the form YYYY-MM-DD, got str '2026-02-30'",
    ),
    (
        "impossible date, JSON",
        "a.json",
        json.dumps(
            {
                "contracts": [
                    {"contract": "US001/K2", "milestones": [{"milestone_id": "M", "est_date": "2026-02-30"}]}
                ]
            }
        ),
        "contracts[0].milestones[0].est_date: expected a date of the form YYYY-MM-DD, got str '2026-02-30'",
    ),
    (
        "deeply nested YAML",
        "a.yaml",
        "roles: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "nested deeper than 32 levels",
    ),
    ("deeply nested JSON", "a.json", '{"roles": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    (
        "a JSON key given twice",
        "a.json",
        '{"roles": [{"role": "PM", "role": "FIN"}]}',
        "not valid JSON: key 'role' is given twice",
    ),
    (
        "10,000-character business unit",
        "a.json",
        json.dumps({"business_units": [{"business_unit": LONG}]}),
        "business_units[0].business_unit: at most 5 characters, got 10000",
    ),
    (
        "empty business unit",
        "a.json",
        json.dumps({"business_units": [{"business_unit": " "}]}),
        "business_units[0].business_unit: must not be empty",
    ),
    (
        "currency not ISO 4217",
        "a.yaml",
        "contracts:\n  - {contract: US001/K2, currency: EUX}\n",
        "contracts[0].currency: 'EUX' is not an ISO 4217 currency code (e.g. USD, EUR)",
    ),
    (
        "negative event amount",
        "a.yaml",
        "plans:\n  - {contract: US001/K1000, line: 1, plan_id: P, type: billing, events: [{date: 2026-01-01, amount: -5}]}\n",
        "plans[0].events[0].amount: must be more than 0, got -5",
    ),
    (
        "percentage over 100",
        "a.yaml",
        "plan_templates:\n  - {template_id: T, type: billing, events: [{date: 2026-01-01, percentage: 100.5}]}\n",
        "plan_templates[0].events[0].percentage: a percentage must be more than 0 and at most 100, got 100.5",
    ),
    (
        "credit line beyond Numeric(15, 2)",
        "a.yaml",
        "contracts:\n  - {contract: US001/K2, lines: [{line: 1, amount: -1e14}]}\n",
        "contracts[0].lines[0].amount: must be from -9999999999999.99 to 9999999999999.99",
    ),
    (
        "days lag beyond a century",
        "a.yaml",
        f"milestone_templates:\n  - {{milestone_id: M, conditions: [{{type: milestone, ref: X/1, days_lag: {BIG}}}]}}\n",
        f"milestone_templates[0].conditions[0].days_lag: must be from 0 to 36500, got {BIG}",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "message"), [c[1:] for c in LOAD_CASES], ids=[c[0] for c in LOAD_CASES]
)
def test_bad_load_files_are_exit_2_and_write_nothing(
    world: CliInvoke, engine: Engine, tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    before = dump(engine)
    result = world("load", str(path))
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.stderr.startswith(f"Error: {path}: ") and message in result.stderr, result.stderr[:500]
    assert dump(engine) == before


def test_a_credit_line_loads(world: CliInvoke, tmp_path: Path) -> None:
    """Negative amounts are allowed where credits are meant: contract lines."""
    path = tmp_path / "credit.yaml"
    path.write_text(
        "contracts:\n  - {contract: US001/K2, currency: eur, lines: [{line: 1, amount: -250.00}]}\n"
    )
    result = world("--json", "load", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {"contracts": 1, "contract lines": 1}
