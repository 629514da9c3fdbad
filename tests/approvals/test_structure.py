"""Issue 7, the structure half: a scenario per paragraph of the seed's Milestones Module page that it owns
(order of milestones, stage gates, optional milestones, unset actions, blocking, the reopen rule), driven
through the command line on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import CliInvoke

K = "US001/K1"
AS_OF = "2026-02-01"


def ok(cli: CliInvoke, *args: str, user: str = "admin") -> str:
    result = cli(*args, user=user)
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(cli: CliInvoke, *args: str, user: str = "admin") -> str:
    result = cli(*args, user=user)
    assert result.exit_code == 1, result.output
    return result.stderr


def data(cli: CliInvoke, *args: str) -> Any:
    return json.loads(ok(cli, *args, "--json"))


def status(cli: CliInvoke, key: str) -> str:
    return str(data(cli, "milestone", "show", key)["status"])


def condition_status(cli: CliInvoke, key: str, seq: int = 1) -> str:
    return str(data(cli, "milestone", "show", key)["conditions"][seq - 1]["status"])


def setup(cli: CliInvoke, *templates: str) -> None:
    ok(cli, "bu", "add", "US001")
    ok(cli, "bu", "add", "EU001")
    ok(cli, "contract", "add", K)
    ok(cli, "contract", "line", "add", K, "1", "--amount", "1000")
    for mid in templates:
        ok(cli, "template", "milestone", "add", mid, "--descr", f"{mid} sign-off", "--condition", "type=user")


def user_milestone(cli: CliInvoke, mid: str, *, step: int | None = None, sub: int | None = None) -> str:
    """A Ready milestone from template ``mid`` with one User Initiated condition, in ``step``."""
    key = ok(cli, "milestone", "add", K, mid, "--template").split()[1]
    if step is not None:
        ok(cli, "milestone", "step", key, str(step), *([str(sub)] if sub is not None else []))
    ok(cli, "milestone", "ready", key)
    return key


# --- Decide the order of Milestones ------------------------------------------------------------------


def test_engine_completes_steps_in_order_within_one_run(cli: CliInvoke) -> None:
    setup(cli, "MS1", "MS2", "MS3", "MS4")
    # added in reverse so that later steps have the lower ids (the run takes them first)
    s3 = user_milestone(cli, "MS3", step=3)
    s2b = user_milestone(cli, "MS2", step=2)
    s1 = user_milestone(cli, "MS1", step=1)
    free = user_milestone(cli, "MS4")  # no step: no order
    for key in (s3, s2b, s1, free):
        ok(cli, "condition", "complete", key, "1")
    ok(cli, "run", "--as-of", AS_OF)
    assert [status(cli, k) for k in (s1, s2b, s3, free)] == ["Completed"] * 4


def test_a_later_step_waits_for_an_open_earlier_step_but_not_an_any_time_one(cli: CliInvoke) -> None:
    setup(cli, "MS1", "MS2", "MS3")
    first = user_milestone(cli, "MS1", step=1)
    second = user_milestone(cli, "MS2", step=2)
    anytime = user_milestone(cli, "MS3", step=2)
    ok(cli, "milestone", "workflow", anytime, "--any-time")
    ok(cli, "condition", "complete", second, "1")
    ok(cli, "condition", "complete", anytime, "1")
    ok(cli, "run", "--as-of", AS_OF)
    assert (status(cli, first), status(cli, second), status(cli, anytime)) == ("Ready", "Ready", "Completed")
    ok(cli, "condition", "complete", first, "1")
    ok(cli, "run", "--as-of", AS_OF)
    assert status(cli, second) == "Completed"


def test_sub_steps_order_within_a_step_and_same_step_is_any_order(cli: CliInvoke) -> None:
    setup(cli, "MS1", "MS2", "MS3")
    a = user_milestone(cli, "MS1", step=1, sub=2)
    b = user_milestone(cli, "MS2", step=1, sub=1)
    c = user_milestone(cli, "MS3", step=1)  # same step, no sub-step: any order
    ok(cli, "condition", "complete", a, "1")
    ok(cli, "condition", "complete", c, "1")
    ok(cli, "run", "--as-of", AS_OF)
    assert (status(cli, a), status(cli, b), status(cli, c)) == ("Ready", "Ready", "Completed")
    listed = data(cli, "milestone", "list", K)
    assert {r["milestone"]: r["step"] for r in listed} == {a: "1.2", b: "1.1", c: "1"}


def test_step_is_copied_from_the_template(cli: CliInvoke) -> None:
    setup(cli, "MS1")
    ok(cli, "template", "milestone", "workflow", "MS1", "--step", "2", "--sub-step", "1", "--gate", "Finance")
    key = ok(cli, "milestone", "add", K, "MS1", "--template").split()[1]
    row = data(cli, "milestone", "list", K)[0]
    assert (row["milestone"], row["step"], row["gate"]) == (key, "2.1", "Finance")


# --- Block Item Statuses with Milestone Approvals -----------------------------------------------------


def test_a_milestone_blocks_contract_statuses_until_completed(cli: CliInvoke) -> None:
    setup(cli, "MS1")
    key = user_milestone(cli, "MS1")
    assert ok(cli, "milestone", "block", key, "--status", "Active,Closed") == (
        f"milestone {key} blocks Active, Closed until it is Completed\n"
    )
    assert refused(cli, "contract", "status", K, "active") == (
        f"Error: contract {K}: cannot be set Active: blocked until these milestones are Completed: {key} (Ready)\n"
    )
    assert data(cli, "contract", "show", K)["status"] == "Pending"
    ok(cli, "condition", "complete", key, "1")
    ok(cli, "run", "--as-of", AS_OF)
    ok(cli, "contract", "status", K, "active")


# --- the reopen rule (Pro Tip of "Unset Actions") ------------------------------------------------------


def test_a_contract_reopens_only_when_all_milestones_were_completed(cli: CliInvoke) -> None:
    setup(cli, "MS1", "MS2")
    done = user_milestone(cli, "MS1")
    open_one = user_milestone(cli, "MS2")
    ok(cli, "condition", "complete", done, "1")
    ok(cli, "run", "--as-of", AS_OF)
    ok(cli, "contract", "status", K, "active")
    ok(cli, "contract", "status", K, "closed")
    assert refused(cli, "contract", "status", K, "active") == (
        f"Error: contract {K}: cannot be reopened: a contract can be reopened only if all its milestones were"
        f" Completed before it closed; not Completed: {open_one} (Ready)\n"
    )
    ok(cli, "milestone", "cancel", open_one)
    ok(cli, "contract", "status", K, "active")


# --- Specify actions that revert an Approved Milestone (Unset Actions) --------------------------------


def _unset_scenario(cli: CliInvoke, unset: str) -> tuple[str, str, str, str]:
    """Step 1 carries the unset action; step 2 follows; a Completed step-0 milestone has it too."""
    setup(cli, "MS1", "MS2", "MS3", "MS4")
    first = user_milestone(cli, "MS1", step=1)
    later = user_milestone(cli, "MS2", step=2)
    unrelated = user_milestone(cli, "MS3")
    final = user_milestone(cli, "MS4")
    ok(cli, "milestone", "workflow", first, "--unset-on", unset)
    ok(cli, "milestone", "workflow", final, "--unset-on", unset)
    ok(cli, "condition", "complete", final, "1")
    ok(cli, "run", "--as-of", AS_OF)
    assert status(cli, final) == "Completed"
    for key in (first, later, unrelated):
        ok(cli, "condition", "complete", key, "1")
    return first, later, unrelated, final


def _assert_reverted(cli: CliInvoke, first: str, later: str, unrelated: str, final: str) -> None:
    assert condition_status(cli, first) == "Ready"
    assert condition_status(cli, later) == "Ready"  # every later step reverts too
    assert condition_status(cli, unrelated) == "Completed"  # no unset action, no step: untouched
    assert (status(cli, final), condition_status(cli, final)) == ("Completed", "Completed")  # final
    history = data(cli, "milestone", "show", first)["history"]
    assert any(h["reason"].startswith("unset action") and h["new"] == "Ready" for h in history)


def test_amount_change_unsets_approvals_and_later_steps(cli: CliInvoke) -> None:
    keys = _unset_scenario(cli, "amount")
    out = ok(cli, "contract", "line", "amount", K, "1", "2500")
    assert f"condition 1 of milestone {keys[0]} reverted to Ready" in out
    _assert_reverted(cli, *keys)


def test_detail_change_unsets_approvals(cli: CliInvoke) -> None:
    keys = _unset_scenario(cli, "detail")
    ok(cli, "contract", "attr", "set", K, "Priority", "High")
    _assert_reverted(cli, *keys)


def test_reopen_unsets_approvals(cli: CliInvoke, db_url: str) -> None:
    setup(cli, "MS1", "MS2")
    first = user_milestone(cli, "MS1", step=1)
    later = user_milestone(cli, "MS2", step=2)
    ok(cli, "milestone", "workflow", first, "--unset-on", "reopen")
    ok(cli, "condition", "complete", first, "1")
    ok(cli, "condition", "complete", later, "1")
    ok(cli, "run", "--as-of", AS_OF)
    ok(cli, "contract", "status", K, "active")
    ok(cli, "contract", "status", K, "closed")
    ok(cli, "contract", "status", K, "active")  # all Completed: reopen allowed, nothing open to revert
    assert (status(cli, first), condition_status(cli, first)) == ("Completed", "Completed")


def test_amount_change_without_unset_action_changes_nothing(cli: CliInvoke) -> None:
    setup(cli, "MS1")
    key = user_milestone(cli, "MS1", step=1)
    ok(cli, "condition", "complete", key, "1")
    assert ok(cli, "contract", "line", "amount", K, "1", "99") == f"line 1 of contract {K} amount 99\n"
    assert condition_status(cli, key) == "Completed"


# --- Group Milestones into Stage Gates ---------------------------------------------------------------


def test_stage_gates_status_and_filters(cli: CliInvoke) -> None:
    setup(cli, "MS1", "MS2", "MS3")
    ok(cli, "contract", "add", "US001/K2")
    a = user_milestone(cli, "MS1", step=1)
    b = user_milestone(cli, "MS2", step=2)
    c = user_milestone(cli, "MS3", step=3)
    ok(cli, "milestone", "workflow", a, "--gate", "Define")
    ok(cli, "milestone", "workflow", b, "--gate", "Approve")
    ok(cli, "milestone", "workflow", c, "--gate", "Approve")
    gates = data(cli, "gate", "list", K)
    assert [(g["gate"], g["status"]) for g in gates] == [("Define", "Active"), ("Approve", "Not Started")]
    ok(cli, "condition", "complete", a, "1")
    ok(cli, "run", "--as-of", AS_OF)
    gates = data(cli, "gate", "list", K)
    assert [(g["gate"], g["status"], g["completed"]) for g in gates] == [
        ("Define", "Complete", 1),
        ("Approve", "Active", 0),
    ]
    listed = data(cli, "milestone", "list", "--gate", "Approve")
    assert [r["milestone"] for r in listed] == [b, c]
    assert [r["milestone"] for r in data(cli, "milestone", "list", "--gate-status", "complete")] == [a]
    contracts = data(cli, "contract", "list", "--gate", "Define", "--gate-status", "Complete")
    assert [(r["contract"], r["gate"], r["gate_status"]) for r in contracts] == [(K, "Define", "Complete")]
    assert data(cli, "contract", "list", "--gate-status", "not-started") == []
    table = ok(cli, "contract", "list")
    assert "gate_status" in table and "Approve" in table


# --- Add Optional Milestones ---------------------------------------------------------------------------


def _optional(cli: CliInvoke, *options: str) -> None:
    ok(cli, "template", "milestone", "workflow", "OPT", "--optional", *options)


def _live(cli: CliInvoke, mid: str = "OPT") -> list[tuple[str, str]]:
    return [
        (r["milestone"], r["status"])
        for r in data(cli, "milestone", "list", K)
        if r["milestone"].split("/")[2] == mid
    ]


def test_optional_attribute_combination_added_and_removed_before_anyone_acts(cli: CliInvoke) -> None:
    setup(cli, "OPT")
    _optional(cli, "--attr", "Priority=High", "--attr", "Progress=Off Track")
    ok(cli, "contract", "attr", "set", K, "Priority", "High")
    assert _live(cli) == []  # one pair of two
    out = ok(cli, "contract", "attr", "set", K, "Progress", "Off Track")
    assert f"optional milestone {K}/OPT/1 added" in out
    assert _live(cli) == [(f"{K}/OPT/1", "Ready")]  # auto-readied: a User Initiated condition
    out = ok(cli, "contract", "attr", "set", K, "Priority", "Low")
    assert f"optional milestone {K}/OPT/1 removed (Cancelled): optional milestone trigger lapsed" in out
    assert _live(cli) == [(f"{K}/OPT/1", "Cancelled")]
    history = data(cli, "milestone", "show", f"{K}/OPT/1")["history"]
    assert history[-1]["reason"] == "optional milestone trigger lapsed"


def test_optional_left_alone_once_acted_on(cli: CliInvoke) -> None:
    setup(cli, "OPT")
    _optional(cli, "--attr", "Priority=High")
    ok(cli, "contract", "attr", "set", K, "Priority", "High")
    ok(cli, "condition", "complete", f"{K}/OPT/1", "1")  # someone acted
    out = ok(cli, "contract", "attr", "set", K, "Priority", "Low")
    assert "kept: its trigger lapsed" in out
    assert _live(cli) == [(f"{K}/OPT/1", "Ready")]


def test_optional_amount_threshold_per_business_unit(cli: CliInvoke) -> None:
    setup(cli, "OPT")
    _optional(cli, "--amount-source", "line", "--threshold", "US001=5000", "--threshold", "*=100")
    ok(cli, "contract", "add", "EU001/K9")
    ok(cli, "contract", "line", "add", "EU001/K9", "1", "--amount", "10")
    ok(cli, "contract", "line", "amount", "EU001/K9", "1", "500")  # over EU001's (the default) 100
    assert [r["milestone"] for r in data(cli, "milestone", "list", "EU001/K9")] == ["EU001/K9/OPT/1"]
    ok(cli, "contract", "line", "amount", K, "1", "4000")  # not over US001's 5000
    assert _live(cli) == []
    ok(cli, "contract", "line", "amount", K, "1", "6000")
    assert _live(cli) == [(f"{K}/OPT/1", "Ready")]
    ok(cli, "contract", "line", "amount", K, "1", "10")
    assert _live(cli) == [(f"{K}/OPT/1", "Cancelled")]


def test_optional_amount_and_or_attributes(cli: CliInvoke) -> None:
    setup(cli, "OPT")
    _optional(cli, "--amount-source", "line", "--threshold", "*=5000", "--attr", "Risk=High", "--join", "AND")
    ok(cli, "contract", "attr", "set", K, "Risk", "High")
    assert _live(cli) == []  # amount 1000 is not over 5000: AND fails
    _optional(cli, "--join", "OR")
    ok(cli, "optional", "evaluate", K)
    assert _live(cli) == [(f"{K}/OPT/1", "Ready")]


def test_optional_manual_add_by_role(cli: CliInvoke) -> None:
    setup(cli, "OPT", "REQ")
    ok(cli, "role", "add", "FINANCE")
    ok(cli, "user", "add", "fin", "--role", "FINANCE")
    ok(cli, "user", "add", "bob")
    _optional(cli, "--manual-roles", "FINANCE")
    assert refused(cli, "optional", "add", K, "OPT", user="bob") == (
        f"Error: contract {K}: user bob is not allowed: optional milestone OPT may be added only by the roles"
        " FINANCE\n"
    )
    assert (
        ok(cli, "optional", "add", K, "OPT", user="fin") == f"optional milestone {K}/OPT/1 added (Pending)\n"
    )
    assert refused(cli, "optional", "add", K, "REQ") == (
        "Error: milestone template REQ: is not optional; add it with `milestone add --template`\n"
    )


# --- the load file format ------------------------------------------------------------------------------


def test_load_file_sets_structure_and_blocks_a_status(cli: CliInvoke, tmp_path: Any) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(
        """
