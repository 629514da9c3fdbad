"""The approvals story behind the pages: sign-in users for each role, approval milestones on panels and
stage gates, one blocking a contract status. ``ms-prcs demo`` appends it to its steps (so the pages have
something to show) and the page and browser tests build their world with it, on SQLite and PostgreSQL alike.

The people (user id, password, what they do):

- ``admin``: the contract administrator (role ``contract-admin``; classification ``CONTRACTS`` of the approval
  milestones lets it and ``approver`` change them), who may also start runs and read the reports;
- ``approver1`` and ``approver2``: holders of role ``approver``, who approve or deny (a note is required to
  deny); ``approver2`` also reads the reports;
- ``viewer``: no role and not on the contract teams: reads everything, changes nothing classified, submits
  and approves nothing.

``admin``, ``approver1`` and ``approver2`` are the contract team of both contracts (who may submit by hand).

The contracts: ``US001/K9001`` (Active) with ``PLANNING`` (a date, gate Plan, panel Milestones), then
``FINANCE`` (step 1: a date and the finance approval, blocks Closed) and ``LEADERSHIP`` (step 2: the
leadership approval, with Save & Complete), both in gate Approval on panel Approvals; ``US001/K9002`` with
``PLANNING`` only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from conditions.ready import make_ready
from contracts import admin, templates
from contracts.audit import Who
from contracts.keys import ContractKey, MilestoneKey
from contracts.models import BusinessUnit
from contracts.specs import ConditionSpec
from contracts.status import ConditionType, ContractStatus
from ms_prcs.approvals import hooks
from ms_prcs.approvals.config.approval import RuleSpec, set_template_rule
from ms_prcs.approvals.config.structure import WorkflowSpec, set_template_workflow
from ms_prcs.approvals.rules import add_team_member
from ms_prcs.demo import DemoWorld
from ms_prcs.service import credentials, rights
from ms_prcs.settings import Settings

CONTRACT_ADMIN = "contract-admin"
APPROVER = "approver"
CLASSIFICATION = "CONTRACTS"
K9001 = ContractKey("US001", "K9001")
K9002 = ContractKey("US001", "K9002")
FINANCE = MilestoneKey(K9001, "FINANCE", 1)
LEADERSHIP = MilestoneKey(K9001, "LEADERSHIP", 1)
PLANNING = MilestoneKey(K9001, "PLANNING", 1)


@dataclass(frozen=True)
class Person:
    user: str
    name: str
    password: str
    roles: tuple[str, ...]
    does: str


PEOPLE = (
    Person(
        "admin",
        "Casey Admin",
        "admin-demo-pass",
        (CONTRACT_ADMIN, rights.ROLE_RUN, rights.ROLE_REPORTS),
        "contract administrator: Ready / Pending / Cancel, conditions, Submit, runs, reports",
    ),
    Person(
        "approver1", "Alex Approver", "approver1-demo-pass", (APPROVER,), "approver (finance, leadership)"
    ),
    Person(
        "approver2",
        "Blair Approver",
        "approver2-demo-pass",
        (APPROVER, rights.ROLE_REPORTS),
        "approver (finance, leadership), reads the reports",
    ),
    Person("viewer", "Val Viewer", "viewer-demo-pass", (), "viewer: reads, changes nothing"),
)


def build(session: Session, as_of: dt.date, settings: Settings | None = None) -> tuple[Person, ...]:
    """Add the story to the database (business unit US001 is created when missing); returns the people."""
    who = Who("setup", dt.datetime.combine(as_of - dt.timedelta(days=10), dt.time(9)))
    if session.get(BusinessUnit, "US001") is None:
        admin.add_business_unit(session, "US001", "US operations", "USD")
    rights.ensure_roles(session)
    for role, descr in ((CONTRACT_ADMIN, "Contract administrators"), (APPROVER, "Milestone approvers")):
        admin.add_role(session, role, descr)
    admin.add_classification(
        session,
        CLASSIFICATION,
        [CONTRACT_ADMIN, APPROVER],
        "Changed by contract administrators and approvers",
    )
    for p in PEOPLE:
        admin.add_user(session, p.user, p.name, p.roles)
        credentials.set_password(session, p.user, p.password, who.at)
    _templates(session, as_of)
    for key, descr, ids in (
        (K9001, "Managed services (approvals)", ("PLANNING", "FINANCE", "LEADERSHIP")),
        (K9002, "Training services", ("PLANNING",)),
    ):
        admin.add_contract(session, key, descr=descr, customer="Globex")
        admin.add_line(session, key, 1, product="SERVICES", amount=Decimal("120000"))
        hooks.change_contract_status(session, key, ContractStatus.ACTIVE, who)
        for mid in ids:
            hooks.add_milestone(session, key, mid, who, from_template=True)
        for p in PEOPLE[:3]:  # the contract team: who may submit (and edit the contract); not the viewer
            add_team_member(session, key, p.user, "Contract team", PEOPLE[0].user)
    rules = (settings or Settings()).sql_rules
    make_ready(session, PLANNING, who, rules)
    session.flush()
    return PEOPLE


def _templates(session: Session, as_of: dt.date) -> None:
    yesterday = as_of - dt.timedelta(days=1)
    templates.add_milestone_template(
        session,
        "PLANNING",
        descr="Project plan agreed with the customer",
        conditions=[
            ConditionSpec(ConditionType.DATE, "Plan date", condition_date=as_of - dt.timedelta(days=5))
        ],
    )
    templates.add_milestone_template(
        session,
        "FINANCE",
        descr="Finance approval: budget and margin checked by Finance",
        classification=CLASSIFICATION,
        conditions=[
            ConditionSpec(ConditionType.DATE, "Budget confirmed by", condition_date=yesterday),
            ConditionSpec(ConditionType.USER, "Finance sign-off"),
        ],
    )
    templates.add_milestone_template(
        session,
        "LEADERSHIP",
        descr="Leadership approval of the go-live",
        classification=CLASSIFICATION,
        conditions=[ConditionSpec(ConditionType.USER, "Leadership sign-off")],
    )
    approvers = RuleSpec(roles=(APPROVER,), note_on_deny=True)
    set_template_rule(session, "FINANCE", 2, approvers)
    set_template_rule(session, "LEADERSHIP", 1, approvers)
    set_template_workflow(session, "PLANNING", WorkflowSpec(stage_gate="Plan"))
    set_template_workflow(
        session,
        "FINANCE",
        WorkflowSpec(step=1, stage_gate="Approval", panel="Approvals", blocks=(ContractStatus.CLOSED,)),
    )
    set_template_workflow(
        session,
        "LEADERSHIP",
        WorkflowSpec(step=2, stage_gate="Approval", panel="Approvals", save_and_complete=True),
    )


def demo_step(world: DemoWorld) -> None:
    """``ms-prcs demo``'s last step: sign-in users for each role and two contracts with approvals, panels
    and stage gates, so the pages have something to show."""
    world.people.extend(build(world.session, world.as_of))
