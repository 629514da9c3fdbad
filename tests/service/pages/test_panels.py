"""Panels and Save & Complete (migration 0009): set on templates by the CLI and load files, copied to the
milestones added from them, and shown by the contract page; Save & Complete closes the contract with its last
open approval; Mark Complete and undo from the page; a dry run started from the Runs page and followed."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from contracts import milestones
from contracts.audit import Who
from contracts.keys import MilestoneKey
from contracts.specs import ConditionSpec
from contracts.status import ConditionType
from ms_prcs.engine import RunControl, process
from ms_prcs.service.app import create_app
from ms_prcs.service.pages import ROUTERS, story
from ms_prcs.settings import Settings
from tests.conftest import CliInvoke
from tests.service.conftest import service_settings
from tests.service.pages.conftest import Visitor, refusal

Make = Callable[[str | None], Visitor]
CONTRACT = "/contracts/US001/K9001"


def _layout(app: FastAPI, user: str, contract: str) -> list[tuple[str, list[str]]]:
    v = Visitor(app)
    v.sign_in(user)
    data = v.client.get(f"/contracts/{contract}.json").json()
    return [
        (p["panel"], [m["milestone"] for g in p["gates"] for m in g["milestones"]]) for p in data["panels"]
    ]


def test_panel_from_the_cli_and_a_load_file(
    cli: CliInvoke, db_url: str, session: Session, tmp_path: Path
) -> None:
    story.build(session, Settings().today())
    session.commit()
    path = tmp_path / "panels.yaml"
    path.write_text(
        """
milestone_templates:
  - {milestone_id: RES, descr: Resolution review, conditions: [{type: user}]}
  - {milestone_id: OTHER, conditions: [{type: user}]}
milestone_template_workflows:
  - {template: RES, panel: Resolution, save_and_complete: true}
contracts:
  - contract: US001/K7
    lines: [{line: 1, amount: 100}]
    milestones: [{milestone_id: RES, template: true}, {milestone_id: OTHER, template: true}]
"""
    )
    assert cli("load", str(path)).exit_code == 0
    done = cli("template", "milestone", "workflow", "OTHER", "--panel", "Resolution", "--json")
    assert done.exit_code == 0, done.output
    added = cli("milestone", "add", "US001/K7", "OTHER", "--template")
    assert added.exit_code == 0, added.output
    moved = cli("milestone", "workflow", "US001/K7/OTHER/1", "--panel", "", "--json")
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout)["panel"] is None
    app = create_app(service_settings(db_url), page_routers=ROUTERS)
    assert _layout(app, "viewer", "US001/K7") == [
        ("Milestones", ["US001/K7/OTHER/1"]),
        ("Resolution", ["US001/K7/OTHER/2", "US001/K7/RES/1"]),
    ]
    long = cli("milestone", "workflow", "US001/K7/OTHER/1", "--panel", "P" * 31)
    assert long.exit_code == 2
    assert "panel name 'PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP' is longer than 30 characters" in long.output


def _finance_completed(v: dict[str, Visitor], engine: Engine) -> None:
    key = "US001/K9001/FINANCE/1"
    assert v["admin"].act(key, "ready").status_code == 303
    assert v["admin"].act(key, "submit", seq="2").status_code == 303
    assert v["approver1"].act(key, "approve", seq="2").status_code == 303
    result = process(engine, RunControl(as_of=Settings().today(), contract=story.K9001), Settings())
    assert result.milestones_completed == 2  # PLANNING and FINANCE


def test_save_and_complete_closes_the_contract(visitor: Make, engine: Engine) -> None:
    v = {u: visitor(u) for u in ("admin", "approver1", "approver2", "viewer")}
    _finance_completed(v, engine)
    key = "US001/K9001/LEADERSHIP/1"
    assert v["admin"].act(key, "ready").status_code == 303
    assert v["admin"].act(key, "submit", seq="1").status_code == 303
    page = v["approver2"].get(CONTRACT).text
    assert 'data-testid="save-complete-m-LEADERSHIP-1-1"' in page
    assert 'data-testid="save-complete-m-FINANCE-1-2"' not in page  # not enabled there (and it is done)
    closed = v["approver2"].act(key, "approve", seq="1", complete_contract="1")
    assert closed.status_code == 303
    page = v["approver2"].get(CONTRACT).text
    assert "contract US001/K9001 is Closed (Save &amp; Complete)" in page
    assert v["viewer"].get(f"{CONTRACT}.json").json()["status"] == "Closed"


def test_mark_complete_and_undo_from_the_page(visitor: Make, session: Session) -> None:
    who = Who("setup", dt.datetime(2026, 1, 1))
    added = milestones.add_milestone(session, story.K9002, "SIGN", who, descr="Customer signature")
    key = MilestoneKey(story.K9002, added.milestone_id, added.milestone_num)
    milestones.add_condition(session, key, ConditionSpec(ConditionType.USER, descr="Signed"), who)
    session.commit()
    admin = visitor("admin")
    early = admin.act(str(key), "complete", seq="1")
    assert early.status_code == 409
    assert (
        refusal(early)
        == "condition 1 of milestone US001/K9002/SIGN/1: Mark Complete needs the milestone Ready, it is Pending"
    )
    admin.act(str(key), "ready")
    assert 'data-testid="complete-m-SIGN-1-1"' in admin.get("/contracts/US001/K9002").text
    assert admin.act(str(key), "complete", seq="1").status_code == 303
    card = admin.get(f"/milestones/{key}.json").json()
    assert card["conditions"][0]["status"] == "Completed" and card["conditions"][0]["actions"] == ["undo"]
    assert admin.act(str(key), "undo", seq="1").status_code == 303
    assert admin.get(f"/milestones/{key}.json").json()["conditions"][0]["status"] == "Ready"


def test_a_dry_run_started_from_the_runs_page(app: FastAPI) -> None:
    admin = Visitor(app)
    admin.sign_in("admin")
    admin.get("/runs")
    started = admin.post("/runs/start", {"contract": "US001/K9001", "dry_run": "1"})
    assert started.status_code == 303, started.text
    watch = started.headers["location"]
    page = admin.get(watch)
    assert page.status_code == 200 and 'data-poll="' in page.text
    deadline = time.monotonic() + 60
    while not (state := admin.get(f"{watch}.json").json())["ended"]:
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    assert state["state"] == "Done", state
    assert state["run_control"]["dry_run"] is True
    assert "Dry run: 1 of 1 Ready milestones would complete" in admin.get(watch).text
    with TestClient(app) as anon:
        assert anon.get(f"{watch}.json").status_code == 401
