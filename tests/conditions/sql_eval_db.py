"""The SQL evaluator tests' own database: a ``contract`` table, a ``canary`` the SQL role must never read,
the candidates, and the probes the tests share (:mod:`tests.conditions.conftest` makes the databases)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from conditions.sql import Candidate, SqlReader
from conditions.sql_rules import SqlRules, ValidatedSql, validate_sql

AS_OF = datetime.date(2024, 3, 31)

metadata = sa.MetaData()
contract = sa.Table(
    "contract",
    metadata,
    sa.Column("business_unit", sa.String(5), primary_key=True),
    sa.Column("contract_num", sa.String(25), primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("start_date", sa.Date),
)
canary = sa.Table("canary", metadata, sa.Column("secret", sa.Text))
SECRET = "s3cr3t-canary-value"
CANDIDATES: list[Candidate] = [
    (10, "US001", "K1", "MS001", 1),
    (20, "US001", "K2", "MS001", 2),
    (30, "FR001", "K1", "MS002", 1),
]
RULES = SqlRules(allowed_tables=frozenset({"contract"}))
# The evaluator is the second fence and must hold when the first lets something through: an operator who
# allow-lists a function that writes.
HOLEY = SqlRules(
    allowed_tables=RULES.allowed_tables, allowed_functions=RULES.allowed_functions | {"sneaky_delete"}
)


@dataclass
class Db:
    engine: sa.Engine
    kind: str  # "sqlite" or "postgresql"
    role: str | None = None


def seed(conn: sa.Connection) -> None:
    conn.execute(
        contract.insert(),
        [
            {"business_unit": "US001", "contract_num": "K1", "status": "ACTIVE", "start_date": datetime.date(2024, 1, 15)},
            {"business_unit": "US001", "contract_num": "K2", "status": "PENDING", "start_date": datetime.date(2024, 6, 1)},
            {"business_unit": "FR001", "contract_num": "K1", "status": "PENDING", "start_date": None},
        ],
    )  # fmt: skip
    conn.execute(canary.insert(), [{"secret": SECRET}])


def met(reader: SqlReader, sql: str, as_of: datetime.date = AS_OF, timeout_s: float = 5.0) -> list[int]:
    return reader.met(validate_sql(sql, RULES), CANDIDATES, as_of, timeout_s)


def smuggled(sql: str) -> ValidatedSql:
    """A statement that never went through validate_sql, as if the validator had a hole."""
    return ValidatedSql(source=sql, normalized=sql, binds=frozenset(), dialect="postgres")


def contract_count(db: Db) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(contract)).scalar_one())


def sqlite_engine(path: Path, explicit_begin: bool) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    if explicit_begin:
        # SQLAlchemy's recommended pysqlite setup for real SAVEPOINT semantics; the evaluator must work
        # with it and with the driver's default transaction handling alike.
        @sa.event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    return engine
