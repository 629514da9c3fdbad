"""The engine tests' world: contracts and milestones written through the services (:mod:`tests.engine.world`)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.engine.world import World


@pytest.fixture
def world(session: Session) -> World:
    return World(session)
