"""``ms-prcs load``: the example file, and a bad file refused whole with exit 2 and the entry's path."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from tests.conftest import CliInvoke
from tests.contracts.helpers import dump

EXAMPLE = str(Path(__file__).parents[2] / "examples" / "contracts.yaml")


def test_load_the_example(cli: CliInvoke) -> None:
    result = cli("load", EXAMPLE)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"loaded {EXAMPLE}"
    assert lines[1].split() == ["loaded", "count"]
    assert "milestones set Ready  3" in result.stdout
    listed = json.loads(cli("milestone", "list", "--json").stdout)
    assert [(m["milestone"], m["status"]) for m in listed] == [
        ("EU001/K2000/ROLLOUT/1", "Pending"),
        ("US001/K1000/ACCEPT/1", "Pending"),
        ("US001/K1000/BUILD/1", "Ready"),
        ("US001/K1000/GOLIVE/1", "Ready"),
        ("US001/K1000/KICKOFF/1", "Ready"),
    ]
    again = cli("load", EXAMPLE)
    assert (again.exit_code, again.stderr) == (
        2,
        f"Error: {EXAMPLE}: business_units[0]: business unit US001 already exists\n",
    )


def test_a_bad_file_is_refused_whole(cli: CliInvoke, engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "business_units:\n"
        "  - business_unit: US001\n"
        "contracts:\n"
        "  - contract: US001/K1000\n"
        "    milestones:\n"
        "      - milestone_id: MS001\n"
        "        conditions:\n"
        "          - {type: user}\n"
        "          - {type: date, date: 2026-01-31}\n"
        "          - {type: date, date: soon}\n"
    )
    before = dump(engine)
    result = cli("load", str(bad))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {bad}: contracts[0].milestones[0].conditions[2].date:"
        " expected a date of the form YYYY-MM-DD, got str 'soon'\n"
    )
    assert result.stdout == ""
    assert dump(engine) == before


def test_load_json_output(cli: CliInvoke, tmp_path: Path) -> None:
    path = tmp_path / "bu.json"
    path.write_text(json.dumps({"business_units": [{"business_unit": "US001"}, {"business_unit": "EU001"}]}))
    result = cli("load", str(path), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "files": [str(path)],
        "counts": {"business units": 2},
        "warnings": [],
    }


def test_load_needs_a_file(cli: CliInvoke) -> None:
    result = cli("load")
    assert result.exit_code == 2
    assert "Missing argument 'FILES...'" in result.stderr
