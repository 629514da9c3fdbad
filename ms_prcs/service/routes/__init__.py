"""The API's routes, one module per resource; :data:`API_ROUTERS` is what ``create_app`` mounts under
``/api/v1`` behind authentication (``health`` and ``session`` are mounted apart: they are public)."""

from __future__ import annotations

from fastapi import APIRouter

from ms_prcs.service.routes import milestones

API_ROUTERS: tuple[APIRouter, ...] = (milestones.router,)
