"""The raw-SQL limit: the fewest set-based statements that complete what a run completes, and nothing else.

``python -m benchmarks.limit --db URL [--as-of D]``

No StatusChange rows, no feed, no run log, no chunks, no run lock, no SQL guard: one transaction, plain
``UPDATE``s over whole tables. This is the physical floor for the work on this database, the yardstick the
engine's time is divided by. It computes the same fixed point as the engine (DESIGN 4):

1. remember the Ready milestones (only their conditions are evaluated, also after they complete);
2. complete their met Date conditions (one statement), their met SQL conditions (one statement per
   distinct statement text, the user's binds replaced by the row's columns) and their Milestone
   conditions whose reference was Completed before the run with its Days Lag elapsed (one statement);
3. complete the Ready milestones whose required conditions (ALL / ONE) are met, then the Milestone
   conditions pointing at exactly those, and repeat until a pass completes nothing (chains: one pass per
   link, each pass touching only the milestones the previous one completed).

It knows the benchmark's statements (:data:`benchmarks.generate.SQL_STATEMENTS`) only through the texts it
finds in ``milestone_condition``; binds are substituted textually, which is safe for those statements.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from typing import Any

import sqlalchemy as sa

from benchmarks.generate import AS_OF
from ms_prcs.db import make_engine

_BINDS = {
    ":business_unit": "lim_k.business_unit",
    ":contract_num": "lim_k.contract_num",
    ":milestone_id": "lim_m.milestone_id",
    ":milestone_num": "lim_m.milestone_num",
    ":as_of_date": ":as_of",
}


def _lag_cutoff(dialect: str) -> str:
    """``as_of - days_lag`` as a date on the backend (SQLite keeps ISO text, as the schema does)."""
    if dialect == "sqlite":
        return "date(:as_of, '-' || c.days_lag || ' days')"
    return "(CAST(:as_of AS DATE) - c.days_lag)"


def run_limit(conn: sa.Connection, as_of: dt.date = AS_OF) -> dict[str, int]:
    """Complete, in ``conn``'s current transaction, what a run as of ``as_of`` over every business unit
    completes. Returns counts (statements executed, milestones and conditions completed, chain passes)."""
    dialect = conn.dialect.name
    bind = {"as_of": as_of}
    stats = {"statements": 0, "milestones": 0, "conditions": 0, "passes": 0}

    def run(sql: str, params: dict[str, object] | None = None) -> int:
        stmt = sa.text(sql)
        if ":as_of" in sql:
            stmt = stmt.bindparams(sa.bindparam("as_of", type_=sa.Date))
        stats["statements"] += 1
        return int(conn.execute(stmt, {**bind, **(params or {})}).rowcount)

    for name in ("lim_run", "lim_new", "lim_cand"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} (id INTEGER PRIMARY KEY)")
    run("INSERT INTO lim_run (id) SELECT id FROM milestone WHERE status = 'Ready'")
    complete = "UPDATE milestone_condition SET condition_status = 'Completed', completed_on = :as_of"
    ready_of_run = "condition_status = 'Ready' AND milestone_pk IN (SELECT id FROM lim_run)"
    stats["conditions"] += run(
        f"{complete} WHERE {ready_of_run} AND condition_type = 'Date' AND condition_date <= :as_of"
    )
    texts = conn.execute(
        sa.text(
            "SELECT DISTINCT sql_text FROM milestone_condition"
            f" WHERE {ready_of_run} AND condition_type = 'SQL'"
        )
    ).scalars()
    for source in sorted(texts):
        user = source
        for name, column in _BINDS.items():
            user = user.replace(name, column)
        stats["conditions"] += run(
            f"{complete} WHERE id IN (SELECT c.id FROM milestone_condition c"
            " JOIN milestone lim_m ON lim_m.id = c.milestone_pk JOIN contract lim_k ON lim_k.id = lim_m.contract_pk"
            " WHERE c.condition_type = 'SQL' AND c.condition_status = 'Ready' AND c.sql_text = :source"
            f" AND c.milestone_pk IN (SELECT id FROM lim_run) AND EXISTS ({user}))",
            {"source": source},
        )
    cutoff = _lag_cutoff(dialect)
    stats["conditions"] += run(
        f"{complete} WHERE id IN (SELECT c.id FROM milestone_condition c JOIN milestone r ON r.id = c.ref_milestone_pk"
        " WHERE c.condition_type = 'Milestone' AND c.condition_status = 'Ready'"
        " AND c.milestone_pk IN (SELECT id FROM lim_run)"
        f" AND r.status = 'Completed' AND r.completed_on <= {cutoff})"
    )
    run("INSERT INTO lim_cand (id) SELECT id FROM lim_run")
    while True:
        run("DELETE FROM lim_new")
        found = run(
            "INSERT INTO lim_new (id) SELECT m.id FROM milestone m WHERE m.status = 'Ready'"
            " AND m.id IN (SELECT id FROM lim_cand) AND ("
            " (m.required_conditions = 'ALL'"
            "  AND NOT EXISTS (SELECT 1 FROM milestone_condition c WHERE c.milestone_pk = m.id"
            "                  AND c.condition_status <> 'Completed')"
            "  AND EXISTS (SELECT 1 FROM milestone_condition c WHERE c.milestone_pk = m.id))"
            " OR (m.required_conditions = 'ONE'"
            "  AND EXISTS (SELECT 1 FROM milestone_condition c WHERE c.milestone_pk = m.id"
            "              AND c.condition_status = 'Completed')))"
        )
        if not found:
            break
        stats["passes"] += 1
        stats["milestones"] += run(
            "UPDATE milestone SET status = 'Completed', completed_on = :as_of WHERE id IN (SELECT id FROM lim_new)"
        )
        freed = run(
            f"{complete} WHERE id IN (SELECT c.id FROM milestone_condition c JOIN lim_new n ON n.id = c.ref_milestone_pk"
            " WHERE c.condition_type = 'Milestone' AND c.condition_status = 'Ready'"
            " AND c.milestone_pk IN (SELECT id FROM lim_run) AND c.days_lag <= 0)"
        )
        stats["conditions"] += freed
        if not freed:
            break
        run("DELETE FROM lim_cand")
        run(
            "INSERT INTO lim_cand (id) SELECT DISTINCT c.milestone_pk FROM milestone_condition c"
            " JOIN lim_new n ON n.id = c.ref_milestone_pk WHERE c.condition_type = 'Milestone'"
            " AND c.condition_status = 'Completed' AND c.completed_on = :as_of"
        )
    return stats


def completions(conn: sa.Connection, as_of: dt.date = AS_OF) -> dict[str, Any]:
    """What a run as of ``as_of`` left behind, as counts and digests of the ids: the milestones and the
    conditions completed on ``as_of``. Streams the ids in order, so it works at a million rows too."""
    out: dict[str, Any] = {}
    for name, table, status in (
        ("milestones", "milestone", "status"),
        ("conditions", "milestone_condition", "condition_status"),
    ):
        digest = hashlib.sha256()
        count = 0
        rows = conn.execution_options(stream_results=True, yield_per=50_000).execute(
            sa.text(
                f"SELECT id FROM {table} WHERE {status} = 'Completed' AND completed_on = :as_of ORDER BY id"
            ).bindparams(sa.bindparam("as_of", type_=sa.Date)),
            {"as_of": as_of},
        )
        for (pk,) in rows:
            digest.update(b"%d," % pk)
            count += 1
        out[name] = count
        out[f"{name}_sha256"] = digest.hexdigest()[:16]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limit", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    args = parser.parse_args(argv)
    engine = make_engine(args.db)
    started = time.perf_counter()
    with engine.begin() as conn:
        stats = run_limit(conn, args.as_of)
    seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({**stats, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
