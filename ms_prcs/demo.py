"""The demo database: realistic contracts built through the services, then the engine run over them.

A demo is a list of **builder steps** (:data:`STEPS`), each a function of the :class:`DemoWorld` under
construction, run in order in one transaction; a package with more to show (billing and revenue plans,
say) appends a step. Everything is relative to the as-of date and drawn from a seeded random generator,
so the same ``--contracts`` and ``--as-of`` build the same database and print the same summary.

The story, per contract (business units US001, US002 and EU001 in turn):

- ``KICKOFF`` (Date) <- ``PLAN`` (Milestone, no lag) <- ``DESIGN`` (ALL: PLAN and a User Initiated design
  sign-off) <- ``BUILD`` (Milestone on DESIGN with a Days Lag of 10) — a chain, and a lag;
- ``ACCEPT`` (ONE: the customer's acceptance, User Initiated, or deemed acceptance on a Date);
- ``GOLIVE`` (ALL: ACCEPT and a SQL condition over ``contract_attribute``: the go-live date has come);
- every third contract: ``REVIEW``, a Milestone condition on Project Costing activity ``PRJ-ALPHA/DESIGN``,
  which reached Complete, was reopened and is Complete again (the first time counts).

Two runs: one two weeks before the as-of date (history, so Days Lag has something to count from), then one
as of the as-of date.

The demo only ever writes SQLite files it made itself: a file is replaced only if it is missing, empty, or
carries the demo's SQLite ``application_id`` (set when the demo builds it). Anything else is refused.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from billing_plans.templates import TemplateEventSpec, add_plan_template
from conditions.ready import make_ready
from contracts import admin, milestones, projects, templates
from contracts.audit import Who
from contracts.errors import RuleViolation
from contracts.keys import ContractKey, MilestoneKey
from contracts.models import Contract, Milestone
from contracts.specs import ConditionSpec
from contracts.status import (
    ConditionType,
    ContractStatus,
    EventType,
    MilestoneSource,
    PlanType,
    RequiredConditions,
)
from ms_prcs.approvals import hooks
from ms_prcs.db import make_engine, upgrade
from ms_prcs.engine import RunControl, RunResult, process
from ms_prcs.explain import explain
from ms_prcs.settings import Settings

DEMO_APPLICATION_ID = 0x4D535044  # "MSPD": marks a SQLite file as made by the demo (PRAGMA application_id)
DEMO_USER = "demo"
UNITS = (
    ("US001", "US operations", "USD"),
    ("US002", "US public sector", "USD"),
    ("EU001", "EU operations", "EUR"),
)
CUSTOMERS = ("Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises", "Hooli")

GO_LIVE_SQL = (
    "SELECT 1 FROM contract_attribute a JOIN contract c ON c.id = a.contract_pk\n"
    "WHERE c.business_unit = :business_unit AND c.contract_num = :contract_num\n"
    "  AND a.name = 'go_live_on' AND CAST(a.value AS DATE) <= :as_of_date"
)


@dataclass
class DemoWorld:
    """What the steps share: the session, the dates, the generator, and what earlier steps made."""

    session: Session
    as_of: dt.date
    contracts: int
    rng: random.Random
    contract_keys: list[ContractKey] = field(default_factory=list)
    highlights: dict[str, MilestoneKey] = field(default_factory=dict)
    people: list[Any] = field(default_factory=list)
    """Who can sign in to the pages (:class:`ms_prcs.service.pages.story.Person`), added by its ``demo_step``."""

    def day(self, offset: int) -> dt.date:
        return self.as_of + dt.timedelta(days=offset)

    def who(self, offset: int = -30) -> Who:
        """The demo user, acting ``offset`` days from the as-of date (Mark Complete records that date)."""
        return Who(DEMO_USER, dt.datetime.combine(self.day(offset), dt.time(9, 0)))


DemoStep = Callable[[DemoWorld], None]


def reference_data(world: DemoWorld) -> None:
    for bu, descr, currency in UNITS:
        admin.add_business_unit(world.session, bu, descr, currency)


def project_activities(world: DemoWorld) -> None:
    """PRJ-ALPHA/DESIGN reached Complete 12 days ago, was reopened 5 days ago, and completed again today."""
    s = world.session
    projects.add_activity(s, "PRJ-ALPHA", "DESIGN", "Solution design")
    for status, offset in (("Active", -40), ("Complete", -12), ("Active", -5), ("Complete", 0)):
        projects.set_activity_status(s, "PRJ-ALPHA", "DESIGN", status, world.day(offset))
    projects.add_activity(s, "PRJ-ALPHA", "BUILD", "Build")
    projects.set_activity_status(s, "PRJ-ALPHA", "BUILD", "Active", world.day(-10))


def milestone_templates(world: DemoWorld) -> None:
    s = world.session
    date = ConditionSpec(ConditionType.DATE, descr="Scheduled date")
    on = {
        mid: ConditionSpec(
            ConditionType.MILESTONE, source=MilestoneSource.CONTRACTS, ref_milestone_id=mid, days_lag=lag
        )
        for mid, lag in (("KICKOFF", 0), ("PLAN", 0), ("DESIGN", 10), ("ACCEPT", 0))
    }
    templates.add_milestone_template(s, "KICKOFF", descr="Project kick-off", conditions=[date])
    templates.add_milestone_template(s, "PLAN", descr="Project plan agreed", conditions=[on["KICKOFF"]])
    templates.add_milestone_template(
        s,
        "DESIGN",
        descr="Design signed off",
        conditions=[on["PLAN"], ConditionSpec(ConditionType.USER, descr="Design sign-off")],
    )
    templates.add_milestone_template(
        s, "BUILD", descr="Build complete (10 days after design)", conditions=[on["DESIGN"]]
    )
    templates.add_milestone_template(
        s,
        "ACCEPT",
        descr="Customer acceptance",
        required=RequiredConditions.ONE,
        conditions=[
            ConditionSpec(ConditionType.USER, descr="Customer accepted"),
            ConditionSpec(ConditionType.DATE, descr="Deemed accepted"),
        ],
    )
    templates.add_milestone_template(
        s,
        "GOLIVE",
        descr="Go-live",
        conditions=[
            on["ACCEPT"],
            ConditionSpec(ConditionType.SQL, descr="Go-live date reached", sql_text=GO_LIVE_SQL),
        ],
    )
    templates.add_milestone_template(
        s,
        "REVIEW",
        descr="Design review passed in Projects",
        conditions=[
            ConditionSpec(
                ConditionType.MILESTONE,
                source=MilestoneSource.PROJECTS,
                project_id="PRJ-ALPHA",
                activity_id="DESIGN",
                activity_status="Complete",
                days_lag=3,
            )
        ],
    )


def contracts(world: DemoWorld) -> None:
    """``world.contracts`` Active contracts with their milestones, Ready, some conditions marked."""
    s, rng = world.session, world.rng
    for n in range(1, world.contracts + 1):
        bu = UNITS[(n - 1) % len(UNITS)][0]
        key = ContractKey(bu, f"K{1000 + n}")
        admin.add_contract(
            s,
            key,
            descr=f"Implementation services {n}",
            customer=rng.choice(CUSTOMERS),
            attributes={"go_live_on": world.day(rng.choice([-20, -10, -1, 0, 4, 30])).isoformat()},
        )
        for line in (1, 2):
            admin.add_line(
                s,
                key,
                line,
                product=("SERVICES", "LICENSE")[line - 1],
                amount=Decimal(rng.randrange(10, 500) * 1000),
            )
        hooks.change_contract_status(s, key, ContractStatus.ACTIVE, world.who(-60))
        world.contract_keys.append(key)
        ids = ["KICKOFF", "PLAN", "DESIGN", "BUILD", "ACCEPT", "GOLIVE"] + (["REVIEW"] if n % 3 == 0 else [])
        keys = {mid: _from_template(world, key, mid) for mid in ids}
        kickoff = world.day(rng.choice([-40, -30, -20, -16, -3, 0, 5, 12]))
        deemed = world.day(rng.choice([-8, -2, 0, 9, 25]))
        _set_date(world, keys["KICKOFF"], 1, ConditionSpec(ConditionType.DATE, "Scheduled date", kickoff))
        _set_date(world, keys["ACCEPT"], 2, ConditionSpec(ConditionType.DATE, "Deemed accepted", deemed))
        for k in keys.values():
            make_ready(s, k, world.who(-25), Settings().sql_rules)
        if rng.random() < 0.7:
            hooks.mark_complete(s, keys["DESIGN"], 2, world.who(-20))
        if rng.random() < 0.3:
            hooks.mark_complete(s, keys["ACCEPT"], 1, world.who(-3))
        for mid, k in keys.items():
            world.highlights.setdefault(mid, k)


def _from_template(world: DemoWorld, contract: ContractKey, milestone_id: str) -> MilestoneKey:
    m = hooks.add_milestone(world.session, contract, milestone_id, world.who(-30), from_template=True)
    return MilestoneKey(contract, m.milestone_id, m.milestone_num)


def _set_date(world: DemoWorld, key: MilestoneKey, seq: int, spec: ConditionSpec) -> None:
    """Templates carry no dates: each contract's copy gets its own, while the milestone is still Pending."""
    milestones.update_condition(world.session, key, seq, spec, world.who(-30))


