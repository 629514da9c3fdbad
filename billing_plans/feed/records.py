"""One feed entry as a consumer sees it: its key and its flat record, the same for the CLI's JSON lines and
CSV, the HTTP API and webhooks.

An entry is either a :class:`~contracts.models.FeedEntry` object or a Core row of the ``feed_entry`` table
(what :func:`billing_plans.feed.read` returns, so a page of entries builds no ORM objects): both have the
table's columns as attributes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from contracts.models import FeedEntry

Entry = FeedEntry | Row[Any]
"""A feed entry: an ORM object, or a row with every column of ``feed_entry``."""


def event_key(bu: str, contract_num: str, line_num: object, plan_id: object, event_num: object) -> str:
    """A plan event's key, as the CLI takes it: ``BU/CONTRACT/LINE/PLAN/EVENT``."""
    return f"{bu}/{contract_num}/{line_num}/{plan_id}/{event_num}"


def milestone_key(bu: str, contract_num: str, milestone_id: object, milestone_num: object) -> str:
    """A milestone's key, as the CLI takes it: ``BU/CONTRACT/MILESTONE/NUM``."""
    return f"{bu}/{contract_num}/{milestone_id}/{milestone_num}"


def entry_key(entry: Entry) -> str:
    """The key a person or program uses with the CLI: the milestone key, or the plan event key."""
    if entry.event_num is not None:
        return event_key(
            entry.business_unit, entry.contract_num, entry.line_num, entry.plan_id, entry.event_num
        )
    return milestone_key(entry.business_unit, entry.contract_num, entry.milestone_id, entry.milestone_num)


ROW_COLUMNS: tuple[str, ...] = (
    "id", "kind", "business_unit", "contract_num", "milestone_id", "milestone_num", "completed_on",
    "line_num", "plan_type", "plan_id", "event_num", "event_type", "event_date", "percentage", "amount",
    "currency", "as_of", "process_instance", "created_at", "event_pk",
)  # fmt: skip
"""The columns of ``feed_entry`` a page reads, in the order :func:`entry_record` unpacks them."""


def entry_record(entry: Row[Any]) -> dict[str, Any]:
    """One entry (a row of :data:`ROW_COLUMNS`, as :func:`billing_plans.feed.read` returns) as flat fields,
    the same for JSON lines and CSV. Unpacked by position: a row's attribute access costs more than the
    rest of this function, and this runs once per entry a consumer reads."""
    (
        cursor, kind, bu, contract_num, milestone_id, milestone_num, completed_on, line_num, plan_type,
        plan_id, event_num, event_type, event_date, percentage, amount, currency, as_of, process_instance,
        created_at, _event_pk,
    ) = entry  # fmt: skip
    milestone = milestone_key(bu, contract_num, milestone_id, milestone_num)
    key = event_key(bu, contract_num, line_num, plan_id, event_num) if event_num is not None else milestone
    return {
        "cursor": cursor,
        "kind": kind.value,
        "key": key,  # as entry_key
        "business_unit": bu,
        "contract_num": contract_num,
        "milestone": milestone if milestone_id is not None else None,
        "completed_on": completed_on,
        "line_num": line_num,
        "plan_type": plan_type.value if plan_type else None,
        "plan_id": plan_id,
        "event_num": event_num,
        "event_type": event_type.value if event_type else None,
        "event_date": event_date,
        "percentage": percentage,
        "amount": amount,
        "currency": currency,
        "as_of": as_of,
        "process_instance": process_instance,
        "created_at": created_at,
    }


# fmt: off
FEED_FIELDS: tuple[str, ...] = (
    "cursor", "kind", "key", "business_unit", "contract_num", "milestone", "completed_on", "line_num",
    "plan_type", "plan_id", "event_num", "event_type", "event_date", "percentage", "amount", "currency",
    "as_of", "process_instance", "created_at",
)
# fmt: on
"""The columns of ``feed read --format csv``, in :func:`entry_record` order."""
