"""Approvals (DESIGN 11): every verb of ``approval`` (``rule|submit|unsubmit|approve|deny|unapprove|show|
list``) and ``inbox``; ``milestone assign`` and ``contract team ...`` are with their groups.

An approval is a User Initiated condition with an approver rule, addressed like a condition: the milestone
key and the condition's sequence number. Each command is parse, one service call in one transaction, print;
the rules live in :mod:`ms_prcs.approvals`, the follow-ups in :mod:`ms_prcs.approvals.hooks`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from contracts.keys import ContractKey, MilestoneKey, get_contract, get_milestone
from ms_prcs.approvals import at_once, decide, hooks, inbox, submit, view
from ms_prcs.approvals.config import approval as config
from ms_prcs.approvals.states import ApprovalState
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit, emit_fields, format_table, print_json
from ms_prcs.cli.params import CONTRACT_KEY, DATE, MILESTONE_KEY, condition_arguments, done, whole

APPROVAL_COLUMNS = (
    "seq",
    "descr",
    "approval",
    "approvers",
    "submit",
    "last_action",
    "last_by",
    "last_at",
    "note",
)
HISTORY_COLUMNS = ("seq", "action", "via", "by", "at", "note")
LIST_COLUMNS = ("milestone", "status", "approval", "past_due", "ready_by", "complete_by", "assigned")
INBOX_COLUMNS = ("id", "created_at", "milestone", "text")
STATES = {s.value.lower(): s for s in ApprovalState}


@main.group()
def approval() -> None:
    """Approvals: User Initiated conditions with an approver rule; submit, approve, deny, and the view."""


def _echo_notes(app: AppContext, notes: list[str]) -> None:
    if not app.json_output:
        for note in notes:
            click.echo(note)


# --- the rule ---------------------------------------------------------------------------------------


@approval.command("rule")
@click.argument("target", metavar="MS_ID|BU/CONTRACT/MS_ID/NUM")
@click.argument("seq", type=whole(1))
@click.option("--role", "roles", multiple=True, help="System role whose holders may approve (repeatable).")
@click.option(
    "--team-role", "team_roles", multiple=True, help="Contract team role that may approve (repeatable)."
)
@click.option("--user", "users", multiple=True, help="A user who may approve (repeatable).")
@click.option("--note-on-approve", is_flag=True, help="Approving needs a note.")
@click.option("--note-on-deny", is_flag=True, help="Denying needs a note.")
@click.option("--auto-approve", is_flag=True, help="Submission approves (default status Approved).")
@click.option(
    "--submit",
    "modes",
    multiple=True,
    metavar="MODE",
    help="manual | status=STATUS | steps | attr=NAME:V1,V2 (repeatable; any submits; default manual).",
)
@click.option(
    "--on-approve", default="", help="Follow-ups after approval: event_ready;contract_status=S;notify=U."
)
@click.option("--on-deny", default="", help="Follow-ups after denial (same form).")
@click.option(
    "--complete-at-once/--no-complete-at-once",
    default=True,
    show_default=True,
    help="An approval that completes what the milestone needs has the engine complete it at once.",
)
@click.option(
    "--remove", is_flag=True, help="Remove the rule: the condition is a plain User Initiated one again."
)
@json_option
@pass_app
def approval_rule(
    app: AppContext,
    target: str,
    seq: int,
    roles: tuple[str, ...],
    team_roles: tuple[str, ...],
    users: tuple[str, ...],
    note_on_approve: bool,
    note_on_deny: bool,
    auto_approve: bool,
    modes: tuple[str, ...],
    on_approve: str,
    on_deny: str,
    complete_at_once: bool,
    remove: bool,
) -> None:
    """Set (or --remove) the approver rule of User Initiated condition SEQ, on a milestone template (MS_ID:
    copied to milestones added from it) or on a Pending contract milestone. Options not given are cleared."""
    is_milestone = "/" in target
    where = (
        f"milestone {MilestoneKey.parse(target)}" if is_milestone else f"milestone template {target.upper()}"
    )
    with app.session() as session:
        if remove:
            if is_milestone:
                config.remove_rule(session, MilestoneKey.parse(target), seq, app.who())
            else:
                config.remove_template_rule(session, target, seq)
            done(app, f"approval rule of condition {seq} of {where} removed", target=target, seq=seq)
            return
        spec = config.RuleSpec(
            roles=roles,
            team_roles=team_roles,
            users=users,
            note_on_approve=note_on_approve,
            note_on_deny=note_on_deny,
            auto_approve=auto_approve,
            submit=config.SubmitModes.parse(modes),
            on_approve=config.parse_followups(on_approve, "--on-approve"),
            on_deny=config.parse_followups(on_deny, "--on-deny"),
            complete_at_once=complete_at_once,
        )
        if is_milestone:
            config.set_rule(session, MilestoneKey.parse(target), seq, spec, app.who())
        else:
            config.set_template_rule(session, target, seq, spec)
    done(
        app,
        f"approval rule set on condition {seq} of {where}: {describe(spec)}",
        target=target,
        seq=seq,
        rule=spec.to_json(),
    )


def describe(spec: config.RuleSpec) -> str:
    """The rule in one line: approvers; submitted how; notes; auto-approve; follow-ups."""
    parts = [f"approved by {spec.approvers()}", f"submitted {spec.submit.describe()}"]
    notes = [w for w, on in (("approve", spec.note_on_approve), ("deny", spec.note_on_deny)) if on]
    if notes:
        parts.append(f"note required on {' and '.join(notes)}")
    if spec.auto_approve:
        parts.append("auto-approve")
    if spec.on_approve:
        parts.append("on approve " + ";".join(str(f) for f in spec.on_approve))
    if spec.on_deny:
        parts.append("on deny " + ";".join(str(f) for f in spec.on_deny))
    if not spec.complete_at_once:
        parts.append("the next run completes the milestone")
    return "; ".join(parts)


# --- submitting and deciding ------------------------------------------------------------------------


@approval.command("submit")
@condition_arguments
@json_option
@pass_app
def approval_submit(app: AppContext, key: MilestoneKey, seq: int) -> None:
    """Submit approval SEQ by hand (or resubmit it after a denial): it becomes Ready for Approval."""
    with app.session() as session:
        result = submit.submit(session, key, seq, app.who())
    done(
        app,
        result.note(),
        milestone=str(key),
        seq=seq,
        notified=list(result.notified),
        auto_approved=result.auto_approved,
    )


@approval.command("unsubmit")
@condition_arguments
@json_option
@pass_app
def approval_unsubmit(app: AppContext, key: MilestoneKey, seq: int) -> None:
    """Take back a submission made by hand, until an approver acts on it."""
    with app.session() as session:
        submit.unsubmit(session, key, seq, app.who())
    done(
        app,
        f"approval of condition {seq} of {key} unsubmitted (Not Ready for Approval)",
        milestone=str(key),
        seq=seq,
    )


@approval.command("approve")
@condition_arguments
@click.option("--note", default="", help="The approver's note (required when the rule says so).")
@click.option(
    "--complete-contract",
    is_flag=True,
    help="Save & Complete: approve and close the contract in one go (only on its last open approval).",
)
@click.option(
    "--as-of",
    type=DATE,
    help="As-of date of the run that completes the milestone at once (default: today in MS_PRCS_TZ).",
)
@json_option
@pass_app
def approval_approve(
    app: AppContext,
    key: MilestoneKey,
    seq: int,
    note: str,
    complete_contract: bool,
    as_of: dt.date | None,
) -> None:
    """Approve (Mark Complete as an eligible approver) and run the rule's follow-ups; when that completes
    what the milestone needs, a run completes the milestone at once (unless the rule says
    --no-complete-at-once)."""
    outcome = at_once.approve(
        app.engine, app.settings, key, seq, app.who(), note, complete_contract=complete_contract, as_of=as_of
    )
    notes = list(outcome.notes)
    _echo_notes(app, notes)
    done(
        app,
        f"approval of condition {seq} of {key} approved by {app.user}",
        milestone=str(key),
        seq=seq,
        notes=notes,
        process_instance=outcome.run.process_instance if outcome.run else None,
    )


@approval.command("deny")
@condition_arguments
@click.option("--note", default="", help="Why (required when the rule says so).")
@json_option
@pass_app
def approval_deny(app: AppContext, key: MilestoneKey, seq: int, note: str) -> None:
    """Deny (Not Approved, with the note); the condition stays Ready and can be resubmitted."""
    with app.session() as session:
        notes = hooks.deny(session, key, seq, app.who(), note)
    _echo_notes(app, notes)
    done(
        app,
        f"approval of condition {seq} of {key} not approved by {app.user}",
        milestone=str(key),
        seq=seq,
        notes=notes,
    )


@approval.command("unapprove")
@condition_arguments
@json_option
@pass_app
def approval_unapprove(app: AppContext, key: MilestoneKey, seq: int) -> None:
    """Take an approval back (also an automatic one) until the milestone is Completed: Ready for Approval again."""
    with app.session() as session:
        decision = decide.unapprove(session, key, seq, app.who())
    notes = list(decision.notes)
    _echo_notes(app, notes)
    done(
        app,
        f"approval of condition {seq} of {key} unapproved (Ready for Approval)",
        milestone=str(key),
        seq=seq,
        notes=notes,
    )


# --- the view -------------------------------------------------------------------------------------


@approval.command("show")
@click.argument("key", type=MILESTONE_KEY)
@click.option("--as-of", type=DATE, help="Decide Past Due as of this date (default: today).")
@json_option
@pass_app
def approval_show(app: AppContext, key: MilestoneKey, as_of: dt.date | None) -> None:
    """A milestone's approval view (Not Ready for Approval, Ready for Approval, Approved, Not Approved, Past
    Due), its approvals with their rules, and every decision with who, when and the note."""
    with app.session() as session:
        pk = get_milestone(session, key).id
        (found,) = view.milestone_approvals(
            session, as_of or app.settings.today(), view.milestones_in([pk]), every=True
        )
        events = view.history(session, pk)
    detail = {**found.to_json(), "history": events}
    if app.json_output:
        print_json(detail)
        return
    shown = {
        "milestone": found.key,
        "descr": found.descr,
        "status": found.status,
        "approval": found.state or "(no approvals)",
        "past_due": found.past_due_words() or "no",
        "ready_by": found.ready_by,
        "complete_by": found.complete_by,
        "assigned": ", ".join(found.assignees),
    }
    emit_fields(app, shown)
    click.echo("\nApprovals:")
    click.echo(format_table([_approval_row(a) for a in found.approvals], APPROVAL_COLUMNS))
    click.echo("\nHistory:")
    click.echo(format_table(events, HISTORY_COLUMNS))


def _approval_row(a: view.ConditionApproval) -> dict[str, Any]:
    return {
        "seq": a.seq,
        "descr": a.descr,
        "approval": a.state,
        "approvers": a.rule.approvers(),
        "submit": ", ".join(a.rule.submit.texts()) + (" (auto-approve)" if a.rule.auto_approve else ""),
        "last_action": a.last_action,
        "last_by": a.last_by,
        "last_at": a.last_at,
        "note": a.last_note,
    }


@approval.command("list")
@click.argument("contract_key", metavar="[BU/CONTRACT]", type=CONTRACT_KEY, required=False)
@click.option("--bu", "business_unit", help="Only this business unit.")
@click.option(
    "--state", type=click.Choice(list(STATES), case_sensitive=False), help="Only this approval view."
)
@click.option("--past-due", is_flag=True, help="Only Past Due milestones.")
@click.option("--as-of", type=DATE, help="Decide Past Due as of this date (default: today).")
@json_option
@pass_app
def approval_list(
    app: AppContext,
    contract_key: ContractKey | None,
    business_unit: str | None,
    state: str | None,
    past_due: bool,
    as_of: dt.date | None,
) -> None:
    """Milestones with approvals or deadlines (of a contract, a business unit, or all), with their approval
    view and Past Due flag."""
    with app.session() as session:
        contract_pk = get_contract(session, contract_key).id if contract_key else None
        where = view.milestones_of(contract_pk=contract_pk, business_unit=business_unit)
        found = view.milestone_approvals(session, as_of or app.settings.today(), where)
    wanted = STATES[state.lower()] if state else None
    chosen = [v for v in found if (wanted is None or v.state == wanted) and (not past_due or v.past_due)]
    rows = [
        {
            "milestone": v.key,
            "status": v.status,
            "approval": v.state,
            "past_due": v.past_due_words(),
            "ready_by": v.ready_by,
            "complete_by": v.complete_by,
            "assigned": ", ".join(v.assignees),
        }
        for v in chosen
    ]
    emit(app, [v.to_json() for v in chosen], rows)


# --- the inbox -------------------------------------------------------------------------------------


@main.command("inbox")
@click.option("--user", "user_id", help="Whose inbox (default: the acting user, --user of ms-prcs).")
@click.option("--all", "include_done", is_flag=True, help="Also items already done.")
@click.option(
    "--dismiss",
    "dismiss_ids",
    multiple=True,
    type=whole(1),
    metavar="ID",
    help="Mark item ID done (repeatable).",
)
@json_option
@pass_app
def inbox_command(
    app: AppContext, user_id: str | None, include_done: bool, dismiss_ids: tuple[int, ...]
) -> None:
    """What waits for a person: assignments, approvals to act on, follow-ups."""
    owner = user_id or app.user
    with app.session() as session:
        if dismiss_ids:
            inbox.dismiss(session, owner, list(dismiss_ids), app.user)
        items = inbox.inbox(session, owner, include_done=include_done)
    columns = (*INBOX_COLUMNS, "done") if include_done else INBOX_COLUMNS
    emit(app, items, [{c: i[c] for c in columns} for i in items])