def billing_and_revenue_plans(world: DemoWorld) -> None:
    """On every contract, a billing plan (services line) and a revenue plan (license line) made from
    templates that are Ready on contract activation. The billing plan's milestones are auto-readied by
    condition type: MOBILIZE (a Date without a date: Ready; most get their date, the rest are reported by
    every run), SIGNOFF (User Initiated: Ready; half are marked complete), WARRANTY (a Milestone condition:
    Pending, then set Ready). The runs announce the eligible events: ``ms-prcs feed read --consumer billing``."""
    s, rng, rules = world.session, world.rng, Settings().sql_rules
    mobilization = ConditionSpec(ConditionType.DATE, descr="Mobilization date")
    templates.add_milestone_template(s, "MOBILIZE", descr="Team mobilized", conditions=[mobilization])
    templates.add_milestone_template(
        s,
        "SIGNOFF",
        descr="Deliverables signed off",
        conditions=[ConditionSpec(ConditionType.USER, descr="Sign-off")],
    )
    after_go_live = ConditionSpec(
        ConditionType.MILESTONE, source=MilestoneSource.CONTRACTS, ref_milestone_id="GOLIVE", days_lag=30
    )
    templates.add_milestone_template(
        s, "WARRANTY", descr="Warranty over (go-live + 30 days)", conditions=[after_go_live]
    )
    milestone_event = EventType.MILESTONE
    add_plan_template(
        s,
        "BP-SERVICES",
        PlanType.BILLING,
        descr="Services billed by milestone",
        ready_on_activation=True,
        events=[
            TemplateEventSpec(milestone_event, milestone_id="MOBILIZE", percentage=Decimal(20)),
            TemplateEventSpec(milestone_event, milestone_id="SIGNOFF", percentage=Decimal(50)),
            TemplateEventSpec(milestone_event, milestone_id="WARRANTY", percentage=Decimal(30)),
        ],
    )
    add_plan_template(
        s,
        "RP-LICENSE",
        PlanType.REVENUE,
        descr="License revenue on delivery dates",
        ready_on_activation=True,
        events=[
            TemplateEventSpec(EventType.DATE, event_date=world.day(-10), percentage=Decimal(60)),
            TemplateEventSpec(EventType.DATE, event_date=world.day(20), percentage=Decimal(40)),
        ],
    )
    for key in world.contract_keys:
        created = hooks.create_plan_from_template(s, key, 1, "BP-SERVICES", world.who(-30), rules)
        hooks.create_plan_from_template(s, key, 2, "RP-LICENSE", world.who(-30), rules)
        made = {k.milestone_id: k for k in (MilestoneKey.parse(d.milestone) for d in created.milestones)}
        if rng.random() < 0.8:
            when = world.day(rng.choice([-25, -12, -4, 6]))
            milestones.set_pending(s, made["MOBILIZE"], world.who(-28))
            milestones.update_condition(
                s, made["MOBILIZE"], 1, replace(mobilization, condition_date=when), world.who(-28)
            )
            make_ready(s, made["MOBILIZE"], world.who(-28), rules)
        if rng.random() < 0.5:
            hooks.mark_complete(s, made["SIGNOFF"], 1, world.who(-6))
        make_ready(s, made["WARRANTY"], world.who(-28), rules)


