"""Billing and revenue plan templates: services and ``template billing|revenue add|list|show``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from billing_plans.templates import (
    TemplateEventSpec,
    add_plan_template,
    get_plan_template,
    list_plan_templates,
)
from contracts.errors import AlreadyExists, InvalidInput, NotFound, RuleViolation
from contracts.status import EventType, PlanType
from tests.billing_plans.conftest import template
from tests.conftest import CliInvoke


def test_event_spec_parses_milestone_and_date_events() -> None:
    assert TemplateEventSpec.parse("ms-date=40%") == TemplateEventSpec(
        EventType.MILESTONE, milestone_id="MS-DATE", percentage=Decimal("40")
    )
    assert TemplateEventSpec.parse("2026-12-31=1500.00") == TemplateEventSpec(
        EventType.DATE, event_date=dt.date(2026, 12, 31), amount=Decimal("1500.00")
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "MS-DATE",
            "event 'MS-DATE' is not of the form MILESTONE_ID=SHARE or YYYY-MM-DD=SHARE (SHARE: 40% or 1500.00)",
        ),
        (
            "MS-DATE=lots",
            "event 'MS-DATE=lots': 'lots' is neither a percentage (40%) nor an amount (1500.00)",
        ),
        ("2026-13-01=10%", "event '2026-13-01=10%' date '2026-13-01' is not a date of the form YYYY-MM-DD"),
    ],
)
def test_event_spec_refuses_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        TemplateEventSpec.parse(text)
    assert str(err.value) == message


def test_add_and_get(world: Session) -> None:
    template(world, "bp-std", ["MS-DATE=40%", "2026-03-31=6000.00"], ready_on_activation=True)
    row = get_plan_template(world, "BP-STD", PlanType.BILLING)
    assert row.ready_on_activation
    assert [
        (e.event_num, e.event_type, e.milestone_id, e.event_date, e.percentage, e.amount) for e in row.events
    ] == [
        (1, EventType.MILESTONE, "MS-DATE", None, Decimal("40"), None),
        (2, EventType.DATE, None, dt.date(2026, 3, 31), None, Decimal("6000.00")),
    ]
    with pytest.raises(NotFound, match="revenue plan template BP-STD does not exist"):
        get_plan_template(world, "BP-STD", PlanType.REVENUE)
    assert [t.template_id for t in list_plan_templates(world, PlanType.BILLING)] == ["BP-STD"]
    assert list_plan_templates(world, PlanType.REVENUE) == []


@pytest.mark.parametrize(
    ("events", "error", "message"),
    [
        ([], InvalidInput, "billing plan template T1: a template needs at least one event"),
        (["MS-NOPE=10%"], NotFound, "milestone template MS-NOPE does not exist"),
        (
            ["MS-DATE=0%"],
            InvalidInput,
            "billing plan template T1 event 1: a percentage must be more than 0 and at most 100, got 0",
        ),
        (
            ["MS-DATE=101%"],
            InvalidInput,
            "billing plan template T1 event 1: a percentage must be more than 0 and at most 100, got 101",
        ),
        (
            ["MS-DATE=-5"],
            InvalidInput,
            "billing plan template T1 event 1: an amount must be more than 0, got -5",
        ),
        (
            ["MS-DATE=60%", "MS-SQL=50%"],
            RuleViolation,
            "billing plan template T1: events total 110 %, more than 100 %",
        ),
    ],
)
def test_add_refuses_bad_templates_whole(
    world: Session, events: list[str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as err:
        template(world, "T1", events)
    assert str(err.value) == message
    world.rollback()
    assert list_plan_templates(world) == []


def test_template_ids_are_unique_across_types(world: Session) -> None:
    template(world, "T1", ["MS-DATE=100%"])
    with pytest.raises(AlreadyExists, match="plan template T1 already exists"):
        add_plan_template(world, "T1", PlanType.REVENUE, events=[TemplateEventSpec.parse("MS-DATE=100%")])


def test_cli_add_list_show(world: Session, cli: CliInvoke) -> None:
    result = cli(
        "template", "billing", "add", "BP-STD", "--descr", "Standard billing", "--ready-on-activation",
        "--event", "MS-USER=30%", "--event", "MS-DATE=50%", "--event", "2026-06-30=2000.00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "billing plan template BP-STD added with 3 events\n"
    result = cli("template", "revenue", "add", "RP-STD", "--event", "MS-DATE=100%")
    assert result.stdout == "revenue plan template RP-STD added with 1 event\n"

    listed = cli("template", "billing", "list")
    assert listed.stdout.splitlines()[2].split() == [
        "BP-STD",
        "Standard",
        "billing",
        "3",
        "80",
        "2000.00",
        "True",
    ]
    assert "RP-STD" not in listed.stdout

    shown = cli("--json", "template", "billing", "show", "BP-STD")
    data = json.loads(shown.stdout)
    assert data["ready_on_activation"] is True
    assert [(e["event_type"], e["milestone_id"], e["event_date"], e["share"]) for e in data["events"]] == [
        ("Milestone", "MS-USER", None, "30 %"),
        ("Milestone", "MS-DATE", None, "50 %"),
        ("Date", None, "2026-06-30", "2000.00"),
    ]
    table = cli("template", "billing", "show", "BP-STD").stdout
    assert "Events:" in table and "2026-06-30" in table


def test_cli_refusals_and_exit_codes(world: Session, cli: CliInvoke) -> None:
    result = cli("template", "billing", "add", "T1", "--event", "MS-DATE=60%", "--event", "MS-SQL=50%")
    assert result.exit_code == 1
    assert result.stderr == "Error: billing plan template T1: events total 110 %, more than 100 %\n"
    result = cli("template", "billing", "add", "T1", "--event", "MS-DATE")
    assert result.exit_code == 2
    result = cli("template", "revenue", "show", "NOPE")
    assert result.exit_code == 1
    assert result.stderr == "Error: revenue plan template NOPE does not exist\n"
