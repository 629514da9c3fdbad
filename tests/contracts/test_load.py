"""Load files: a good file loads through the real services; a bad one is refused whole, naming the entry."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from conditions.sql_rules import SqlRules
from contracts.audit import ObjectType
from contracts.errors import InvalidInput, LoadError
from contracts.keys import ContractKey, get_contract, get_milestone
from contracts.models import Contract, Milestone, MilestoneCondition, ProjectActivity
from contracts.status import ConditionType, ContractStatus, CreatedFrom, MilestoneStatus
from ms_prcs.load import SECTIONS, load_files
from tests.contracts.helpers import attempt, dump, history, mkey, who

EXAMPLE = Path(__file__).parents[2] / "examples" / "contracts.yaml"

BASE: dict[str, Any] = {
    "business_units": [{"business_unit": "US001"}],
    "roles": [{"role": "PM"}],
    "users": [{"user": "alice", "roles": ["PM"]}],
    "project_activities": [
        {"project": "P1", "activity": "A1", "history": [{"effdt": "2026-01-02", "status": "Open"}]}
    ],
    "milestone_templates": [
        {"milestone_id": "SIGN", "conditions": [{"type": "user", "descr": "Signed"}]},
    ],
    "contracts": [
        {
            "contract": "US001/K1000",
            "lines": [{"line": 1, "amount": "100.50"}],
            "milestones": [
                {
                    "milestone_id": "MS001",
                    "status": "Ready",
                    "conditions": [
                        {"type": "date", "date": "2026-01-31"},
                        {"type": "milestone", "ref": "US001/K2000/MS009/1"},
                    ],
                },
            ],
        },
        {
            "contract": "US001/K2000",
            "milestones": [
                {"milestone_id": "MS009", "conditions": [{"type": "user"}]},
            ],
        },
    ],
}


def write(tmp_path: Path, document: Any, name: str = "load.json") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(document))
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def load(engine: Engine, *paths: Path) -> Exception | None:
    return attempt(engine, lambda s: load_files(s, list(paths), who("alice"), SqlRules()))


def test_sections_are_in_dependency_order() -> None:
    assert [name for name, _ in SECTIONS][:9] == [
        "business_units",
        "roles",
        "users",
        "classifications",
        "project_activities",
        "milestone_templates",
        "approval_rule_templates",  # before contracts: milestones added from a template copy its rules
        "milestone_template_workflows",  # likewise: steps, gates, optional triggers
        "contracts",
    ]


def test_the_example_file_loads(engine: Engine, session: Session) -> None:
    summary: list[Any] = []
    assert attempt(engine, lambda s: summary.append(load_files(s, [EXAMPLE], who(), SqlRules()))) is None
    assert summary[0].counts == {
        "business units": 2,
        "roles": 2,
        "users": 2,
        "classifications": 1,
        "project activities": 2,
        "activity status rows": 3,
        "milestone templates": 2,
        "template conditions": 3,
        "contracts": 2,
        "contract lines": 3,
        "milestones": 5,
        "conditions": 9,
        "milestones set Ready": 3,
    }
    k1000 = get_contract(session, ContractKey("US001", "K1000"))
    assert (k1000.status, k1000.customer, {a.name: a.value for a in k1000.attributes}) == (
        ContractStatus.ACTIVE,
        "ACME",
        {"region": "EMEA", "sales_rep": "jdoe"},
    )
    statuses = {m.key: m.status for m in session.scalars(select(Milestone).order_by(Milestone.id))}
    assert statuses == {
        "US001/K1000/KICKOFF/1": "Ready",
        "US001/K1000/BUILD/1": "Ready",
        "US001/K1000/GOLIVE/1": "Ready",
        "US001/K1000/ACCEPT/1": "Pending",
        "EU001/K2000/ROLLOUT/1": "Pending",
    }
    accept = get_milestone(session, mkey("US001/K1000/ACCEPT/1"))
    assert accept.classification == "ACCEPTANCE"
    assert accept.created_from == CreatedFrom.LOAD
    assert [
        (c.condition_type, c.ref_milestone.key if c.ref_milestone else None, c.days_lag)
        for c in accept.conditions
    ] == [
        (ConditionType.USER, None, 0),
        (ConditionType.MILESTONE, "US001/K1000/KICKOFF/1", 60),
    ]
    golive = get_milestone(session, mkey("US001/K1000/GOLIVE/1"))
    assert history(session, ObjectType.MILESTONE, golive.id) == [
        (None, "Pending", "admin", "added"),
        ("Pending", "Ready", "admin", "set Ready by user; edit checks passed"),
    ]


def test_yaml_and_json_load_alike(engine: Engine, session: Session, tmp_path: Path) -> None:
    # JSON has no dates: the YAML dates become strings and must load the same.
    as_json = tmp_path / "example.json"
    as_json.write_text(json.dumps(yaml.safe_load(EXAMPLE.read_text()), default=str))
    assert load(engine, as_json) is None
    assert session.scalar(select(func.count()).select_from(MilestoneCondition)) == 9


def test_a_reference_may_point_further_down_the_file(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    assert load(engine, write(tmp_path, BASE)) is None
    ms1 = get_milestone(session, mkey("US001/K1000/MS001/1"))
    assert ms1.status == MilestoneStatus.READY
    assert ms1.conditions[1].ref_milestone is not None
    assert ms1.conditions[1].ref_milestone.key == "US001/K2000/MS009/1"


def test_several_files_in_one_transaction(engine: Engine, session: Session, tmp_path: Path) -> None:
    first = write(tmp_path, {"business_units": [{"business_unit": "US001"}]}, "a.yaml")
    second = write(tmp_path, {"contracts": [{"contract": "US001/K1"}]}, "b.yaml")
    bad = write(tmp_path, {"contracts": [{"contract": "US001/K2", "customer": ["x"]}]}, "c.yaml")
    error = load(engine, first, second, bad)
    assert str(error) == f"{bad}: contracts[0].customer: expected text, got a list"
    assert session.scalar(select(func.count()).select_from(Contract)) == 0
    assert load(engine, first, second) is None
    assert session.scalar(select(func.count()).select_from(Contract)) == 1


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation of BASE: set the value at a dotted path with [i] indexes (``None`` deletes the key)."""

    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.replace("[", ".").replace("]", "").split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        elif value is None:
            del node[last]
        else:
            node[last] = value

    return mutate


