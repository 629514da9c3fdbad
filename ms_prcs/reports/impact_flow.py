"""Impact by Milestone along the flow: which approval is each waiting amount waiting on.

A waiting event (its own milestone not yet approved, the event not done) is placed on the **earliest
milestones of its contract's flow not yet approved**: the milestones ``F`` of the contract that are its own
milestone or come before it in step order (:func:`ms_prcs.approvals.steps.earlier`, the rule the engine's
step check uses), are open (Pending or Ready and not Approved in the approval view,
:func:`ms_prcs.approvals.view.approved_sql`; its own milestone counts even when Cancelled, so money that
waits forever is still seen), and have no open milestone of the contract before them. Several open
milestones of one step each carry the whole amount (each one's approval holds it back); as approvals
happen the amount moves on to the next step. Unordered milestones (step 0) neither wait nor are waited for:
their events stay on their own milestone.

The query is built from those rule definitions (not written out again in ``sql/``) and returns the columns
of ``sql/impact_by_milestone.sql``, the own-milestone view, so both feed the same frame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.models import ContractLine, Plan, PlanEvent
from contracts.schema import table_of
from ms_prcs.approvals.sql import contract_t, milestone_t, workflow_t
from ms_prcs.approvals.steps import OPEN_STATUSES, earlier
from ms_prcs.approvals.view import approved_sql
from ms_prcs.reports.scope import scope_filter

_event = table_of(PlanEvent)
_plan = table_of(Plan)
_line = table_of(ContractLine)


def _step(workflow: sa.FromClause) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    """(step, sub_step) of an outer-joined workflow row: 0, 0 (unordered) for a milestone without one."""
    return sa.func.coalesce(workflow.c.step, 0), sa.func.coalesce(workflow.c.sub_step, 0)


def _open(milestone: sa.FromClause) -> sa.ColumnElement[bool]:
    """Still holds its step's money: Pending or Ready, and not Approved in the approval view."""
    return sa.and_(milestone.c.status.in_(OPEN_STATUSES), ~approved_sql(milestone))


def _none_open_before(milestone: sa.FromClause, workflow: sa.FromClause) -> sa.ColumnElement[bool]:
    """No open milestone of the same contract comes before ``milestone`` in step order."""
    g = milestone_t.alias("ms_prcs_flow_g")
    gw = workflow_t.alias("ms_prcs_flow_gw")
    step, sub_step = _step(workflow)
    return ~sa.exists(
        sa.select(sa.literal(1))
        .select_from(g.join(gw, gw.c.milestone_pk == g.c.id))
        .where(
            g.c.contract_pk == milestone.c.contract_pk,
            g.c.id != milestone.c.id,
            _open(g),
            earlier(gw, step, sub_step),
        )
        .correlate_except(g, gw)
    )


def flow_rows(session: Session, params: dict[str, Any]) -> pd.DataFrame:
    """Per placed milestone and currency: event counts and amounts, as ``sql/impact_by_milestone.sql``
    returns them for the own milestone. ``params`` are that query's binds (scope, plan types, statuses)."""
    e, p, line, lc = _event, _plan, _line, contract_t.alias("ms_prcs_flow_lc")
    own, own_w = milestone_t.alias("ms_prcs_flow_o"), workflow_t.alias("ms_prcs_flow_ow")
    m, mw = milestone_t.alias("ms_prcs_flow_m"), workflow_t.alias("ms_prcs_flow_mw")
    mc = contract_t.alias("ms_prcs_flow_mc")
    own_step, own_sub = _step(own_w)
    amount = sa.func.coalesce(e.c.amount, sa.func.round(line.c.amount * e.c.percentage / 100, 2))
    billing = p.c.plan_type == params["billing"]
    revenue = p.c.plan_type == params["revenue"]
    where: list[sa.ColumnElement[bool]] = [
        ~approved_sql(own),
        sa.or_(
            sa.and_(billing, e.c.status.not_in(params["billing_done"])),
            sa.and_(revenue, e.c.status.not_in(params["revenue_done"])),
        ),
        sa.or_(m.c.id == own.c.id, sa.and_(_open(m), earlier(mw, own_step, own_sub))),
        _none_open_before(m, mw),
    ]
    where += scope_filter(params, mc, m, "ms_prcs_flow_window")
    group = (mc.c.business_unit, mc.c.contract_num, m.c.id, m.c.milestone_id, m.c.milestone_num, m.c.status,
             m.c.est_completion_date, lc.c.currency)  # fmt: skip
    query = (
        sa.select(
            mc.c.business_unit.label("business_unit"),
            mc.c.contract_num.label("contract_num"),
            m.c.id.label("milestone_pk"),
            m.c.milestone_id.label("milestone_id"),
            m.c.milestone_num.label("milestone_num"),
            m.c.status.label("status"),
            m.c.est_completion_date.label("est_completion_date"),
            lc.c.currency.label("currency"),
            sa.func.sum(sa.case((billing, 1), else_=0)).label("billing_events"),
            sa.func.coalesce(sa.func.sum(sa.case((billing, amount))), 0).label("billing_amount"),
            sa.func.sum(sa.case((revenue, 1), else_=0)).label("revenue_events"),
            sa.func.coalesce(sa.func.sum(sa.case((revenue, amount))), 0).label("revenue_amount"),
        )
        .select_from(
            e.join(p, p.c.id == e.c.plan_pk)
            .join(line, line.c.id == p.c.contract_line_pk)
            .join(lc, lc.c.id == line.c.contract_pk)
            .join(own, own.c.id == e.c.milestone_pk)
            .outerjoin(own_w, own_w.c.milestone_pk == own.c.id)
            .join(m, m.c.contract_pk == own.c.contract_pk)
            .outerjoin(mw, mw.c.milestone_pk == m.c.id)
            .join(mc, mc.c.id == m.c.contract_pk)
        )
        .where(*where)
        .group_by(*group)
        .order_by(mc.c.business_unit, mc.c.contract_num, m.c.milestone_id, m.c.milestone_num, lc.c.currency)
    )
    rows = session.execute(query).all()
    return pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(query.selected_columns.keys()))