STEPS: list[DemoStep] = [
    reference_data,
    project_activities,
    milestone_templates,
    contracts,
    billing_and_revenue_plans,
]
"""The demo, in order. Append a step to show more (it runs in the same transaction, after these). The
service's pages add their sign-in story (:func:`ms_prcs.service.pages.story.demo_step`) from the CLI, the
floor above both."""


# --- the file ----------------------------------------------------------------------------------------


def demo_path(db_url: str) -> Path:
    """The SQLite file the demo may (re)build, or a refusal for anything else."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise RuleViolation(
            f"database {url.render_as_string(hide_password=True)}",
            "the demo builds SQLite files only; pass --db sqlite:///demo.db",
        )
    return Path(url.database)


def is_replaceable(path: Path) -> bool:
    """Missing, empty, a SQLite file without tables, or one the demo made (its application_id)."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False  # not a SQLite database at all: certainly not ours to delete
    return bool(app_id == DEMO_APPLICATION_ID or tables == 0)


def prepare_file(path: Path) -> None:
    """Delete a previous demo database (and its WAL files), or refuse to touch a database that is not one."""
    if not is_replaceable(path):
        raise RuleViolation(
            f"database {path}",
            "is not a demo database (it was not made by `ms-prcs demo`), so the demo will not replace it;"
            " pass another --db, e.g. --db sqlite:///demo.db",
        )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- building and running ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    path: Path
    as_of: dt.date
    contracts: int
    milestones: int
    history: RunResult
    today: RunResult
    by_status: dict[str, dict[str, int]]
    explained: list[tuple[str, str]]
    people: tuple[Any, ...] = ()


