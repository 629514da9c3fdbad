"""Webhook subscriptions (issue 16), an admin right: subscribe a feed consumer at a URL, list them, replay
from a cursor, as ``ms-prcs webhook`` does. The shared secret is write-only: no answer ever contains it."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ms_prcs import webhooks as services
from ms_prcs.service.deps import Admin, Service, check_consumer_of
from ms_prcs.service.models_fin import Replay, WebhookIn, WebhookOut
from ms_prcs.service.routes.feed import Consumer

router = APIRouter(tags=["webhooks"])


@router.post("/webhooks", response_model=WebhookOut, status_code=201)
def subscribe(request: Request, body: WebhookIn, caller: Admin, ctx: Service) -> WebhookOut:
    """Subscribe a feed consumer at ``url``, delivering from its current cursor."""
    check_consumer_of(request, caller, body.consumer)
    with ctx.transaction() as session:
        view = services.subscribe(
            session, body.consumer, body.url, body.secret, caller.who(), kinds=body.kinds,
            max_attempts=body.max_attempts,
        )  # fmt: skip
    return WebhookOut.model_validate(view.to_json())


@router.get("/webhooks", response_model=list[WebhookOut])
def list_subscriptions(caller: Admin, ctx: Service) -> list[WebhookOut]:
    """Subscriptions, their cursor and state, by consumer."""
    with ctx.transaction() as session:
        return [WebhookOut.model_validate(v.to_json()) for v in services.subscriptions(session)]


@router.post("/webhooks/{consumer}/replay", response_model=WebhookOut)
def replay(request: Request, consumer: Consumer, body: Replay, caller: Admin, ctx: Service) -> WebhookOut:
    """Deliver again from ``from_cursor`` (also revives a Dead subscription)."""
    check_consumer_of(request, caller, consumer)
    with ctx.transaction() as session:
        view = services.replay(session, consumer, body.from_cursor, caller.who())
    return WebhookOut.model_validate(view.to_json())
