"""JSON Lines load files: one ``{"section": entry}`` a line, validated a line at a time before writing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from tests.conftest import CliInvoke
from tests.contracts.helpers import dump


def write(tmp_path: Path, *items: object) -> Path:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def contract(i: int, amount: object = "10.00") -> dict[str, object]:
    return {"contracts": {"contract": f"US001/K{i}", "lines": [{"line": 1, "amount": amount}]}}


def test_a_json_lines_file_loads_like_its_json(cli: CliInvoke, tmp_path: Path) -> None:
    path = write(tmp_path, contract(1), {"business_units": {"business_unit": "US001"}}, contract(2))
    result = cli("--json", "load", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {"business units": 1, "contracts": 2, "contract lines": 2}


def test_a_bad_last_line_is_refused_with_its_line_and_path(
    cli: CliInvoke, engine: Engine, tmp_path: Path
) -> None:
    items = [{"business_units": {"business_unit": "US001"}}, *(contract(i) for i in range(200))]
    path = write(tmp_path, *items, contract(200, "lots"))
    before = dump(engine)
    result = cli("load", str(path))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {path}: line 202: contracts[200].lines[0].amount: expected a number, got str 'lots'\n",
    )
    assert dump(engine) == before


def test_a_line_that_is_not_one_section_entry_is_refused(cli: CliInvoke, tmp_path: Path) -> None:
    path = write(tmp_path, {"business_units": {"business_unit": "US001"}, "roles": {"role": "PM"}})
    result = cli("load", str(path))
    assert result.exit_code == 2
    assert (
        result.stderr == f'Error: {path}: line 1: expected one {{"section": entry}} mapping, got a mapping\n'
    )
    unknown = write(tmp_path, {"plans_v0": {}})
    assert "line 1: plans_v0: unknown section (known: business_units" in cli("load", str(unknown)).stderr
