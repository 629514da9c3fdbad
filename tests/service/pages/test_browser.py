"""The pages in a real browser: Debian's Chromium driven by Playwright (never downloaded: the executable is
``/usr/bin/chromium``), against the app served by uvicorn on a free loopback port over a real SQLite file.

One story, in the order people live it: a contract administrator readies a milestone, is refused a condition
edit while it is Ready, sets it back to Pending, edits, readies it again and submits it; an approver finds it in
the inbox, is refused a denial without a note, denies with one; the administrator resubmits; a second
approver approves; a run started from the Runs page completes it and the contract page shows it Completed.
A viewer sees no approve button and a forged POST is refused. Screenshots of the main pages go to
``$MS_PRCS_ARTIFACTS`` (default ``tests/artifacts/``, not committed).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session

from ms_prcs.db import make_engine
from ms_prcs.service.app import create_app
from ms_prcs.service.pages import ROUTERS, story
from ms_prcs.settings import Settings
from tests.service.conftest import free_port, service_settings
from tests.service.pages.conftest import PASSWORDS

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"Chromium is not installed at {CHROMIUM} (.ci/run installs it)"
)
pw = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

FINANCE, LEADERSHIP = "m-FINANCE-1", "m-LEADERSHIP-1"
CONTRACT = "/contracts/US001/K9001"


def artifacts() -> Path:
    root = Path(os.environ.get("MS_PRCS_ARTIFACTS") or Path(__file__).resolve().parents[2] / "artifacts")
    path = root / "pages"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """``ms-prcs serve``'s app (API and pages) on a free loopback port, over a SQLite file with the story."""
    path = tmp_path_factory.mktemp("browser") / "pages.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        story.build(session, Settings().today())
    engine.dispose()
    port = free_port()
    app = create_app(service_settings(url), page_routers=ROUTERS)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/healthz").status_code == 200
    try:
        yield base
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with pw.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def person(browser: object, base: str, user: str, *, width: int = 1100) -> object:
    """A page of a new browser context (its own cookies) signed in as ``user``."""
    context = browser.new_context(base_url=base, viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/sign-in")
    page.fill("#user", user)
    page.fill("#password", PASSWORDS[user])
    page.click("form.card button[type=submit]")
    pw.expect(page.get_by_test_id("signed-in-user")).to_contain_text(user)
    return page


def shot(page: object, name: str) -> None:
    page.screenshot(path=str(artifacts() / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def refusal(page: object) -> object:
    return page.get_by_test_id("refusal")  # type: ignore[attr-defined]


def test_the_approval_story_in_chromium(server: str, browser: object) -> None:
    expect = pw.expect
    admin = person(browser, server, "admin")
    admin.goto(CONTRACT)
    # the description on hover and on focus, the blocking mark with the statuses it blocks
    tip = admin.locator(f"#descr-{FINANCE}")
    expect(tip).to_be_hidden()
    admin.hover(f'[data-testid="descr-{FINANCE}-trigger"]')
    expect(tip).to_be_visible()
    expect(tip).to_have_text("Finance approval: budget and margin checked by Finance")
    admin.mouse.move(0, 0)
    expect(tip).to_be_hidden()
    admin.focus(f'[data-testid="descr-{FINANCE}-trigger"]')
    expect(tip).to_be_visible()
    mark = admin.get_by_test_id(f"blocks-{FINANCE}-trigger")
    expect(mark).to_be_visible()
    expect(mark).to_have_attribute("title", "Blocks contract status Closed until this milestone is Completed")
    mark.hover()
    expect(admin.locator(f"#blocks-{FINANCE}")).to_be_visible()
    shot(admin, "contract-before")

    # Ready; a condition edit while Ready is refused with the rule's words; Pending, edit, Ready again
    admin.get_by_test_id(f"ready-{FINANCE}").click()
    expect(admin.get_by_test_id(f"status-{FINANCE}")).to_have_text("Ready")
    admin.goto("/milestones/US001/K9001/FINANCE/1")
    admin.get_by_test_id("edit-condition-1").click()
    admin.get_by_test_id("descr-1").fill("Budget confirmed (revised)")
    admin.get_by_test_id("save-condition-1").click()
    expect(refusal(admin)).to_have_text(
        "milestone US001/K9001/FINANCE/1: conditions can be changed only while the milestone is Pending; it is Ready"
    )
    admin.get_by_test_id(f"pending-{FINANCE}").click()
    expect(admin.get_by_test_id(f"status-{FINANCE}")).to_have_text("Pending")
    admin.get_by_test_id("edit-condition-1").click()
    admin.get_by_test_id("descr-1").fill("Budget confirmed (revised)")
    admin.get_by_test_id("save-condition-1").click()
    expect(admin.locator(".flash.ok")).to_contain_text(
        "condition 1 of milestone US001/K9001/FINANCE/1 updated"
    )
    admin.get_by_test_id(f"ready-{FINANCE}").click()
    expect(admin.get_by_test_id(f"status-{FINANCE}")).to_have_text("Ready")
    admin.get_by_role("button", name="Submit for Finance sign-off").click()
    expect(admin.get_by_test_id(f"approval-{FINANCE}")).to_have_text("Ready for Approval")
    shot(admin, "milestone")

    # the first approver: the inbox, a denial without a note refused, then with one
    approver1 = person(browser, server, "approver1")
    item = approver1.get_by_test_id("inbox-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("condition 2 of US001/K9001/FINANCE/1")
    shot(approver1, "inbox")
    item.get_by_role("link").click()
    approver1.get_by_test_id(f"deny-{FINANCE}-2").click()
    expect(refusal(approver1)).to_contain_text("a note is required to deny it")
    expect(approver1.get_by_test_id(f"approval-{FINANCE}")).to_have_text("Ready for Approval")
    approver1.get_by_test_id(f"note-{FINANCE}-2").fill("Margin below 20 %: <b>revise</b>")
    approver1.get_by_test_id(f"deny-{FINANCE}-2").click()
    expect(approver1.get_by_test_id(f"approval-{FINANCE}")).to_have_text("Not Approved")
    expect(approver1.locator(f"#{FINANCE}")).to_contain_text("Margin below 20 %: <b>revise</b>")  # as text

    # the submitter resubmits, the second approver approves
    admin.goto(CONTRACT)
    admin.get_by_test_id(f"submit-{FINANCE}-2").click()
    expect(admin.get_by_test_id(f"approval-{FINANCE}")).to_have_text("Ready for Approval")
    approver2 = person(browser, server, "approver2")
    approver2.goto(CONTRACT)
    approver2.get_by_test_id(f"note-{FINANCE}-2").fill("Revised budget is fine")
    approver2.get_by_test_id(f"approve-{FINANCE}-2").click()
    expect(approver2.get_by_test_id(f"approval-{FINANCE}")).to_have_text("Approved")

    # a run started from the Runs page completes it; progress is followed until it ends
    admin.goto("/runs")
    admin.get_by_test_id("run-contract").fill("US001/K9001")
    admin.get_by_test_id("start-run").click()
    expect(admin.get_by_test_id("request-state")).to_have_text("Done", timeout=30_000)
    admin.get_by_test_id("run-link").click()
    expect(admin.get_by_test_id("run-outcome")).to_have_text(re.compile("^(Success|Warning)$"))
    shot(admin, "run")
    admin.goto(CONTRACT)
    expect(admin.get_by_test_id(f"status-{FINANCE}")).to_have_text("Completed")
    expect(admin.get_by_test_id(f"blocks-{FINANCE}-trigger")).to_have_count(0)  # it blocks nothing now
    admin.get_by_test_id(f"ready-{LEADERSHIP}").click()
    admin.get_by_test_id(f"submit-{LEADERSHIP}-1").click()
    expect(admin.get_by_test_id(f"approval-{LEADERSHIP}")).to_have_text("Ready for Approval")
    shot(admin, "contract")

    # a viewer: no approve button, and a forged POST (no CSRF token) is refused
    approver1.goto(CONTRACT)
    expect(approver1.get_by_test_id(f"approve-{LEADERSHIP}-1")).to_be_visible()
    viewer = person(browser, server, "viewer", width=390)  # phone width
    viewer.goto(CONTRACT)
    expect(viewer.get_by_test_id(f"status-{LEADERSHIP}")).to_have_text("Ready")
    expect(viewer.get_by_test_id(f"approve-{LEADERSHIP}-1")).to_have_count(0)
    expect(viewer.get_by_test_id(f"ready-{LEADERSHIP}")).to_have_count(0)
    shot(viewer, "contract-phone")
    forged = viewer.request.post(
        f"{server}/milestones/US001/K9001/LEADERSHIP/1/do/approve", form={"seq": "1", "back": "contract"}
    )
    assert forged.status == 403
    assert "CSRF token is missing or wrong" in forged.text()
    viewer.reload()
    expect(viewer.get_by_test_id(f"approval-{LEADERSHIP}")).to_have_text("Ready for Approval")

    # the stage-gate filter of the contracts list
    viewer.goto("/contracts")
    expect(viewer.get_by_test_id("contract-row")).to_have_count(2)
    viewer.get_by_test_id("filter-gate").select_option("Approval")
    viewer.get_by_role("button", name="Filter").click()
    expect(viewer.get_by_test_id("contract-row")).to_have_count(1)
    expect(viewer.get_by_test_id("contract-row")).to_contain_text("US001/K9001")
    viewer.get_by_test_id("filter-gate_status").select_option("Complete")
    viewer.get_by_role("button", name="Filter").click()
    expect(viewer.get_by_test_id("contract-row")).to_have_count(0)
    shot(viewer, "contracts")
    approver2.goto("/reports/activity")
    expect(approver2.locator(".report img")).to_be_visible()
    shot(approver2, "report-activity")