BAD_ENTRIES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown section", _set("plans_v0", []), "plans_v0: unknown section (known: "),
    ("section not a list", _set("roles", {"role": "PM"}), "roles: expected a list of entries, got a mapping"),
    ("entry not a mapping", _set("roles[0]", "PM"), "roles[0]: expected a mapping, got str 'PM'"),
    (
        "unknown key",
        _set("contracts[0].custmer", "ACME"),
        "contracts[0].custmer: unknown key (known: contract, descr, customer, currency, status, attributes, lines, milestones)",
    ),
    ("missing key", _set("contracts[1].contract", None), "contracts[1].contract: is required"),
    (
        "bad contract key",
        _set("contracts[1].contract", "K2000"),
        "contracts[1].contract: contract key 'K2000' is not of the form BU/CONTRACT (e.g. US001/K1000)",
    ),
    (
        "unknown business unit",
        _set("contracts[1].contract", "XX001/K2000"),
        "contracts[1]: business unit XX001 does not exist",
    ),
    (
        "duplicate",
        lambda d: d["business_units"].append({"business_unit": "US001"}),
        "business_units[1]: business unit US001 already exists",
    ),
    ("unknown role", _set("users[0].roles", ["PM", "CFO"]), "users[0]: role CFO does not exist"),
    ("role not a name", _set("users[0].roles", ["PM", 7]), "users[0].roles[1]: expected a name, got int 7"),
    (
        "bad amount",
        _set("contracts[0].lines[0].amount", "lots"),
        "contracts[0].lines[0].amount: expected a number, got str 'lots'",
    ),
    (
        "missing amount",
        _set("contracts[0].lines[0].amount", None),
        "contracts[0].lines[0].amount: is required",
    ),
    (
        "line zero",
        _set("contracts[0].lines[0].line", 0),
        "contracts[0].lines[0].line: must be 1 or more, got 0",
    ),
    (
        "bad date",
        _set("contracts[0].milestones[0].conditions[0].date", "soon"),
        "contracts[0].milestones[0].conditions[0].date: expected a date of the form YYYY-MM-DD, got str 'soon'",
    ),
    (
        "bad history date",
        _set("project_activities[0].history[0].effdt", "2026-13-01"),
        "project_activities[0].history[0].effdt: expected a date of the form YYYY-MM-DD, got str '2026-13-01'",
    ),
    (
        "bad condition type",
        _set("contracts[0].milestones[0].conditions[0].type", "when"),
        "contracts[0].milestones[0].conditions[0].type: expected one of date, sql, user, user initiated, milestone, got str 'when'",
    ),
    (
        "field of another type",
        _set("contracts[0].milestones[0].conditions[0].sql", "SELECT 1"),
        "contracts[0].milestones[0].conditions[0]: milestone US001/K1000/MS001/1 condition 1: a Date condition has no sql_text",
    ),
    (
        "reference to nothing",
        _set("contracts[0].milestones[0].conditions[1].ref", "US001/K2000/MS009/2"),
        "contracts[0].milestones[0].conditions[1].ref: milestone US001/K2000/MS009/2 does not exist",
    ),
    (
        "malformed reference",
        _set("contracts[0].milestones[0].conditions[1].ref", "MS009"),
        "contracts[0].milestones[0].conditions[1].ref: milestone key 'MS009' is not of the form BU/CONTRACT/MILESTONE_ID/NUM (e.g. US001/K1000/MS001/1)",
    ),
    (
        "unknown template",
        _set("contracts[1].milestones[0].template", True),
        "contracts[1].milestones[0]: milestone template MS009 does not exist",
    ),
    (
        "wrong milestone number",
        _set("contracts[1].milestones[0].num", 2),
        "contracts[1].milestones[0].num: is 2, but this is milestone MS009 number 1 of contract US001/K2000 (numbers count from 1 in file order)",
    ),
    (
        "a status only the engine sets",
        _set("contracts[1].milestones[0].status", "Completed"),
        "contracts[1].milestones[0].status: expected one of pending, ready, got str 'Completed'",
    ),
    (
        "Ready that fails the edit checks",
        _set("contracts[0].milestones[0].conditions[0].date", None),
        "contracts[0].milestones[0].status: milestone US001/K1000/MS001/1: cannot be set Ready, edit checks failed:\n"
        "  - condition 1 (Date): a Date condition needs a date",
    ),
    (
        "bad template condition",
        _set("milestone_templates[0].conditions[0].days_lag", 2),
        "milestone_templates[0].conditions[0]: condition 1: a User Initiated condition has no days_lag",
    ),
    (
        "bad flag",
        _set("project_activities[0].active", "no"),
        "project_activities[0].active: expected true or false, got str 'no'",
    ),
    (
        "bad attribute value",
        _set("contracts[1].attributes", {"region": ["EU"]}),
        "contracts[1].attributes.region: expected a value, got a list",
    ),
]


