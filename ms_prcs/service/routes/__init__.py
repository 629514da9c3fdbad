"""The API's routes, one module per resource; :data:`API_ROUTERS` is what ``create_app`` mounts under
``/api/v1`` behind authentication (``health`` and ``session`` are mounted apart: they are public)."""

from __future__ import annotations

from fastapi import APIRouter

from ms_prcs.service.routes import (
    alerts,
    approvals,
    conditions,
    contracts,
    events,
    feed,
    holds,
    inbox,
    milestones,
    plans,
    queue,
    reports,
    runs,
    tokens,
    webhooks,
)

API_ROUTERS: tuple[APIRouter, ...] = (
    contracts.router,
    milestones.router,
    conditions.router,
    approvals.router,
    inbox.router,
    plans.router,
    events.router,
    holds.router,
    feed.router,
    runs.router,
    reports.router,
    queue.router,
    alerts.router,
    webhooks.router,
    tokens.router,
)
