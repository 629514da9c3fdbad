"""The forms of the milestone pages: one POST per action, each the same service call as the CLI and the API.

A form names where to go back to (``back``: the contract page or the milestone page). Success redirects
there (303) with the message and notes shown once; a refusal renders that page again with the rule's own
words and the status the API would answer (409 refused, 403 not allowed, 422 bad input), leaving the
database unchanged (the transaction is rolled back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from contracts import milestones as services
from contracts.errors import InvalidInput, MsPrcsError, NotAuthorized
from contracts.keys import MilestoneKey
from ms_prcs.approvals import decide, hooks, submit
from ms_prcs.service.context import ServiceContext
from ms_prcs.service.credentials import Caller
from ms_prcs.service.models import ConditionBody
from ms_prcs.service.pages import browse
from ms_prcs.service.pages.web import Ctx, Form, Person, redirect
from ms_prcs.service.problems import status_of
from ms_prcs.service.rights import Right
from ms_prcs.service.routes.conditions import spec_of
from ms_prcs.service.routes.keys import MKey

router = APIRouter(include_in_schema=False)

Outcome = tuple[str, list[str]]
Action = Callable[[Session, MilestoneKey, dict[str, str], Caller, ServiceContext], Outcome]


def _seq(form: dict[str, str]) -> int:
    try:
        seq = int(form.get("seq", ""))
    except ValueError:
        raise InvalidInput("the form names no condition (seq)") from None
    if not 1 <= seq <= 2**31 - 1:
        raise InvalidInput(f"condition {seq} is not a condition number")
    return seq


def _condition_spec(form: dict[str, str]) -> Any:
    fields = (
        "type",
        "date",
        "sql",
        "ref",
        "source",
        "days_lag",
        "project",
        "activity",
        "activity_status",
        "descr",
    )
    given = {f: form[f].strip() if f != "sql" else form[f] for f in fields if form.get(f, "").strip()}
    try:
        return spec_of(ConditionBody.model_validate(given))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInput(f"condition field {where}: {first.get('msg', 'invalid')}") from None


def _ready(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    return f"milestone {k} is Ready", hooks.make_milestone_ready(s, k, c.who(), ctx.settings.sql_rules)


def _pending(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    services.set_pending(s, k, c.who())
    return f"milestone {k} is Pending", []


def _cancel(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    services.cancel(s, k, c.who())
    return f"milestone {k} is Cancelled", []


def _add(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    row = services.add_condition(s, k, _condition_spec(f), c.who())
    return f"condition {row.condition_seq} added to milestone {k}", []


def _edit(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    seq = _seq(f)
    services.update_condition(s, k, seq, _condition_spec(f), c.who())
    return f"condition {seq} of milestone {k} updated (Ready)", []


def _delete(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    seq = _seq(f)
    services.delete_condition(s, k, seq, c.who())
    return f"condition {seq} of milestone {k} deleted", []


def _complete(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    seq = _seq(f)
    hooks.mark_complete(s, k, seq, c.who())
    return f"condition {seq} of milestone {k} marked complete by {c.user_id}", []


def _undo(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    seq = _seq(f)
    hooks.undo_mark_complete(s, k, seq, c.who())
    return f"Mark Complete of condition {seq} of milestone {k} undone", []


def _submit(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    return submit.submit(s, k, _seq(f), c.who()).note(), []


def _unsubmit(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    seq = _seq(f)
    submit.unsubmit(s, k, seq, c.who())
    return f"approval of condition {seq} of {k} unsubmitted (Not Ready for Approval)", []


def _approve(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    seq = _seq(f)
    close = f.get("complete_contract") == "1"
    notes = hooks.approve(s, k, seq, c.who(), f.get("note", "")[:2000], complete_contract=close)
    return f"approval of condition {seq} of {k} approved by {c.user_id}", notes


def _deny(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    seq = _seq(f)
    notes = hooks.deny(s, k, seq, c.who(), f.get("note", "")[:2000])
    return f"approval of condition {seq} of {k} not approved by {c.user_id}", notes


def _unapprove(s: Session, k: MilestoneKey, f: dict[str, str], c: Caller, ctx: ServiceContext) -> Outcome:
    seq = _seq(f)
    notes = list(decide.unapprove(s, k, seq, c.who()).notes)
    return f"approval of condition {seq} of {k} unapproved (Ready for Approval)", notes


ACTIONS: dict[str, Action] = {
    "ready": _ready,
    "pending": _pending,
    "cancel": _cancel,
    "condition-add": _add,
    "condition-edit": _edit,
    "condition-delete": _delete,
    "complete": _complete,
    "undo": _undo,
    "submit": _submit,
    "unsubmit": _unsubmit,
    "approve": _approve,
    "deny": _deny,
    "unapprove": _unapprove,
}


def _back(key: MilestoneKey, form: dict[str, str]) -> str:
    c = key.contract
    if form.get("back") == "milestone":
        return f"/milestones/{c.business_unit}/{c.contract_num}/{key.milestone_id}/{key.milestone_num}"
    return f"/contracts/{c.business_unit}/{c.contract_num}#m-{key.milestone_id}-{key.milestone_num}"


@router.post("/milestones/{bu}/{contract}/{ms_id}/{num}/do/{action}")
def act(request: Request, key: MKey, action: str, caller: Person, ctx: Ctx, form: Form) -> Response:
    """Take ``action`` on the milestone; see the module docstring for what the answer is."""
    do = ACTIONS.get(action)
    try:
        if do is None:
            raise InvalidInput(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        why = caller.lacks(Right.WRITE)
        if why is not None:
            raise NotAuthorized(caller.user_id, f"milestone {key}", why)
        with ctx.transaction() as session:
            message, notes = do(session, key, form, caller, ctx)
    except MsPrcsError as exc:
        code, _ = status_of(exc)
        return _refused(request, ctx, caller, key, form, str(exc), code)
    return redirect(ctx, _back(key, form), message, notes)


def _refused(
    request: Request,
    ctx: ServiceContext,
    caller: Caller,
    key: MilestoneKey,
    form: dict[str, str],
    text: str,
    code: int,
) -> Response:
    if form.get("back") == "milestone":
        return browse.page_or_error(
            request,
            ctx,
            caller,
            "milestone.html",
            lambda: browse.milestone_data(ctx, key, caller, None),
            title=f"Milestone {key}",
            error=text,
            status=code,
        )
    return browse.page_or_error(
        request,
        ctx,
        caller,
        "contract.html",
        lambda: browse.contract_data(ctx, key.contract, caller, None),
        title=f"Contract {key.contract}",
        error=text,
        status=code,
    )
