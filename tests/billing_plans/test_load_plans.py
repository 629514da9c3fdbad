"""The ``plan_templates`` and ``plans`` sections of load files, through ``ms-prcs load``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.models import Milestone, Plan, PlanEvent, PlanTemplate
from contracts.status import MilestoneStatus, PlanStatus
from tests.conftest import CliInvoke

DOCUMENT: dict[str, Any] = {
    "business_units": [{"business_unit": "US001"}],
    "milestone_templates": [
        {"milestone_id": "MS-DSN", "conditions": [{"type": "user", "descr": "Design signed"}]},
        {"milestone_id": "MS-ACC", "conditions": [{"type": "milestone", "ref": "MS-DSN", "days_lag": 30}]},
    ],
    "plan_templates": [
        {
            "template_id": "BP-STD",
            "type": "billing",
            "ready_on_activation": True,
            "events": [
                {"milestone": "MS-DSN", "percentage": 40},
                {"milestone": "MS-ACC", "percentage": 60},
            ],
        },
        {
            "template_id": "RP-DATE",
            "type": "revenue",
            "events": [{"date": "2026-03-31", "amount": "2500.00"}],
        },
    ],
    "plans": [
        {"contract": "US001/K1000", "line": 1, "template": "BP-STD"},
        {"contract": "US001/K1000", "line": 2, "template": "RP-DATE", "status": "ready"},
        {
            "contract": "US001/K1000",
            "line": 2,
            "plan_id": "BP-HAND",
            "type": "billing",
            "status": "ready",
            "events": [
                {"milestone": "MS-DSN/1", "amount": 100, "status": "ready"},
                {"date": "2026-05-01", "percentage": 50},
            ],
        },
    ],
    "contracts": [
        {
            "contract": "US001/K1000",
            "status": "active",
            "lines": [{"line": 1, "amount": "10000.00"}, {"line": 2, "amount": "2500.00"}],
        }
    ],
}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "plans.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_plans_load_after_contracts_and_are_readied_at_the_end(
    session: Session, cli: CliInvoke, tmp_path: Path
) -> None:
    result = cli("--json", "load", str(write(tmp_path, DOCUMENT)))
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(PlanTemplate)) == 2
    plans = {p.plan_id: p for p in session.scalars(select(Plan))}
    assert {k: p.status for k, p in plans.items()} == {
        "BP-STD": PlanStatus.READY,  # Ready on contract activation, once the contract became Active
        "RP-DATE": PlanStatus.READY,
        "BP-HAND": PlanStatus.READY,
    }
    assert [e.status for e in plans["BP-STD"].events] == ["Ready", "Ready"]
    assert [e.status for e in plans["RP-DATE"].events] == ["Ready"]
    assert [e.status for e in plans["BP-HAND"].events] == ["Ready", "Pending"]
    statuses = dict(session.execute(select(Milestone.milestone_id, Milestone.status)).tuples().all())
    assert statuses == {"MS-DSN": MilestoneStatus.READY, "MS-ACC": MilestoneStatus.PENDING}
    hand = session.scalars(
        select(PlanEvent).where(PlanEvent.plan_pk == plans["BP-HAND"].id).order_by(PlanEvent.event_num)
    ).first()
    assert hand is not None and hand.milestone is not None and hand.milestone.key == "US001/K1000/MS-DSN/1"


def test_a_bad_plan_entry_refuses_the_whole_file(session: Session, cli: CliInvoke, tmp_path: Path) -> None:
    document = json.loads(json.dumps(DOCUMENT))
    document["plans"][2]["events"][0]["milestone"] = "MS-DSN/7"
    result = cli("load", str(write(tmp_path, document)))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {tmp_path / 'plans.yaml'}: plans[2].events[0]: milestone US001/K1000/MS-DSN/7 does not exist\n"
    )
    assert session.scalar(select(func.count()).select_from(PlanTemplate)) == 0

    document = json.loads(json.dumps(DOCUMENT))
    document["plans"][0]["type"] = "billing"
    result = cli("load", str(write(tmp_path, document)))
    assert result.stderr.endswith(
        "plans[0].type: a plan made from a template takes its type and events from it\n"
    )

    document = json.loads(json.dumps(DOCUMENT))
    document["plan_templates"][0]["events"][1]["percentage"] = 70
    result = cli("load", str(write(tmp_path, document)))
    assert result.stderr.endswith(
        "plan_templates[0]: billing plan template BP-STD: events total 110 %, more than 100 %\n"
    )
    assert session.scalar(select(func.count()).select_from(Plan)) == 0
