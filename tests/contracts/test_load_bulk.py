"""The set-based contracts section (``ms_prcs.load.bulk_contracts``) writes what the services wrote an entry
at a time, and refuses what they refused with the same message at the same path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, aliased

from conditions.sql_rules import SqlRules
from contracts.errors import MsPrcsError
from contracts.models import (
    Contract,
    ContractAttribute,
    ContractLine,
    Milestone,
    MilestoneCondition,
    StatusChange,
)
from ms_prcs.db import session_factory
from ms_prcs.load import bulk_contracts, load_files
from tests.contracts.helpers import dump, who

DOCUMENT: dict[str, Any] = {
    "business_units": [{"business_unit": "US001"}, {"business_unit": "EU001", "currency": "EUR"}],
    "roles": [{"role": "PM"}, {"role": "FIN"}],
    "users": [{"user": "alice", "roles": ["PM"]}],
    "classifications": [
        {"classification": "SECRET", "roles": ["PM"]},
        {"classification": "FINO", "roles": ["FIN"]},
    ],
    "project_activities": [{"project": "P1", "activity": "A1"}],
    "contracts": [
        {
            "contract": "US001/K1",
            "descr": "First",
            "customer": "ACME",
            "attributes": {"region": "EMEA", "tier": 2},
            "lines": [{"line": 2, "amount": "10.00", "product": "X"}, {"line": 1, "amount": "-5"}],
            "milestones": [
                {
                    "milestone_id": "ms1",
                    "descr": "Kick-off",
                    "est_date": "2026-03-01",
                    "required": "one",
                    "classification": "SECRET",
                    "status": "ready",
                    "conditions": [
                        {"type": "date", "date": "2026-01-31", "descr": "d"},
                        {"type": "milestone", "ref": "EU001/K2/MS2/1", "days_lag": 3},
                        {"type": "milestone", "ref": "MS1/2"},
                    ],
                },
                {"milestone_id": "MS1", "num": 2, "conditions": [{"type": "user"}]},
                {
                    "milestone_id": "MS3",
                    "conditions": [{"type": "milestone", "project": "P1", "activity": "A1"}],
                },
            ],
        },
        {
            "contract": "EU001/K2",
            "currency": "usd",
            "status": "active",
            "milestones": [
                {"milestone_id": "MS2", "conditions": [{"type": "sql", "sql": "SELECT 1"}]},
                {"milestone_id": "MS4"},
            ],
        },
        {"contract": "US001/K3"},
    ],
}


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """The loaded rows by their keys (ids differ between attempts on PostgreSQL), in id order."""
    ref = aliased(Milestone)
    ref_contract = aliased(Contract)
    return {
        "contracts": [
            tuple(r)
            for r in session.execute(
                select(
                    Contract.business_unit, Contract.contract_num, Contract.descr, Contract.customer,
                    Contract.currency, Contract.status, Contract.activated_on,
                ).order_by(Contract.id)
            )
        ],
        "attributes": [
            tuple(r)
            for r in session.execute(
                select(Contract.contract_num, ContractAttribute.name, ContractAttribute.value)
                .join(Contract, Contract.id == ContractAttribute.contract_pk)
                .order_by(Contract.id, ContractAttribute.name)
            )
        ],
        "lines": [
            tuple(r)
            for r in session.execute(
                select(Contract.contract_num, ContractLine.line_num, ContractLine.product, ContractLine.amount)
                .join(Contract, Contract.id == ContractLine.contract_pk)
                .order_by(ContractLine.id)
            )
        ],
        "milestones": [
            tuple(r)
            for r in session.execute(
                select(
                    Contract.contract_num, Milestone.milestone_id, Milestone.milestone_num, Milestone.descr,
                    Milestone.status, Milestone.required_conditions, Milestone.est_completion_date,
                    Milestone.classification, Milestone.created_from,
                )
                .join(Contract, Contract.id == Milestone.contract_pk)
                .order_by(Milestone.id)
            )
        ],
        "conditions": [
            tuple(r)
            for r in session.execute(
                select(
                    Milestone.milestone_id, Milestone.milestone_num, MilestoneCondition.condition_seq,
                    MilestoneCondition.condition_type, MilestoneCondition.descr,
                    MilestoneCondition.condition_date, MilestoneCondition.sql_text, MilestoneCondition.source,
                    MilestoneCondition.days_lag, MilestoneCondition.project_id, MilestoneCondition.activity_id,
                    MilestoneCondition.condition_status, ref_contract.contract_num, ref.milestone_id,
                    ref.milestone_num,
                )
                .join(Milestone, Milestone.id == MilestoneCondition.milestone_pk)
                .outerjoin(ref, ref.id == MilestoneCondition.ref_milestone_pk)
                .outerjoin(ref_contract, ref_contract.id == ref.contract_pk)
                .order_by(MilestoneCondition.id)
            )
        ],
        "history": [
            tuple(r)
            for r in session.execute(
                select(
                    StatusChange.object_type, StatusChange.old_status, StatusChange.new_status,
                    StatusChange.changed_by, StatusChange.reason,
                ).order_by(StatusChange.id)
            )
        ],
    }  # fmt: skip


def attempt(
    engine: Engine, path: Path, bulk: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[str | None, dict[str, Any] | None]:
    """Load ``path`` by the bulk path or the services, then roll back: the error, or the snapshot and counts."""
    with monkeypatch.context() as patch:
        if not bulk:
            patch.setattr(bulk_contracts, "applies", lambda section: False)
        with session_factory(engine)() as session, session.begin():
            try:
                summary = load_files(session, [path], who("alice"), SqlRules())
            except MsPrcsError as exc:
                session.rollback()
                return str(exc), None
            result = {"counts": summary.counts, "warnings": summary.warnings, **snapshot(session)}
            session.rollback()
            return None, result


def test_the_bulk_path_writes_what_the_services_wrote(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "load.json"
    path.write_text(json.dumps(DOCUMENT))
    before = dump(engine)
    bulk = attempt(engine, path, True, monkeypatch)
    services = attempt(engine, path, False, monkeypatch)
    assert bulk[0] is None, bulk[0]
    assert bulk == services
    assert bulk[1] is not None and len(bulk[1]["conditions"]) == 6
    assert dump(engine) == before


def _set(where: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = where.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if isinstance(target, list):
            target.append(value) if last == "+" else target.__setitem__(int(last), value)
        else:
            target[last] = value

    return mutate


BAD: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown business unit", _set("contracts.2.contract", "XX001/K3"), "contracts[2]: "),
    ("contract twice in the file", _set("contracts.2.contract", "US001/K1"), "contracts[2]: "),
    ("line twice", _set("contracts.0.lines.1.line", 2), "contracts[0].lines[1]: "),
    (
        "unknown classification",
        _set("contracts.1.milestones.1.classification", "NOPE"),
        "contracts[1].milestones[1]",
    ),
    ("wrong number", _set("contracts.1.milestones.1.num", 2), "contracts[1].milestones[1].num: "),
    (
        "ref to no milestone",
        _set("contracts.0.milestones.0.conditions.1.ref", "EU001/K2/MS2/7"),
        ".conditions[1].ref",
    ),
    (
        "ref to no contract",
        _set("contracts.0.milestones.0.conditions.1.ref", "EU001/K9/MS2/1"),
        ".conditions[1].ref",
    ),
    ("bad ref", _set("contracts.0.milestones.0.conditions.1.ref", "MS2"), ".conditions[1].ref"),
    ("stray field", _set("contracts.1.milestones.0.conditions.0.date", "2026-01-01"), "conditions[0]: "),
    ("unknown activity", _set("contracts.0.milestones.2.conditions.0.activity", "A9"), "conditions[0]: "),
    (
        "not the user's classification",
        _set("contracts.0.milestones.1.classification", "FINO"),
        "conditions[0]: ",
    ),
    ("contract already there", _set("contracts.+", {"contract": "US001/K0"}), "contracts[3]: "),
]


@pytest.mark.parametrize(("mutation", "where"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_the_bulk_path_refuses_what_the_services_refused(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mutation: Callable[[dict[str, Any]], None],
    where: str,
) -> None:
    first = tmp_path / "first.json"
    first.write_text(
        json.dumps({"business_units": [{"business_unit": "US001"}], "contracts": [{"contract": "US001/K0"}]})
    )
    error, _ = attempt(engine, first, True, monkeypatch)
    assert error is None
    with session_factory(engine)() as session, session.begin():
        load_files(session, [first], who("alice"), SqlRules())
    document = copy.deepcopy(DOCUMENT)
    document["business_units"] = document["business_units"][1:]
    mutation(document)
    path = tmp_path / "load.json"
    path.write_text(json.dumps(document))
    before = dump(engine)
    bulk = attempt(engine, path, True, monkeypatch)
    services = attempt(engine, path, False, monkeypatch)
    assert bulk[0] is not None and where in bulk[0], bulk[0]
    assert bulk == services
    assert dump(engine) == before
