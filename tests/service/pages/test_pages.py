"""Page handlers over the real app and database (SQLite and PostgreSQL): status codes, what each role sees,
the forms' refusals in the rule's words, CSRF, escaping, and that every page's JSON twin is its data."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from contracts import milestones
from contracts.audit import Who
from contracts.keys import MilestoneKey
from contracts.specs import ConditionSpec
from contracts.status import ConditionType
from ms_prcs.service.pages import story
from tests.service.conftest import snapshot
from tests.service.pages.conftest import Visitor, refusal

Make = Callable[[str | None], Visitor]
FINANCE = "US001/K9001/FINANCE/1"
CONTRACT = "/contracts/US001/K9001"


def test_anonymous_people_are_sent_to_sign_in_and_programs_get_401(visitor: Make) -> None:
    anon = visitor(None)
    answer = anon.get("/contracts?gate=Approval")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/contracts?gate=Approval"
    assert anon.get("/contracts.json").status_code == 401
    assert anon.get("/sign-in").status_code == 200


def test_sign_in_shows_the_user_and_a_wrong_password_is_refused(visitor: Make) -> None:
    anon = visitor(None)
    wrong = anon.sign_in("admin", "not-the-password")
    assert wrong.status_code == 401
    assert refusal(wrong) == "wrong user id or password"
    person = visitor("approver1")
    page = person.get("/inbox")
    assert page.status_code == 200
    assert "Signed in as <strong>approver1</strong>" in page.text
    out = person.post("/sign-out")
    assert out.status_code == 303
    assert person.get("/inbox").status_code == 303


def test_sign_in_goes_back_only_to_a_local_page(visitor: Make) -> None:
    anon = visitor(None)
    anon.get("/sign-in")
    answer = anon.post(
        "/sign-in", {"user": "viewer", "password": story.PEOPLE[3].password, "next": "//evil.example/x"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/inbox"


def test_contracts_filter_by_stage_gate_and_status_and_page(visitor: Make) -> None:
    viewer = visitor("viewer")
    every = viewer.get("/contracts.json").json()
    assert [r["contract"] for r in every["items"]] == ["US001/K9001", "US001/K9002"]
    approval = viewer.get("/contracts.json?gate=Approval").json()
    assert [(r["contract"], r["gate"], r["gate_status"]) for r in approval["items"]] == [
        ("US001/K9001", "Approval", "Not Started")
    ]
    active = viewer.get("/contracts.json?gate=Plan&gate_status=Active").json()
    assert [r["contract"] for r in active["items"]] == ["US001/K9001", "US001/K9002"]
    assert viewer.get("/contracts.json?gate=Approval&gate_status=Complete").json()["items"] == []
    assert viewer.get("/contracts.json?status=Closed").json()["total"] == 0
    page = viewer.get("/contracts?gate=Approval")
    assert page.status_code == 200
    assert page.text.count('data-testid="contract-row"') == 1
    assert '<option value="Approval" selected>' in page.text
    second = viewer.get("/contracts.json?offset=1").json()
    assert (second["total"], second["offset"], [r["contract"] for r in second["items"]]) == (
        2,
        1,
        ["US001/K9002"],
    )
    bad = viewer.get("/contracts?gate_status=Sideways")
    assert bad.status_code == 422
    assert "gate status &#39;Sideways&#39; is not one of Not Started, Active, Complete" in bad.text


def test_the_contract_page_groups_panels_and_gates_in_step_order(visitor: Make) -> None:
    data = visitor("viewer").get(f"{CONTRACT}.json").json()
    layout = [
        (
            p["panel"],
            [(g["gate"], g["status"], [m["milestone"] for m in g["milestones"]]) for g in p["gates"]],
        )
        for p in data["panels"]
    ]
    assert layout == [
        ("Milestones", [("Plan", "Active", ["US001/K9001/PLANNING/1"])]),
        (
            "Approvals",
            [("Approval", "Not Started", ["US001/K9001/FINANCE/1", "US001/K9001/LEADERSHIP/1"])],
        ),
    ]
    finance = data["panels"][1]["gates"][0]["milestones"][0]
    assert finance["blocks"] == ["Closed"]
    assert finance["approval"] == "Not Ready for Approval"
    assert finance["why_not_complete"].startswith("it is Pending")


def test_what_each_role_is_offered(visitor: Make) -> None:
    admin_page = visitor("admin").get(CONTRACT)
    assert 'data-testid="ready-m-FINANCE-1"' in admin_page.text
    assert 'data-testid="cancel-m-FINANCE-1"' in admin_page.text
    viewer_page = visitor("viewer").get(CONTRACT)
    # FINANCE is classified CONTRACTS (role contract-admin): nothing to do for a viewer
    assert 'data-testid="ready-m-FINANCE-1"' not in viewer_page.text
    assert 'title="Blocks contract status Closed until this milestone is Completed"' in viewer_page.text
    assert 'role="tooltip"' in viewer_page.text and 'tabindex="0"' in viewer_page.text
    assert "Runs" in viewer_page.text and 'href="/reports"' not in viewer_page.text
    assert 'href="/reports"' in admin_page.text


def test_the_approval_cycle_through_the_forms(visitor: Make, engine: Engine) -> None:
    admin, approver1, approver2, viewer = (visitor(u) for u in ("admin", "approver1", "approver2", "viewer"))
    assert admin.act(FINANCE, "ready").status_code == 303
    page = admin.get(CONTRACT)
    assert "milestone US001/K9001/FINANCE/1 is Ready" in page.text  # the one-time message
    assert 'data-testid="submit-m-FINANCE-1-2"' in page.text and "Submit for Finance sign-off" in page.text
    assert "milestone US001/K9001/FINANCE/1 is Ready" not in admin.get(CONTRACT).text  # shown once
    assert admin.act(FINANCE, "submit", seq="2").status_code == 303

    inbox = approver1.get("/inbox.json").json()["items"]
    assert [(i["milestone"], i["approval"]) for i in inbox] == [(FINANCE, "Ready for Approval")]
    assert inbox[0]["contract_link"] == "/contracts/US001/K9001#m-FINANCE-1"
    assert 'data-testid="approve-m-FINANCE-1-2"' in approver1.get(CONTRACT).text
    assert 'data-testid="approve-m-FINANCE-1-2"' not in viewer.get(CONTRACT).text

    before = snapshot(engine)
    refused = approver1.act(FINANCE, "deny", seq="2", note="  ")
    assert refused.status_code == 409
    assert refusal(refused) == (
        "approval of condition 2 of milestone US001/K9001/FINANCE/1: a note is required to deny it"
        " (note required on deny)"
    )
    not_approver = viewer.act(FINANCE, "approve", seq="2")
    assert not_approver.status_code == 403
    assert "user viewer is not allowed: the approver rule allows role approver" in refusal(not_approver)
    forged = viewer.post(f"/milestones/{FINANCE}/do/approve", {"seq": "2", "back": "contract"}, csrf=False)
    assert forged.status_code == 403
    assert "CSRF token is missing or wrong" in forged.text
    other_browser = visitor("approver1")
    stolen = other_browser.post(
        f"/milestones/{FINANCE}/do/approve", {"seq": "2", "csrf_token": viewer.token}, csrf=False
    )
    assert stolen.status_code == 403  # a token is only good with its own browser's cookie
    assert snapshot(engine) == before

    assert approver1.act(FINANCE, "deny", seq="2", note="margin too thin").status_code == 303
    assert admin.act(FINANCE, "submit", seq="2").status_code == 303
    assert approver2.act(FINANCE, "approve", seq="2", note="fine now").status_code == 303
    detail = admin.get(f"/milestones/{FINANCE}.json").json()
    assert [(h["action"], h["by"], h["note"]) for h in detail["approval_history"]] == [
        ("Submitted", "admin", ""),
        ("Not Approved", "approver1", "margin too thin"),
        ("Submitted", "admin", ""),
        ("Approved", "approver2", "fine now"),
    ]
    assert detail["approval"] == "Approved"
    assert 'data-testid="approval-history"' in admin.get(f"/milestones/{FINANCE}").text


def test_condition_edits_only_while_pending_in_the_rules_words(visitor: Make) -> None:
    admin = visitor("admin")
    admin.act(FINANCE, "ready")
    edit = {"seq": "1", "type": "date", "date": "2020-01-01", "descr": "Budget date", "back": "milestone"}
    refused = admin.act(FINANCE, "condition-edit", **edit)
    assert refused.status_code == 409
    assert refusal(refused) == (
        "milestone US001/K9001/FINANCE/1: conditions can be changed only while the milestone is Pending; it is Ready"
    )
    assert admin.act(FINANCE, "pending").status_code == 303
    done = admin.act(FINANCE, "condition-edit", **edit)
    assert done.status_code == 303 and done.headers["location"] == f"/milestones/{FINANCE}"
    conditions = admin.get(f"/milestones/{FINANCE}.json").json()["conditions"]
    assert (conditions[0]["condition_date"], conditions[0]["descr"]) == ("2020-01-01", "Budget date")
    added = admin.act(FINANCE, "condition-add", type="user", descr="Legal check", back="milestone")
    assert added.status_code == 303
    bad = admin.act(FINANCE, "condition-add", type="date", sql="SELECT 1", back="milestone")
    assert bad.status_code == 422
    assert "a Date condition has no sql_text" in refusal(bad)
    assert admin.act(FINANCE, "condition-delete", seq="3", back="milestone").status_code == 303
    assert admin.act(FINANCE, "ready").status_code == 303


def test_cancel_refused_lists_what_references_the_milestone(visitor: Make, session: Session) -> None:
    planning = MilestoneKey.parse("US001/K9002/PLANNING/1")
    who = Who("setup", dt.datetime(2026, 1, 1))
    waiting = milestones.add_milestone(session, planning.contract, "AFTER", who, descr="After planning")
    after = MilestoneKey(planning.contract, waiting.milestone_id, waiting.milestone_num)
    milestones.add_condition(session, after, ConditionSpec(ConditionType.MILESTONE, ref=planning), who)
    session.commit()
    answer = visitor("admin").act(str(planning), "cancel")
    assert answer.status_code == 409
    assert "condition 1 of milestone US001/K9002/AFTER/1" in refusal(answer)


def test_what_users_typed_is_shown_as_text(visitor: Make, session: Session) -> None:
    who = Who("setup", dt.datetime(2026, 1, 1))
    key = story.K9002
    added = milestones.add_milestone(session, key, "XSS", who, descr='<script>alert("x")</script>')
    mkey = MilestoneKey(key, added.milestone_id, added.milestone_num)
    milestones.add_condition(session, mkey, ConditionSpec(ConditionType.USER, descr="<b>bold</b>"), who)
    session.commit()
    admin = visitor("admin")
    for path in ("/contracts/US001/K9002", f"/milestones/{mkey}"):
        text = admin.get(path).text
        assert "<script>alert" not in text and "<b>bold" not in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert admin.get(f"/milestones/{mkey}.json").json()["descr"] == '<script>alert("x")</script>'
    edited = admin.act(str(mkey), "condition-edit", seq="1", type="user", descr="<i>x</i>", back="milestone")
    assert edited.status_code == 303
    assert "&lt;i&gt;x&lt;/i&gt;" in admin.get(f"/milestones/{mkey}").text


def test_pages_of_unknown_keys_are_404_pages(visitor: Make) -> None:
    viewer = visitor("viewer")
    page = viewer.get("/contracts/US001/NOPE")
    assert page.status_code == 404 and "contract US001/NOPE" in page.text
    assert viewer.get("/milestones/US001/K9001/NOPE/1.json").status_code == 404
    assert viewer.get("/runs/999").status_code == 404


def test_reports_need_the_reports_role(visitor: Make) -> None:
    admin, viewer = visitor("admin"), visitor("viewer")
    page = admin.get("/reports/activity")
    assert page.status_code == 200
    assert '<img src="data:image/png;base64,' in page.text and "Download CSV" in page.text
    for name in ("impact", "cycle-time"):
        assert admin.get(f"/reports/{name}").status_code == 200
    csv = admin.get("/reports/cycle-time.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert viewer.get("/reports/activity").status_code == 403
    assert viewer.get("/reports/activity.csv").status_code == 403
    assert admin.get("/reports/nope").status_code == 404


def test_runs_start_only_with_the_run_right(visitor: Make) -> None:
    admin, viewer = visitor("admin"), visitor("viewer")
    assert 'data-testid="start-run"' in admin.get("/runs").text
    assert 'data-testid="start-run"' not in viewer.get("/runs").text
    refused = viewer.post("/runs/start", {"contract": "US001/K9001"})
    assert refused.status_code == 403
    assert "run needs the role ms-prcs-run" in refusal(refused)
    unknown = admin.post("/runs/start", {"contract": "US001/NOPE"})
    assert unknown.status_code == 404 and refusal(unknown) == "contract US001/NOPE does not exist"


def test_every_form_of_every_page_carries_the_csrf_token(visitor: Make) -> None:
    """The token is in the page's forms themselves (the Visitor adds one only when told to, as here)."""
    admin = visitor("admin")
    admin.act(FINANCE, "ready")
    form_open = re.compile(r'<form[^>]*method="post"[^>]*>(.*?)</form>', re.S)
    for path in (CONTRACT, f"/milestones/{FINANCE}", "/runs", "/inbox", "/contracts"):
        text = admin.get(path).text
        forms = form_open.findall(text)
        assert forms, path
        for body in forms:
            assert f'name="csrf_token" value="{admin.token}"' in body, (path, body[:200])
    page = admin.get(CONTRACT)
    first = form_open.search(page.text.split("<main>", 1)[1])
    assert first is not None
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', first.group(1)))
    action = re.search(r'action="([^"]+)"', page.text.split("<main>", 1)[1])
    assert action is not None
    answer = admin.post(action.group(1), fields, csrf=False)  # exactly what the browser would send
    assert answer.status_code == 303, answer.text