def build(
    db_url: str, *, contracts: int, as_of: dt.date, settings: Settings, steps: list[DemoStep] | None = None
) -> Demo:
    """Build the demo database at ``db_url`` from scratch, run the engine twice, and describe the result."""
    path = demo_path(db_url)
    prepare_file(path)
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")
        with Session(engine) as session, session.begin():
            world = DemoWorld(session, as_of, contracts, random.Random(f"ms-prcs demo {contracts}"))
            for step in steps if steps is not None else STEPS:
                step(world)
            highlights = dict(world.highlights)
            people = tuple(world.people)
        history = process(engine, RunControl(as_of=as_of - dt.timedelta(days=14), trigger="demo"), settings)
        today = process(engine, RunControl(as_of=as_of, trigger="demo"), settings)
        with Session(engine) as session:
            return Demo(
                path=path,
                as_of=as_of,
                contracts=contracts,
                milestones=session.scalar(sa.select(sa.func.count()).select_from(Milestone)) or 0,
                history=history,
                today=today,
                by_status=_by_status(session),
                explained=_explain_some(session, highlights, as_of, settings),
                people=people,
            )
    finally:
        engine.dispose()


def _by_status(session: Session) -> dict[str, dict[str, int]]:
    rows = session.execute(
        sa.select(Milestone.status, Contract.business_unit, sa.func.count())
        .join(Contract, Contract.id == Milestone.contract_pk)
        .group_by(Milestone.status, Contract.business_unit)
    )
    table: dict[str, dict[str, int]] = {}
    for status, bu, count in rows:
        table.setdefault(str(status), {})[bu] = count
    return table


def _explain_some(
    session: Session, highlights: dict[str, MilestoneKey], as_of: dt.date, settings: Settings
) -> list[tuple[str, str]]:
    """For each milestone id, the first milestone not complete and why (or the first one, complete)."""
    out = []
    for milestone_id in highlights:
        rows = session.scalars(
            sa.select(Milestone).where(Milestone.milestone_id == milestone_id).order_by(Milestone.id)
        ).all()
        pick = next((m for m in rows if str(m.status) != "Completed"), rows[0])
        e = explain(session, pick, as_of, rules=settings.sql_rules, timeout_s=settings.sql_timeout_s)
        reasons = "; ".join(f"{c.seq}: {c.reason}" for c in e.conditions if not c.met)
        out.append((pick.key, e.summary + (f" — {reasons}" if reasons and not e.complete else "")))
    return out
