"""What a run leaves behind, as counts and digests that two databases can be compared by.

Milestones and conditions: every row's id, status and completion date (all rows, so a date the run capped
or a row it should not have touched shows too), and the ids completed on the as-of date. StatusChange: the
rows' object, old and new status and reason (not their ids, clock or actor: the engine writes them chunk by
chunk as ``run N``, the floor at once). Feed: every entry's contents except its cursor id, its run and
its clock, ordered by the dedupe key (the engine's ids follow its chunks, the floor's do not). Streams the
rows, so it works at millions of rows with flat memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import sqlalchemy as sa

from billing_plans.feed.publishing import CONTENT_COLUMNS

_QUERIES = {
    "milestones": "SELECT id, status, completed_on FROM milestone ORDER BY id",
    "conditions": "SELECT id, condition_status, completed_on FROM milestone_condition ORDER BY id",
    "audit": "SELECT object_type, object_pk, old_status, new_status, reason FROM status_change"
    " ORDER BY object_type, object_pk, id",
    "feed": f"SELECT {', '.join(CONTENT_COLUMNS)} FROM feed_entry ORDER BY dedupe_key",
}
_COMPLETED = {
    "milestones_completed": "SELECT id FROM milestone WHERE status = 'Completed' AND completed_on = :as_of ORDER BY id",
    "conditions_completed": "SELECT id FROM milestone_condition WHERE condition_status = 'Completed'"
    " AND completed_on = :as_of ORDER BY id",
}


def _text(value: Any) -> str:
    """One spelling per value on both databases (dates, decimals and NULLs)."""
    if value is None:
        return "~"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _digest(conn: sa.Connection, sql: str, params: dict[str, Any]) -> tuple[int, str]:
    stmt = sa.text(sql)
    if params:
        stmt = stmt.bindparams(sa.bindparam("as_of", type_=sa.Date))
    digest = hashlib.sha256()
    count = 0
    streamed = {
        "stream_results": True,
        "yield_per": 50_000,
    }  # per statement: Connection.execution_options sticks
    for row in conn.execute(stmt, params, execution_options=streamed):
        digest.update("|".join(_text(v) for v in row).encode() + b"\n")
        count += 1
    return count, digest.hexdigest()[:16]


def end_state(conn: sa.Connection, as_of: dt.date, *, audit_and_feed: bool = True) -> dict[str, Any]:
    """Counts and digests of what the run left (``audit_and_feed=False``: milestones and conditions only)."""
    out: dict[str, Any] = {}
    for name, sql in _COMPLETED.items():
        out[name], out[f"{name}_sha256"] = _digest(conn, sql, {"as_of": as_of})
    for name, sql in _QUERIES.items():
        if name in ("audit", "feed") and not audit_and_feed:
            continue
        out[f"{name}_rows"], out[f"{name}_sha256"] = _digest(conn, sql, {})
    return out


def differences(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """The keys on which two end states differ, with both values."""
    return [
        f"{key}: floor {expected.get(key)!r}, engine {found.get(key)!r}"
        for key in sorted(set(expected) | set(found))
        if expected.get(key) != found.get(key)
    ]
