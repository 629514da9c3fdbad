"""The published JSON Schemas (``ms-prcs load --schema``, ``ms-prcs schedule --schema``) validate the files
the models accept, and the job file's model fixes what the hand-written checker let through."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from contracts.errors import LoadError
from jobs.config import load_jobs
from ms_prcs.cli import main
from ms_prcs.load.reading import read_document, read_yaml

EXAMPLES = Path(__file__).parents[2] / "examples"


def printed_schema(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, [*args, "--schema"])
    assert result.exit_code == 0, result.output
    schema: dict[str, object] = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_the_printed_load_schema_validates_the_examples(example: Path) -> None:
    schema = printed_schema("load")
    jsonschema.validate(read_document(example), schema)


def test_the_printed_load_schema_refuses_what_the_models_refuse() -> None:
    schema = printed_schema("load")
    for bad in (
        {"contracts": [{"contract": "US001/K1", "custmer": "ACME"}]},
        {"business_units": [{"business_unit": "TOOLONG"}]},
        {"contracts": [{"contract": "US001/K1", "lines": [{"line": 0, "amount": 1}]}]},
        {"plans_v0": []},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


JOBS = """\
tz: Europe/Berlin
jobs:
  - name: nightly-us
    at: "02:30"
    business_units: [US001]
    post: ["billing-cli run --bu US001"]
  - name: often
    every_minutes: 30
    contract: US001/K1000
    force: true
"""


def test_the_printed_job_schema_validates_a_job_file(tmp_path: Path) -> None:
    jsonschema.validate(read_yaml(JOBS), printed_schema("schedule"))
    path = tmp_path / "jobs.yaml"
    path.write_text(JOBS)
    specs = load_jobs(path)
    assert [(s.name, s.tz.key, s.force, s.contract) for s in specs] == [
        ("nightly-us", "Europe/Berlin", False, None),
        ("often", "Europe/Berlin", True, "US001/K1000"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            JOBS.replace("force: true", 'force: "false"'),
            "jobs[1].force: expected true or false, got str 'false'",
        ),
        (
            JOBS.replace("    force: true\n", "    force: true\n    force: false\n"),
            "key 'force' is given twice",
        ),
        (
            JOBS.replace("contract: US001/K1000", "contract: [US001, K1000]"),
            "jobs[1].contract: expected text, got a list",
        ),
        (
            JOBS.replace("contract: US001/K1000", "contract: K1000"),
            "jobs[1].contract: contract key 'K1000' is not of the form BU/CONTRACT",
        ),
        (
            JOBS.replace("every_minutes: 30", "every_minutes: 0"),
            "jobs[1].every_minutes: must be 1 or more, got 0",
        ),
        (
            JOBS.replace("name: often", "name: nightly-us"),
            "jobs: job names must be unique, repeated: nightly-us",
        ),
        (JOBS.replace('at: "02:30"', 'at: "25:99"'), "jobs[0].at: '25:99' is not a time of the form HH:MM"),
        (
            JOBS.replace("tz: Europe/Berlin", "tz: Mars/Olympus"),
            "tz: 'Mars/Olympus' is not a known time zone",
        ),
        (
            JOBS.replace("    every_minutes: 30\n", ""),
            "jobs[1]: give exactly one of 'at' (HH:MM) and 'every_minutes'",
        ),
        (JOBS + "    retries: 3\n", "jobs[1].retries: unknown key (known: name, at, every_minutes, tz,"),
    ],
)
def test_a_bad_job_file_is_refused_at_its_path(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "jobs.yaml"
    path.write_text(text)
    with pytest.raises(LoadError) as error:
        load_jobs(path)
    assert message in str(error.value)
    assert str(error.value).startswith(str(path))
