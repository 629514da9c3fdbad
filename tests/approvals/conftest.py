from __future__ import annotations

import pytest

from tests.approvals.helpers import build_world
from tests.conftest import CliInvoke


@pytest.fixture
def world(cli: CliInvoke) -> CliInvoke:
    build_world(cli)
    return cli
