"""Mass Mark Complete benchmark (issue 16): N Ready milestones with one User Initiated condition each, then
``queue complete`` over the business unit as one call of :func:`ms_prcs.workqueue.mass.mark_complete`.

``python -m benchmarks.mass_mark_complete [--conditions 10000] [--db URL]``

Writes the rows with executemany inserts on the real schema (a fresh SQLite file unless ``--db`` names a
database), then times, in this process: finding the targets over the queue filter, the checks and the
set-based update with its StatusChange rows, and the commit. Prints one line per phase and checks that every
condition is Completed with one audit row. Not a test: figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.audit import Who
from contracts.models import BusinessUnit, Contract, Milestone, MilestoneCondition, StatusChange
from contracts.status import ConditionStatus, ConditionType, ContractStatus, MilestoneStatus
from ms_prcs.db import make_engine, upgrade
from ms_prcs.workqueue import mass
from ms_prcs.workqueue.search import QueueFilter

AS_OF = dt.date(2026, 6, 30)
PER_CONTRACT = 20


def generate(engine: sa.Engine, n: int) -> None:
    contracts = (n + PER_CONTRACT - 1) // PER_CONTRACT
    with engine.begin() as conn:
        conn.execute(sa.insert(BusinessUnit), [{"business_unit": "BM001", "descr": "benchmark"}])
        conn.execute(
            sa.insert(Contract),
            [
                {
                    "id": c + 1,
                    "business_unit": "BM001",
                    "contract_num": f"K{c + 1:07d}",
                    "customer": "ACME",
                    "currency": "USD",
                    "descr": "",
                    "status": ContractStatus.ACTIVE,
                }
                for c in range(contracts)
            ],
        )
        conn.execute(
            sa.insert(Milestone),
            [
                {
                    "id": i + 1,
                    "contract_pk": i // PER_CONTRACT + 1,
                    "milestone_id": "MS-SIGN",
                    "milestone_num": i % PER_CONTRACT + 1,
                    "descr": "Sign-off",
                    "status": MilestoneStatus.READY,
                    "required_conditions": "ALL",
                    "est_completion_date": AS_OF,
                    "created_from": "Manual",
                }
                for i in range(n)
            ],
        )
        conn.execute(
            sa.insert(MilestoneCondition),
            [
                {
                    "milestone_pk": i + 1,
                    "condition_seq": 1,
                    "condition_type": ConditionType.USER,
                    "condition_status": ConditionStatus.READY,
                    "descr": "Sign-off",
                    "days_lag": 0,
                }
                for i in range(n)
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", type=int, default=10_000)
    parser.add_argument("--db", help="Database URL (default: a fresh SQLite file).")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'mass.db'}"
    engine = make_engine(url)
    upgrade(engine)
    generate(engine, args.conditions)
    who = Who("bench", dt.datetime(2026, 6, 30, 12, 0))
    with Session(engine) as session:
        t0 = time.perf_counter()
        targets = mass.conditions_of(session, QueueFilter("BM001"), AS_OF, ConditionType.USER)
        t1 = time.perf_counter()
        result = mass.mark_complete(session, targets, who)
        t2 = time.perf_counter()
        session.commit()
        t3 = time.perf_counter()
        completed = session.scalar(
            sa.select(sa.func.count()).where(MilestoneCondition.condition_status == ConditionStatus.COMPLETED)
        )
        audited = session.scalar(sa.select(sa.func.count()).select_from(StatusChange))
    assert result.changed == args.conditions == completed == audited, (result.changed, completed, audited)
    print(f"backend {engine.dialect.name}, {args.conditions} User Initiated conditions")
    print(f"find targets (queue filter)   {t1 - t0:6.2f} s")
    print(f"checks + update + audit       {t2 - t1:6.2f} s")
    print(f"commit                        {t3 - t2:6.2f} s")
    print(
        f"total                         {t3 - t0:6.2f} s  ({args.conditions / (t3 - t0):,.0f} conditions/s)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