def test_only_the_contract_team_is_offered_submit(visitor: Make) -> None:
    admin, viewer = visitor("admin"), visitor("viewer")
    admin.act(FINANCE, "ready")
    assert 'data-testid="submit-m-FINANCE-1-2"' in admin.get(CONTRACT).text
    assert 'data-testid="submit-m-FINANCE-1-2"' not in viewer.get(CONTRACT).text
    refused = viewer.act(FINANCE, "submit", seq="2")
    assert refused.status_code == 403
    assert "only members of the contract's team may edit it (admin, approver1, approver2)" in refusal(refused)


def test_the_inbox_lists_past_due_first(visitor: Make, session: Session) -> None:
    from ms_prcs.approvals.config.structure import WorkflowSpec, set_milestone_workflow
    from ms_prcs.approvals.inbox import assign

    admin, approver1 = visitor("admin"), visitor("approver1")
    admin.act(FINANCE, "ready")
    admin.act(FINANCE, "submit", seq="2")
    leadership = MilestoneKey.parse("US001/K9001/LEADERSHIP/1")
    who = Who("admin", dt.datetime.now(dt.UTC).replace(tzinfo=None))
    late = WorkflowSpec(ready_by_date=who.at.date() - dt.timedelta(days=3))
    set_milestone_workflow(session, leadership, late, who)
    assign(session, leadership, "approver1", who)
    session.commit()
    items = approver1.get("/inbox.json").json()["items"]
    assert [(i["milestone"], i["past_due"]) for i in items] == [
        ("US001/K9001/LEADERSHIP/1", True),
        (FINANCE, False),
    ]
    assert items[0]["past_due_words"].startswith("not submitted by ")
    page = approver1.get("/inbox").text
    assert page.index("LEADERSHIP") < page.index("FINANCE") and "Past Due" in page
