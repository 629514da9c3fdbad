"""The signed-in user's inbox: assignments, approvals to act on, follow-ups. Only their own."""

from __future__ import annotations

from fastapi import APIRouter

from ms_prcs.approvals import inbox
from ms_prcs.service.deps import Reader, Service, Writer
from ms_prcs.service.models_ops import Dismiss, InboxItem

router = APIRouter(tags=["inbox"])


@router.get("/inbox", response_model=list[InboxItem])
def read_inbox(caller: Reader, ctx: Service, all: bool = False) -> list[InboxItem]:
    """What waits for the caller, oldest first (``all``: also items already done)."""
    with ctx.transaction() as session:
        return [InboxItem.model_validate(i) for i in inbox.inbox(session, caller.user_id, include_done=all)]


@router.post("/inbox/dismiss", response_model=list[InboxItem])
def dismiss(body: Dismiss, caller: Writer, ctx: Service) -> list[InboxItem]:
    """Mark items done; answers the inbox as it is now."""
    with ctx.transaction() as session:
        inbox.dismiss(session, caller.user_id, body.ids, caller.user_id)
        return [InboxItem.model_validate(i) for i in inbox.inbox(session, caller.user_id)]
