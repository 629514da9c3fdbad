"""Every route under /api/v1 declares the right it needs, and is mounted behind authentication (the
matrix of test_authorization shows each answers 401 to anonymous callers); the public ones are exactly the
health checks and signing in or out."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from ms_prcs.service.app import API_PREFIX
from ms_prcs.service.deps import current_caller
from ms_prcs.service.rights import Right
from ms_prcs.service.routes import API_ROUTERS, session

PUBLIC = {("POST", "/api/v1/session"), ("DELETE", "/api/v1/session"), ("GET", "/healthz"), ("GET", "/readyz")}
ANY_CALLER = {("GET", "/api/v1/session")}
"""Authenticated, with no further right: who am I."""


def _calls(dependant: Dependant) -> list[object]:
    found: list[object] = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found += _calls(sub)
    return found


def route_rights(app: FastAPI) -> dict[tuple[str, str], Right]:
    """(method, path) -> the right its dependencies ask for, for every authenticated API route; READ for the
    routes any authenticated caller may use. Walks the routers ``create_app`` mounts behind
    :func:`current_caller`, and checks that they are all the OpenAPI document's authenticated operations."""
    rights: dict[tuple[str, str], Right] = {}
    for router in (*API_ROUTERS, session.router):
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in route.methods:
                key = (method, API_PREFIX + route.path)
                if key in PUBLIC:
                    continue
                calls = _calls(route.dependant)
                declared = [c.right for c in calls if hasattr(c, "right")]  # type: ignore[attr-defined]
                if key in ANY_CALLER:
                    assert current_caller in calls, f"{key} does not authenticate"
                    declared = declared or [Right.READ]
                assert len(declared) == 1, f"{key} declares rights {declared}"
                rights[key] = declared[0]
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if (method.upper(), path) not in PUBLIC
    }
    assert documented == set(rights)
    return rights


def test_every_route_authenticates_and_declares_one_right(bare_app: FastAPI) -> None:
    rights = route_rights(bare_app)
    assert len(rights) > 40
    assert rights[("POST", "/api/v1/runs")] == Right.RUN
    assert rights[("POST", "/api/v1/feed/{consumer}/ack")] == Right.FEED
    assert rights[("GET", "/api/v1/reports/impact")] == Right.REPORTS
    assert rights[("POST", "/api/v1/tokens")] == Right.ADMIN
