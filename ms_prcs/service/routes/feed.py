"""The feed over HTTP (DESIGN 7): read after the consumer's cursor, acknowledge and claim billing events.

The same functions as ``ms-prcs feed read|ack`` in one transaction each, so the exactly-once guarantee is
the library's: two consumers (HTTP or CLI) never both claim one billing event, and a repeated ack is
harmless.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from billing_plans import feed as services
from ms_prcs.service.deps import FeedReader, Service
from ms_prcs.service.models_ops import Ack, AckResult, ConsumerRow, FeedPage, FeedRecord

router = APIRouter(tags=["feed"])

Consumer = Annotated[str, Path(min_length=1, max_length=services.MAX_CONSUMER_NAME)]


@router.get("/feed", response_model=list[ConsumerRow])
def consumers(caller: FeedReader, ctx: Service) -> list[ConsumerRow]:
    """Every consumer's cursor and how many entries wait after it."""
    with ctx.transaction() as session:
        return [ConsumerRow(**vars(c)) for c in services.consumers(session)]


@router.get("/feed/{consumer}", response_model=FeedPage)
def read(
    consumer: Consumer, caller: FeedReader, ctx: Service, limit: Annotated[int, Query(ge=1, le=10000)] = 100
) -> FeedPage:
    """The entries after the consumer's cursor, oldest first; reading changes nothing."""
    with ctx.transaction() as session:
        page = services.read(session, consumer, limit=limit)
        entries = [FeedRecord.model_validate(services.entry_record(e)) for e in page.entries]
    return FeedPage(consumer=consumer, acked_through=page.acked_through, entries=entries)


@router.post("/feed/{consumer}/ack", response_model=AckResult)
def ack(consumer: Consumer, body: Ack, caller: FeedReader, ctx: Service) -> AckResult:
    """Acknowledge every entry through ``through`` and claim their billing events (Ready -> In Progress):
    ``claimed`` are this consumer's to bill (``POST /events/{key}/bill``)."""
    with ctx.transaction() as session:
        result = services.ack(session, consumer, body.through, caller.who())
    billing = [vars(b) for b in result.billing]
    return AckResult(
        consumer=result.consumer,
        previous=result.previous,
        acked_through=result.acked_through,
        entries=result.entries,
        claimed=[b.event for b in result.claimed],
        billing_events=billing,  # type: ignore[arg-type]  # validated into BillingHandout
    )
