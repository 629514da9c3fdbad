"""Milestone and contract lists are paged in SQL: any page is the slice of the whole list, in key order,
with the total of the whole list, over the API and in the views themselves (the contracts page's JSON:
tests/service/pages/test_pages.py)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from contracts import admin, milestones
from contracts.audit import Who
from contracts.keys import ContractKey
from contracts.status import ContractStatus, MilestoneStatus
from ms_prcs import views
from tests.service.conftest import AT, World, bearer

TEMPLATES = ("MS-USER", "MS-DATE", "MS-EMPTY", "MS-MIX")


@pytest.fixture
def many(world: World, session: Session) -> World:
    """Nine contracts over two business units (some Active), each with two to five milestones."""
    who = Who("setup", AT)
    admin.add_business_unit(session, "US002")
    for n in range(9):
        key = ContractKey("US002" if n % 3 == 0 else "US001", f"P{n:03d}")
        admin.add_contract(session, key, customer=f"C{n}")
        if n % 2:
            admin.set_contract_status(session, key, ContractStatus.ACTIVE, who)
        for i in range(2 + n % 4):
            milestones.add_milestone(session, key, TEMPLATES[i % len(TEMPLATES)], who, from_template=True)
    session.commit()
    return world


def test_every_page_is_the_slice_of_the_whole_list(many: World, session: Session) -> None:
    everything = views.list_milestones(session)
    keys = [m["milestone"] for m in everything]
    assert len(keys) > 25 and len(set(keys)) == len(keys)
    assert views.count_milestones(session) == len(everything)
    for offset in range(0, len(everything) + 2, 7):
        assert views.list_milestones(session, offset=offset, limit=7) == everything[offset : offset + 7]
    ready = views.list_milestones(session, business_unit="us001", status=MilestoneStatus.PENDING)
    assert (
        views.list_milestones(
            session, business_unit="us001", status=MilestoneStatus.PENDING, offset=3, limit=4
        )
        == ready[3:7]
    )
    assert views.count_milestones(session, business_unit="us001", status=MilestoneStatus.PENDING) == len(
        ready
    )
    contracts = views.list_contracts(session)
    assert views.list_contracts(session, offset=2, limit=3) == contracts[2:5]
    active = views.list_contracts(session, status=ContractStatus.ACTIVE)
    assert {c["status"] for c in active} == {ContractStatus.ACTIVE}
    assert views.list_contracts(session, status=ContractStatus.ACTIVE, offset=1, limit=2) == active[1:3]
    assert views.count_contracts(session, "US002") == len(views.list_contracts(session, "US002")) == 3


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(0, 40), limit=st.integers(1, 12), bu=st.sampled_from([None, "US001", "US002"]))
def test_api_pages_walk_the_list(app: FastAPI, many: World, offset: int, limit: int, bu: str | None) -> None:
    api = bearer(app, many.tokens["full"])
    params: dict[str, str | int] = {"offset": offset, "limit": limit, **({"bu": bu} if bu else {})}
    whole = api.get("/api/v1/milestones", params={"limit": 1000, **({"bu": bu} if bu else {})}).json()
    page = api.get("/api/v1/milestones", params=params).json()
    assert page["items"] == whole["items"][offset : offset + limit]
    assert page["total"] == whole["total"] == len(whole["items"])
    assert page["next_offset"] == (offset + limit if offset + limit < page["total"] else None)
    contracts = api.get("/api/v1/contracts", params={"limit": 1000, **({"bu": bu} if bu else {})}).json()
    cpage = api.get("/api/v1/contracts", params=params).json()
    assert cpage["items"] == contracts["items"][offset : offset + limit]
    assert cpage["total"] == contracts["total"] == len(contracts["items"])
