"""The demo database includes billing and revenue plans made from templates, and the runs' feed."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.models import FeedEntry, FeedKind, Milestone, Plan, StatusChange
from contracts.status import CreatedFrom, PlanStatus
from ms_prcs import demo
from ms_prcs.db import make_engine
from ms_prcs.settings import Settings


def test_the_demo_makes_plans_from_templates_and_announces_their_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo.build(url, contracts=6, as_of=dt.date(2026, 6, 15), settings=Settings(db_url=url))
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            plans = session.scalars(select(Plan)).all()
            assert Counter(p.template_id for p in plans) == {"BP-SERVICES": 6, "RP-LICENSE": 6}
            assert {p.status for p in plans} <= {PlanStatus.READY, PlanStatus.COMPLETED}
            made = session.scalars(
                select(Milestone).where(Milestone.created_from == CreatedFrom.BILLING_PLAN)
            ).all()
            assert Counter(m.milestone_id for m in made) == {"MOBILIZE": 6, "SIGNOFF": 6, "WARRANTY": 6}
            reasons = session.scalars(
                select(StatusChange.reason).where(
                    StatusChange.reason.like("auto-ready (billing plan template%")
                )
            ).all()
            assert len(reasons) == 18
            assert sum("stays Pending" in r for r in reasons) == 6  # WARRANTY: a Milestone condition
            kinds = Counter(session.scalars(select(FeedEntry.kind)))
            assert kinds[FeedKind.BILLING_EVENT_ELIGIBLE] > 0 and kinds[FeedKind.REVENUE_EVENT_ELIGIBLE] > 0
    finally:
        engine.dispose()