business_units: [{business_unit: US001}]
milestone_templates:
  - {milestone_id: MS1, conditions: [{type: user}]}
  - {milestone_id: OPT, conditions: [{type: user}]}
milestone_template_workflows:
  - {template: MS1, step: 1, gate: Define, unset_on: [amount]}
  - {template: OPT, optional: true, attributes: {Priority: High}}
contracts:
  - contract: US001/K1
    attributes: {Priority: High}
    lines: [{line: 1, amount: 100}]
    milestones: [{milestone_id: MS1, template: true, status: ready}]
milestone_workflows:
  - {milestone: US001/K1/MS1/1, blocks: [Active]}
optional_evaluate: [US001/K1]
"""
    )
    ok(cli, "load", str(path))
    rows = data(cli, "milestone", "list", K)
    assert [(r["milestone"], r["step"], r["gate"]) for r in rows] == [
        (f"{K}/MS1/1", "1", "Define"),
        (f"{K}/OPT/1", "-", None),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
contracts:
  - {contract: US001/K2, status: active, milestones: [{milestone_id: MS1, template: true, status: ready}]}
milestone_workflows:
  - {milestone: US001/K2/MS1/1, blocks: [Active]}
"""
    )
    assert refused_load(cli, str(bad)).endswith(
        "contracts[0].status: contract US001/K2: cannot be set Active: blocked until these milestones are"
        " Completed: US001/K2/MS1/1 (Ready)\n"
    )
    assert [r["contract"] for r in data(cli, "contract", "list")] == [K]  # refused whole


def refused_load(cli: CliInvoke, path: str) -> str:
    result = cli("load", path)
    assert result.exit_code != 0, result.output
    return result.stderr
