"""One verdict whatever the database: the portable corpus runs on SQLite and PostgreSQL against one data set.

Each file in ``tests/fixtures/sql/portable`` is a SQL condition that passes the rules, with a
``-- met: K1, K4`` header naming the contracts whose milestone it completes. Every file runs through the
real evaluator (:class:`conditions.sql.SqlReader`) on both backends (the ``engine`` fixture is
parametrized over them), so a construct whose meaning differs shows up as a failure on one of them.
Many are the portable rewrites of conditions that gave different verdicts before (``-- note: was: ...``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from conditions.sql import SqlReader
from conditions.sql_rules import SqlRules, validate_sql
from contracts.models import Base

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql" / "portable"
PORTABLE = sorted(FIXTURES.glob("*.sql"))
AS_OF = dt.date(2026, 6, 15)
T = Base.metadata.tables


def test_portable_corpus_size() -> None:
    assert len(PORTABLE) >= 30


def _seed(conn: sa.Connection) -> None:
    conn.execute(T["business_unit"].insert(), [{"business_unit": "US001", "descr": "US"}])
    contracts = [
        (1, "K1", "Active", dt.date(2026, 5, 1), "Acme"),
        (2, "K2", "Active", dt.date(2026, 6, 10), "acme corp"),
        (3, "k3", "Pending", None, ""),
        (4, "K4", "Closed", dt.date(2026, 1, 31), "Zeta"),
    ]
    conn.execute(
        T["contract"].insert(),
        [
            {"id": i, "business_unit": "US001", "contract_num": num, "status": status, "activated_on": on,
             "customer": customer, "currency": "USD"}
            for i, num, status, on, customer in contracts
        ],
    )  # fmt: skip
    lines = [(1, 1, 1, "100.10"), (2, 1, 2, "200.20"), (3, 2, 1, "7"), (4, 4, 1, "0"), (5, 4, 2, "50")]
    conn.execute(
        T["contract_line"].insert(),
        [{"id": i, "contract_pk": k, "line_num": n, "amount": Decimal(a)} for i, k, n, a in lines],
    )
    attributes = [
        (1, "go_live_on", "2026-06-01"), (1, "REGION", "EMEA"), (1, "seats", "12"),
        (2, "go_live_on", "2026-07-20"), (2, "REGION", "Amer"), (2, "seats", "7"),
        (3, "REGION", "emea"),
    ]  # fmt: skip
    conn.execute(
        T["contract_attribute"].insert(),
        [{"contract_pk": k, "name": n, "value": v} for k, n, v in attributes],
    )
    estimates = {1: dt.date(2026, 6, 10), 2: dt.date(2026, 7, 1), 3: None, 4: dt.date(2026, 6, 15)}
    conn.execute(
        T["milestone"].insert(),
        [
            {"id": k, "contract_pk": k, "milestone_id": "MS1", "milestone_num": 1, "status": "Ready",
             "required_conditions": "ALL", "est_completion_date": est}
            for k, est in estimates.items()
        ],
    )  # fmt: skip
    conn.execute(
        T["project_activity"].insert(), [{"id": 1, "project_id": "P1", "activity_id": "A1", "active": True}]
    )


def _candidates() -> sa.Select[tuple[int, str, str, str, int]]:
    m, c = T["milestone"], T["contract"]
    return sa.select(
        m.c.id.label("condition_id"),
        c.c.business_unit.label("business_unit"),
        c.c.contract_num.label("contract_num"),
        m.c.milestone_id.label("milestone_id"),
        m.c.milestone_num.label("milestone_num"),
    ).join(c, c.c.id == m.c.contract_pk)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    with engine.begin() as conn:
        _seed(conn)
    return engine


def _expected(path: Path) -> set[str]:
    first = path.read_text().splitlines()[0]
    m = re.fullmatch(r"--\s*met:(.*)", first)
    assert m, f"{path.name} needs a '-- met: K1, K2' first line"
    return {k.strip() for k in m.group(1).split(",") if k.strip()}


@pytest.mark.parametrize("path", PORTABLE, ids=[p.stem for p in PORTABLE])
def test_same_verdict_on_sqlite_and_postgresql(seeded: Engine, path: Path) -> None:
    statement = validate_sql(path.read_text(), SqlRules())
    with seeded.connect() as conn:
        candidates = [tuple(row) for row in conn.execute(_candidates().order_by(T["milestone"].c.id))]
        names = dict(conn.execute(sa.select(T["contract"].c.id, T["contract"].c.contract_num)).tuples().all())
    with SqlReader(seeded) as reader:
        met = reader.met(statement, candidates, AS_OF, 10.0)
    assert {names[i] for i in met} == _expected(path)
