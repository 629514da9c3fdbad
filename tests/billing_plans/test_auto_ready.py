"""Auto-ready (DESIGN 5, the seed): milestones created from a plan template start Ready when every condition
is Date, SQL or User Initiated, Pending when any is a Milestone condition; each decision is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from contracts import milestones
from contracts.audit import ObjectType
from contracts.keys import MilestoneKey, get_milestone
from contracts.models import ConditionTemplate, Milestone
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, CreatedFrom, MilestoneStatus, PlanType
from tests.billing_plans.conftest import K1000, changes, create, run, template, who

SOURCE = "auto-ready (billing plan template BP1)"

CASES = [
    ("MS-DATE", MilestoneStatus.READY, f"{SOURCE}: every condition is Date, SQL or User Initiated"),
    (
        "MS-NODATE",
        MilestoneStatus.READY,
        f"{SOURCE}: every condition is Date, SQL or User Initiated;"
        " condition 1 is a Date condition without a date: not met until one is set",
    ),
    ("MS-SQL", MilestoneStatus.READY, f"{SOURCE}: every condition is Date, SQL or User Initiated"),
    (
        "MS-USER",
        MilestoneStatus.READY,
        f"{SOURCE}: every condition is Date, SQL or User Initiated; condition 1 is User Initiated: waits for Mark Complete",
    ),
    (
        "MS-MIX",
        MilestoneStatus.READY,
        f"{SOURCE}: every condition is Date, SQL or User Initiated; condition 3 is User Initiated: waits for Mark Complete",
    ),
    (
        "MS-LINK",
        MilestoneStatus.PENDING,
        f"{SOURCE}: stays Pending, condition 1 is a Milestone condition; set it Ready once what it references is in place",
    ),
    (
        "MS-MIXLINK",
        MilestoneStatus.PENDING,
        f"{SOURCE}: stays Pending, condition 2 is a Milestone condition; set it Ready once what it references is in place",
    ),
    (
        "MS-EMPTY",
        MilestoneStatus.PENDING,
        f"{SOURCE}: stays Pending, edit checks failed: a milestone needs at least one condition",
    ),
    (
        "MS-BADSQL",
        MilestoneStatus.PENDING,
        f"{SOURCE}: stays Pending, edit checks failed: condition 1 (SQL): table app_user is not on the allow-list",
    ),
]


@pytest.mark.parametrize(("milestone_id", "status", "reason"), CASES, ids=[c[0] for c in CASES])
def test_auto_ready_by_condition_mix(
    world: Session, milestone_id: str, status: MilestoneStatus, reason: str
) -> None:
    needs_ref = milestone_id in ("MS-LINK", "MS-MIXLINK")
    events = (["MS-DATE=10%"] if needs_ref else []) + [f"{milestone_id}=50%"]
    template(world, "BP1", events)
    created = create(world, "BP1")

    decision = created.milestones[-1]
    assert decision.milestone == f"US001/K1000/{milestone_id}/1"
    assert decision.status == status
    if milestone_id == "MS-BADSQL":
        assert decision.reason.startswith(f"{SOURCE}: stays Pending, edit checks failed: condition 1 (SQL):")
        assert "app_user" in decision.reason
    else:
        assert decision.reason == reason

    world.expire_all()
    milestone = get_milestone(world, MilestoneKey(K1000, milestone_id, 1))
    assert milestone.status == status
    assert milestone.created_from == CreatedFrom.BILLING_PLAN
    assert [c.condition_type for c in milestone.conditions] == [
        t.condition_type
        for t in world.scalars(
            select(ConditionTemplate)
            .where(ConditionTemplate.milestone_id == milestone_id)
            .order_by(ConditionTemplate.condition_seq)
        )
    ]
    history = changes(world, ObjectType.MILESTONE, milestone.id)
    assert history[0][:2] == (None, MilestoneStatus.PENDING)
    assert history[-1] == (MilestoneStatus.PENDING, status, "admin", decision.reason)


def test_a_milestone_condition_references_the_contracts_milestone_created_before_it(world: Session) -> None:
    template(world, "BP1", ["MS-DATE=40%", "MS-LINK=60%"])
    create(world, "BP1")
    world.expire_all()
    link = get_milestone(world, MilestoneKey(K1000, "MS-LINK", 1))
    assert link.conditions[0].ref_milestone is not None
    assert link.conditions[0].ref_milestone.key == "US001/K1000/MS-DATE/1"


def test_milestone_nums_count_on_per_contract_and_id(world: Session) -> None:
    template(world, "BP1", ["MS-DATE=30%", "MS-DATE=70%"])
    template(world, "RP1", ["MS-DATE=100%"], PlanType.REVENUE)
    first = create(world, "BP1")
    second = create(world, "RP1", line=2)
    assert [d.milestone for d in first.milestones] == ["US001/K1000/MS-DATE/1", "US001/K1000/MS-DATE/2"]
    assert [d.milestone for d in second.milestones] == ["US001/K1000/MS-DATE/3"]
    world.expire_all()
    assert get_milestone(world, MilestoneKey(K1000, "MS-DATE", 3)).created_from == CreatedFrom.REVENUE_PLAN
    assert [e.milestone.key for e in first.plan.events if e.milestone] == [
        "US001/K1000/MS-DATE/1",
        "US001/K1000/MS-DATE/2",
    ]


def test_copied_conditions_are_edited_on_the_contract_without_touching_the_template(world: Session) -> None:
    template(world, "BP1", ["MS-NODATE=100%"])
    create(world, "BP1")
    key = MilestoneKey(K1000, "MS-NODATE", 1)
    milestones.set_pending(world, key, who())
    milestones.update_condition(
        world,
        key,
        1,
        ConditionSpec(ConditionType.DATE, condition_date=__import__("datetime").date(2026, 1, 20)),
        who(),
    )
    world.commit()
    world.expire_all()
    assert get_milestone(world, key).conditions[0].condition_date is not None
    assert world.get(ConditionTemplate, ("MS-NODATE", 1)).condition_date is None  # type: ignore[union-attr]


def test_a_dateless_date_condition_is_ready_but_reported_by_the_next_run(
    world: Session, engine: Engine
) -> None:
    template(world, "BP1", ["MS-NODATE=100%"])
    create(world, "BP1")
    result = run(engine)
    assert result.milestones_completed == 0
    assert any(
        m.object_key == "US001/K1000/MS-NODATE/1" and "has no date" in m.text for m in result.messages
    ), result.messages
    world.expire_all()
    status = world.scalar(select(Milestone.status).where(Milestone.milestone_id == "MS-NODATE"))
    assert status == MilestoneStatus.READY
