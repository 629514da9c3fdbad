"""The pages under test: the real app (API and pages) over the ``db_url`` database, SQLite file and
PostgreSQL, with the approvals story of :mod:`ms_prcs.service.pages.story` (the one ``ms-prcs demo`` adds).

:class:`Visitor` is one browser's worth of state driven with httpx (Starlette's TestClient): its cookies,
and the CSRF token it reads from the last page, as a person's browser would.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ms_prcs.service.app import create_app
from ms_prcs.service.pages import ROUTERS, story
from ms_prcs.settings import Settings
from tests.service.conftest import service_settings

PASSWORDS = {p.user: p.password for p in story.PEOPLE}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
REFUSAL = re.compile(r'data-testid="refusal">([^<]*)<')


class Visitor:
    def __init__(self, app: FastAPI) -> None:
        self.client = TestClient(app, follow_redirects=False)
        self.token = ""

    def get(self, path: str, **kw: Any) -> httpx.Response:
        answer = self.client.get(path, **kw)
        found = TOKEN.search(answer.text)
        if found:
            self.token = found.group(1)
        return answer

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True) -> httpx.Response:
        if csrf and not self.token:
            self.get("/sign-in")
        form = {**({"csrf_token": self.token} if csrf else {}), **(data or {})}
        return self.client.post(path, data=form)

    def sign_in(self, user: str, password: str | None = None) -> httpx.Response:
        self.get("/sign-in")
        return self.post(
            "/sign-in", {"user": user, "password": password or PASSWORDS[user], "next": "/inbox"}
        )

    def act(self, key: str, action: str, **form: str) -> httpx.Response:
        """POST one of the milestone forms (``key`` is ``US001/K9001/FINANCE/1``)."""
        return self.post(f"/milestones/{key}/do/{action}", {"back": "contract", **form})


def refusal(answer: httpx.Response) -> str:
    found = REFUSAL.search(answer.text)
    return html.unescape(found.group(1)) if found else ""


@pytest.fixture
def story_db(session: Session, db_url: str) -> str:
    story.build(session, Settings().today())
    session.commit()
    return db_url


@pytest.fixture
def app(story_db: str) -> FastAPI:
    return create_app(service_settings(story_db), page_routers=ROUTERS)


@pytest.fixture
def visitor(app: FastAPI) -> Iterator[Callable[[str | None], Visitor]]:
    """``visitor("admin")`` is a browser signed in as admin; ``visitor(None)`` an anonymous one."""
    made: list[Visitor] = []

    def make(user: str | None) -> Visitor:
        v = Visitor(app)
        if user is not None:
            answer = v.sign_in(user)
            assert answer.status_code == 303, answer.text
        made.append(v)
        return v

    yield make
    for v in made:
        v.client.close()
