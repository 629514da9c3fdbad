"""The feed (DESIGN 7): an ordered, append-only log of completed milestones and eligible plan events, read
by billing and revenue systems, each from its own cursor.

One module a job; this package is their one import (``from billing_plans import feed``):

- :mod:`~billing_plans.feed.publishing`: appending facts, set-based, in the transaction that makes them
  true, with cursor order equal to commit order;
- :mod:`~billing_plans.feed.reading`: the page after a consumer's cursor (Core rows, no ORM objects);
- :mod:`~billing_plans.feed.claiming`: acknowledging, and claiming the billing events exactly once;
- :mod:`~billing_plans.feed.consumers`: consumer names, cursors and positions;
- :mod:`~billing_plans.feed.records`: an entry's key and flat record (CLI, HTTP and webhooks print it).
"""

from billing_plans.feed.claiming import AckResult, BillingHandout, ack
from billing_plans.feed.consumers import MAX_CONSUMER_NAME, ConsumerPosition, check_consumer, consumers
from billing_plans.feed.publishing import (
    READY,
    publish_completions,
    publish_date_events,
    publish_eligible_events,
    publish_released,
    publish_undo,
)
from billing_plans.feed.reading import FeedPage, published_cursor, read
from billing_plans.feed.records import FEED_FIELDS, Entry, entry_key, entry_record

__all__ = [
    "FEED_FIELDS",
    "MAX_CONSUMER_NAME",
    "READY",
    "AckResult",
    "BillingHandout",
    "ConsumerPosition",
    "Entry",
    "FeedPage",
    "ack",
    "check_consumer",
    "consumers",
    "entry_key",
    "entry_record",
    "publish_completions",
    "publish_date_events",
    "publish_eligible_events",
    "publish_released",
    "publish_undo",
    "published_cursor",
    "read",
]
