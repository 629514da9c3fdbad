"""Seeded benchmark data: N Ready milestones with the condition mix of a large Contracts installation.

``python -m benchmarks.generate --db URL --milestones N [--seed S] [--units U] [--mix standard|date|sql]``

The standard mix, per milestone (20 milestones per contract, contracts spread over ``--units`` business
units):

- ~50 % Date conditions, 70 % of them due by the as-of date; ~3 % of all milestones are already Completed
  (earlier runs), so later links can wait on them with a Days Lag;
- ~30 % User Initiated conditions, half of them already marked (Mark Complete);
- ~20 % Milestone conditions on the contract's previous milestone, forming chains up to depth 10, a fifth
  of them with a Days Lag of 1 to 5 days;
- ~1 % of milestones get a second condition, SQL, drawn from :data:`SQL_STATEMENTS` (50 distinct
  statements over real tables), with ALL or ONE required conditions; another 5 % get a second Date
  condition with ALL or ONE;
- a third of the contracts carry a billing plan with one Ready Milestone event per milestone.

The ``date`` and ``sql`` mixes give every milestone exactly one condition of that type: the pair measures
what SQL conditions cost against Date conditions (SQL is evaluated per statement text, not per milestone).

Rows are generated in Python with one ``random.Random(seed)`` (same seed, same data, on either backend)
and written with set-based executemany inserts in chunks, on the real schema (``ms_prcs.db.upgrade``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from contracts.models import (
    BusinessUnit,
    Contract,
    ContractLine,
    Milestone,
    MilestoneCondition,
    Plan,
    PlanEvent,
)
from ms_prcs.db import make_engine, upgrade

AS_OF = dt.date(2026, 6, 30)
"""The as-of date of every benchmark run: dates are drawn around it."""

PER_CONTRACT = 20
MAX_CHAIN_DEPTH = 10
FLUSH_MILESTONES = 20_000
"""Rows are written every this many milestones: memory stays flat whatever N is."""

MIXES = ("standard", "date", "sql")


def _sql_statements() -> tuple[str, ...]:
    """50 distinct read-only statements over real tables, with binds, as users would write them."""
    amounts = [
        "SELECT 1 FROM contract_line l JOIN contract k ON k.id = l.contract_pk"
        " WHERE k.business_unit = :business_unit AND k.contract_num = :contract_num"
        f" AND l.amount >= {1000 * t}"
        for t in range(25)
    ]
    customers = [
        "SELECT 1 FROM milestone m JOIN contract k ON k.id = m.contract_pk"
        " WHERE k.business_unit = :business_unit AND k.contract_num = :contract_num"
        " AND m.milestone_id = :milestone_id AND m.milestone_num = :milestone_num"
        # customers are C00..C49; the number, not the text, is compared (text order depends on collation)
        f" AND m.est_completion_date <= :as_of_date AND CAST(substr(k.customer, 2, 2) AS INTEGER) >= {t}"
        for t in range(25)
    ]
    return tuple(amounts + customers)


SQL_STATEMENTS = _sql_statements()


@dataclass(frozen=True)
class Generated:
    milestones: int
    conditions: int
    plan_events: int
    contracts: int
    seconds: float


class _Batch:
    """Rows waiting to be written, by table; flushed in order (parents first)."""

    def __init__(self) -> None:
        self.rows: dict[sa.Table, list[dict[str, Any]]] = {}

    def add(self, table: sa.Table, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    def flush(self, conn: sa.Connection) -> None:
        for table, rows in self.rows.items():
            if rows:
                conn.execute(table.insert(), rows)
        self.rows = {}


def _t(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


def generate(
    engine: sa.Engine,
    milestones: int,
    *,
    seed: int = 1,
    units: int = 8,
    mix: str = "standard",
) -> Generated:
    """Write ``milestones`` milestones (and their contracts, conditions and plans) into an empty database at
    schema head. Same arguments, same rows."""
    if mix not in MIXES:
        raise ValueError(f"mix must be one of {', '.join(MIXES)}, got {mix!r}")
    started = time.perf_counter()
    rng = random.Random(seed)
    bus = [f"BU{n:03d}" for n in range(1, units + 1)]
    counts = {"conditions": 0, "events": 0, "contracts": 0}
    batch = _Batch()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(BusinessUnit),
            [{"business_unit": bu, "descr": f"benchmark unit {bu}", "currency": "USD"} for bu in bus],
        )
        pending = 0
        for contract_rows in _contracts(rng, milestones, bus, mix, counts):
            for table, row in contract_rows:
                batch.add(table, row)
                pending += table is _t(Milestone)
            if pending >= FLUSH_MILESTONES:
                batch.flush(conn)
                pending = 0
        batch.flush(conn)
        if conn.dialect.name == "postgresql":
            for name in (
                "contract",
                "contract_line",
                "milestone",
                "milestone_condition",
                "plan",
                "plan_event",
            ):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), coalesce((SELECT max(id) FROM {name}), 1))"
                )
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return Generated(
        milestones,
        counts["conditions"],
        counts["events"],
        counts["contracts"],
        time.perf_counter() - started,
    )


def _contracts(
    rng: random.Random, total: int, bus: list[str], mix: str, counts: dict[str, int]
) -> Iterator[list[tuple[sa.Table, dict[str, Any]]]]:
    """The rows of one contract at a time: contract, line, milestones, conditions, plan and events."""
    contract_t, line_t, plan_t, event_t = _t(Contract), _t(ContractLine), _t(Plan), _t(PlanEvent)
    milestone_t, condition_t = _t(Milestone), _t(MilestoneCondition)
    mpk = cpk = 0
    k = 0
    while mpk < total:
        k += 1
        counts["contracts"] += 1
        rows: list[tuple[sa.Table, dict[str, Any]]] = []
        rows.append(
            (
                contract_t,
                {
                    "id": k,
                    "business_unit": bus[k % len(bus)],
                    "contract_num": f"K{k:08d}",
                    "descr": "",
                    "customer": f"C{rng.randrange(50):02d}",
                    "currency": "USD",
                    "status": "Active",
                },
            )
        )
        rows.append(
            (
                line_t,
                {
                    "id": k,
                    "contract_pk": k,
                    "line_num": 1,
                    "product": "SERVICES",
                    "amount": Decimal(rng.randrange(25_000)),
                },
            )
        )
        billed = k % 3 == 0
        if billed:
            rows.append(
                (
                    plan_t,
                    {
                        "id": k,
                        "contract_line_pk": k,
                        "plan_type": "Billing",
                        "plan_id": "BP1",
                        "status": "Ready",
                        "descr": "",
                    },
                )
            )
        depth: dict[int, int] = {}  # milestone pk -> chain depth (0: not waiting on a milestone)
        for n in range(1, PER_CONTRACT + 1):
            if mpk >= total:
                break
            mpk += 1
            status, completed_on, required = "Ready", None, "ALL"
            conditions: list[dict[str, Any]] = []
            est = AS_OF + dt.timedelta(days=rng.randrange(-60, 60))
            if mix == "date":
                conditions.append(_date(rng))
            elif mix == "sql":
                conditions.append(_sql(rng))
            else:
                r = rng.random()
                prev = mpk - 1
                if r < 0.2 and n > 1 and depth.get(prev, 0) < MAX_CHAIN_DEPTH:
                    lag = rng.randrange(1, 6) if rng.random() < 0.2 else 0
                    conditions.append(
                        {
                            "condition_type": "Milestone",
                            "source": "Contracts",
                            "ref_milestone_pk": prev,
                            "days_lag": lag,
                        }
                    )
                    depth[mpk] = depth.get(prev, 0) + 1
                elif r < 0.5:
                    marked = rng.random() < 0.5
                    conditions.append(
                        {
                            "condition_type": "User Initiated",
                            "condition_status": "Completed" if marked else "Ready",
                            "completed_on": AS_OF - dt.timedelta(days=rng.randrange(1, 30))
                            if marked
                            else None,
                            "completed_by": "bench" if marked else None,
                        }
                    )
                else:
                    conditions.append(_date(rng))
                    if rng.random() < 0.06:  # already completed by an earlier run
                        status = "Completed"
                        completed_on = AS_OF - dt.timedelta(days=rng.randrange(1, 30))
                        conditions[0].update(condition_status="Completed", completed_on=completed_on)
                extra = rng.random()
                if status == "Ready" and extra < 0.01:
                    conditions.append(_sql(rng))
                    required = rng.choice(("ALL", "ONE"))
                elif status == "Ready" and extra < 0.06:
                    conditions.append(_date(rng))
                    required = rng.choice(("ALL", "ONE"))
            rows.append(
                (
                    milestone_t,
                    {
                        "id": mpk,
                        "contract_pk": k,
                        "milestone_id": f"MS{n:03d}",
                        "milestone_num": 1,
                        "descr": "",
                        "status": status,
                        "required_conditions": required,
                        "est_completion_date": est,
                        "completed_on": completed_on,
                        "created_from": "Load",
                    },
                )
            )
            for seq, fields in enumerate(conditions, start=1):
                cpk += 1
                counts["conditions"] += 1
                row: dict[str, Any] = {
                    "id": cpk,
                    "milestone_pk": mpk,
                    "condition_seq": seq,
                    "descr": "",
                    "days_lag": 0,
                    "condition_status": "Ready",
                    "completed_on": None,
                    "completed_by": None,
                    "condition_date": None,
                    "source": None,
                    "ref_milestone_pk": None,
                    "sql_text": None,
                }
                row.update(fields)
                rows.append((condition_t, row))
            if billed:
                counts["events"] += 1
                rows.append(
                    (
                        event_t,
                        {
                            "id": mpk,
                            "plan_pk": k,
                            "event_num": n,
                            "event_type": "Milestone",
                            "status": "Ready",
                            "milestone_pk": mpk,
                            "percentage": Decimal("5"),
                            "descr": "",
                        },
                    )
                )
        yield rows


def _date(rng: random.Random) -> dict[str, Any]:
    due = rng.random() < 0.7
    days = -rng.randrange(0, 60) if due else rng.randrange(1, 60)
    return {"condition_type": "Date", "condition_date": AS_OF + dt.timedelta(days=days)}


def _sql(rng: random.Random) -> dict[str, Any]:
    return {"condition_type": "SQL", "sql_text": SQL_STATEMENTS[rng.randrange(len(SQL_STATEMENTS))]}


def prepare(url: str) -> sa.Engine:
    """An engine on ``url`` with the schema at head."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--db", required=True, help="database URL (an empty database; the schema is created)")
    parser.add_argument("--milestones", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--units", type=int, default=8, help="business units (default 8)")
    parser.add_argument("--mix", choices=MIXES, default="standard")
    args = parser.parse_args(argv)
    engine = prepare(args.db)
    result = generate(engine, args.milestones, seed=args.seed, units=args.units, mix=args.mix)
    engine.dispose()
    print(
        f"generated {result.milestones} milestones, {result.conditions} conditions, {result.plan_events} plan"
        f" events on {result.contracts} contracts in {result.seconds:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