@pytest.mark.parametrize(
    ("mutation", "message"), [(m, msg) for _, m, msg in BAD_ENTRIES], ids=[n for n, _, _ in BAD_ENTRIES]
)
def test_a_bad_entry_refuses_the_whole_file(
    engine: Engine, tmp_path: Path, mutation: Callable[[dict[str, Any]], None], message: str
) -> None:
    document = copy.deepcopy(BASE)
    mutation(document)
    path = write(tmp_path, document)
    before = dump(engine)
    error = load(engine, path)
    assert isinstance(error, LoadError)
    assert error.exit_code == 2
    assert str(error).startswith(f"{path}: {message}"), str(error)
    assert dump(engine) == before


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.txt", "contracts: []", "a load file must end in .yaml, .yml or .json"),
        ("a.yaml", "contracts: [", "not valid YAML: "),
        ("a.yaml", "roles:\n  - role: PM\n    role: FIN\n", "not valid YAML: key 'role' is given twice"),
        ("a.json", "{", "not valid JSON: "),
        ("a.yaml", "- 1\n- 2\n", "(top): expected a mapping of sections, got a list"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(
    engine: Engine, tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    error = load(engine, path)
    assert isinstance(error, InvalidInput)
    assert str(error).startswith(f"{path}: {message}"), str(error)


def test_a_missing_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    error = load(engine, tmp_path / "nope.yaml")
    assert str(error).startswith(f"{tmp_path / 'nope.yaml'}: cannot be read")


def test_an_empty_file_loads_nothing(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    before = dump(engine)
    assert load(engine, path) is None
    assert dump(engine) == before


def test_an_inactive_activity_is_loaded_with_a_warning(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    document = copy.deepcopy(BASE)
    document["project_activities"][0]["active"] = False
    document["contracts"][1]["milestones"].append(
        {
            "milestone_id": "MS010",
            "conditions": [
                {"type": "milestone", "project": "P1", "activity": "A1", "activity_status": "Done"}
            ],
        }
    )
    summaries: list[Any] = []
    # the activity is inactivated before contracts are loaded, so nothing references it yet
    assert (
        attempt(
            engine, lambda s: summaries.append(load_files(s, [write(tmp_path, document)], who(), SqlRules()))
        )
        is None
    )
    assert summaries[0].warnings == ()
    activity = session.scalar(select(ProjectActivity))
    assert activity is not None
    assert (activity.active, [(h.effdt, h.status) for h in activity.history]) == (
        False,
        [(dt.date(2026, 1, 2), "Open")],
    )


def test_a_closed_contract_goes_through_active(engine: Engine, session: Session, tmp_path: Path) -> None:
    document = copy.deepcopy(BASE)
    document["contracts"][1]["status"] = "closed"
    assert load(engine, write(tmp_path, document)) is None
    contract = get_contract(session, ContractKey("US001", "K2000"))
    assert contract.status == ContractStatus.CLOSED
    assert [h[:2] for h in history(session, ObjectType.CONTRACT, contract.id)] == [
        ("Pending", "Active"),
        ("Active", "Closed"),
    ]
