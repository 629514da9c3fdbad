"""Big worlds by set-based inserts (executemany), for runs over thousands of milestones.

Each contract gets ``per_contract`` milestones MS001..: every third one a chain link waiting on the one
before it (Contracts reference, no lag), the others a Date condition, due (before the as-of date) or not
depending on ``due_every``. Everything is Ready, as the edit checks would leave it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from contracts.models import BusinessUnit, Contract, Milestone, MilestoneCondition, StatusChange

AS_OF = dt.date(2026, 11, 23)


@dataclass(frozen=True)
class BulkWorld:
    milestones: int
    expected_completed: int
    expected_conditions: int


def build(
    engine: sa.Engine,
    contracts: int,
    per_contract: int = 10,
    *,
    due_every: int = 2,
    sql_text: str | None = None,
) -> BulkWorld:
    """``sql_text``: if given, every milestone also gets this SQL condition (ALL required); it must be a
    statement that returns a row (the expected counts assume so). A slow one makes every chunk slow."""
    bus = [{"business_unit": f"US{n:03d}", "descr": f"unit {n}", "currency": "USD"} for n in (1, 2, 3)]
    contract_rows: list[dict[str, Any]] = []
    milestone_rows: list[dict[str, Any]] = []
    condition_rows: list[dict[str, Any]] = []
    expected_completed = expected_conditions = 0
    mpk = cpk = 0
    for k in range(1, contracts + 1):
        contract_rows.append(
            {
                "id": k,
                "business_unit": bus[k % 3]["business_unit"],
                "contract_num": f"K{k:06d}",
                "descr": "",
                "customer": "",
                "currency": "USD",
                "status": "Active",
            }
        )
        previous_done = False
        for n in range(1, per_contract + 1):
            mpk += 1
            milestone_rows.append(
                {
                    "id": mpk,
                    "contract_pk": k,
                    "milestone_id": f"MS{n:03d}",
                    "milestone_num": 1,
                    "descr": "",
                    "status": "Ready",
                    "required_conditions": "ALL",
                    "created_from": "Load",
                }
            )
            fields_list: list[dict[str, Any]] = []
            if n % 3 == 0:
                fields_list.append(
                    {"condition_type": "Milestone", "source": "Contracts", "ref_milestone_pk": mpk - 1}
                )
                done = previous_done
            else:
                due = (mpk % due_every) == 0
                when = AS_OF - dt.timedelta(days=1 if due else -30)
                fields_list.append({"condition_type": "Date", "condition_date": when})
                done = due
            if sql_text is not None:
                fields_list.append({"condition_type": "SQL", "sql_text": sql_text})
            for seq, fields in enumerate(fields_list, start=1):
                cpk += 1
                condition_rows.append(
                    {
                        "id": cpk,
                        "milestone_pk": mpk,
                        "condition_seq": seq,
                        "descr": "",
                        "days_lag": 0,
                        "condition_status": "Ready",
                        "condition_date": None,
                        "source": None,
                        "ref_milestone_pk": None,
                        "sql_text": None,
                        **fields,
                    }
                )
            expected_completed += done
            expected_conditions += done + (sql_text is not None)
            previous_done = done
    with engine.begin() as conn:
        conn.execute(sa.insert(BusinessUnit), bus)
        conn.execute(sa.insert(Contract), contract_rows)
        conn.execute(sa.insert(Milestone), milestone_rows)
        for start in range(0, len(condition_rows), 20_000):
            conn.execute(sa.insert(MilestoneCondition), condition_rows[start : start + 20_000])
        if engine.dialect.name == "postgresql":
            for table in ("contract", "milestone", "milestone_condition"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
    return BulkWorld(len(milestone_rows), expected_completed, expected_conditions)


def completed_twice(conn: sa.Connection) -> list[tuple[str, int]]:
    """Objects with more than one move to Completed in the history: a run that was killed or raced another
    must never leave one (each milestone and condition completes once)."""
    rows = conn.execute(
        sa.select(StatusChange.object_type, StatusChange.object_pk)
        .where(StatusChange.new_status == "Completed")
        .group_by(StatusChange.object_type, StatusChange.object_pk)
        .having(sa.func.count() > 1)
    ).all()
    return [(t, pk) for t, pk in rows]
