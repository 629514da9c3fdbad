"""API tokens over HTTP, for administrators (role ``ms-prcs-admin``): list, create (shown once), revoke."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from ms_prcs.service import credentials
from ms_prcs.service.deps import Admin, Service
from ms_prcs.service.models_ops import NewToken, TokenCreate, TokenRow
from ms_prcs.service.routes.keys import Num

router = APIRouter(tags=["tokens"])


@router.get("/tokens", response_model=list[TokenRow])
def list_tokens(caller: Admin, ctx: Service, user: str | None = None) -> list[TokenRow]:
    """Every token (never its text), or one user's."""
    with ctx.transaction() as session:
        return [TokenRow.model_validate(r) for r in credentials.list_tokens(session, user)]


@router.post("/tokens", response_model=NewToken, status_code=201)
def create_token(body: TokenCreate, caller: Admin, ctx: Service) -> NewToken:
    """A new token for a user; its text is in this answer and nowhere else."""
    who = caller.who()
    expires = who.at + dt.timedelta(days=body.expires_days) if body.expires_days else None
    with ctx.transaction() as session:
        row, text = credentials.create_token(
            session, body.user, body.scopes, who, descr=body.descr, expires_at=expires, consumer=body.consumer
        )
        return NewToken.model_validate({**credentials.token_record(row), "token": text})


@router.delete("/tokens/{token_id}", response_model=TokenRow)
def revoke_token(token_id: Num, caller: Admin, ctx: Service) -> TokenRow:
    """Revoke a token: from now on it authenticates nobody."""
    with ctx.transaction() as session:
        return TokenRow.model_validate(
            credentials.token_record(credentials.revoke_token(session, token_id, caller.who().at))
        )
