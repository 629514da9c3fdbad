"""The hand-computed fixture database (``fixture.py``), built on each backend through the services."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ms_prcs.reports import ReportScope
from tests.reports import fixture


@pytest.fixture
def report_db(session: Session) -> Session:
    """The session of a database holding the fixture's milestones, history and plans (committed)."""
    fixture.build(session)
    return session


@pytest.fixture
def scope() -> ReportScope:
    return ReportScope(as_of=fixture.AS_OF)
