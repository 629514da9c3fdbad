"""Server-rendered pages for contract administrators and approvers (issue 12), over the same view data as the
API: every page has a JSON twin (``/contracts`` and ``/contracts.json``).

Modules: :mod:`web` (signed-in person, CSRF, rendering), :mod:`screens` (the data of each page),
:mod:`browse` (the pages people read), :mod:`actions` (the milestone forms), :mod:`monitor` (runs and
reports). Templates are ``ms_prcs/service/templates/*.html`` (Jinja2, autoescaped), the stylesheet and the
one small script ``ms_prcs/service/static/``; nothing is loaded from the internet.
"""

from __future__ import annotations

from fastapi import APIRouter

from ms_prcs.service.pages import actions, browse, monitor

ROUTERS: tuple[APIRouter, ...] = (browse.router, actions.router, monitor.router)
