"""The feed over HTTP (DESIGN 7): read after the consumer's cursor, acknowledge and claim billing events.

The same functions as ``ms-prcs feed read|ack`` in one transaction each, so the exactly-once guarantee is
the library's: two consumers (HTTP or CLI) never both claim one billing event, and a repeated ack is
harmless. A token bound to a feed consumer reads, acknowledges and lists only that consumer
(:mod:`ms_prcs.service.rights`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter

from billing_plans import feed as services
from ms_prcs.service.deps import ConsumerName, ConsumerReader, FeedReader, Service
from ms_prcs.service.models_ops import Ack, AckResult, ConsumerRow, FeedPage

router = APIRouter(tags=["feed"])
_PAGE = TypeAdapter(FeedPage)

Consumer = ConsumerName


@router.get("/feed", response_model=list[ConsumerRow])
def consumers(caller: FeedReader, ctx: Service) -> list[ConsumerRow]:
    """Every consumer's cursor and how many entries wait after it (a bound token: its own consumer's)."""
    with ctx.transaction() as session:
        return [ConsumerRow(**vars(c)) for c in services.consumers(session, caller.consumer)]


@router.get("/feed/{consumer}", response_model=FeedPage)
def read(
    consumer: Consumer,
    caller: ConsumerReader,
    ctx: Service,
    limit: Annotated[int, Query(ge=1, le=10000)] = 100,
) -> Response:
    """The entries after the consumer's cursor, oldest first; reading changes nothing."""
    with ctx.transaction() as session:
        page = services.read(session, consumer, limit=limit)
        records = [services.entry_record(e) for e in page.entries]
    body = {"consumer": consumer, "acked_through": page.acked_through, "entries": records}
    # validated and serialized once, by pydantic: FastAPI's response_model path would do it three times
    # over for thousands of entries a page (the model stays the documented response)
    return Response(_PAGE.dump_json(_PAGE.validate_python(body)), media_type="application/json")


@router.post("/feed/{consumer}/ack", response_model=AckResult)
def ack(consumer: Consumer, body: Ack, caller: ConsumerReader, ctx: Service) -> AckResult:
    """Acknowledge every entry through ``through`` and claim their billing events (Ready -> In Progress):
    ``claimed`` are this consumer's to bill (``POST /events/{key}/bill``)."""
    with ctx.transaction() as session:
        result = services.ack(session, consumer, body.through, caller.who())
    return AckResult(
        consumer=result.consumer,
        previous=result.previous,
        acked_through=result.acked_through,
        entries=result.entries,
        claimed=[b.event for b in result.claimed],
        billing_events=list(result.billing),
    )
