"""Database connections and schema upgrades (Alembic), for SQLite files and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

    from ms_prcs.sqlrole import RoleReport

# Alembic is imported where a schema changes, not here: every CLI command imports this module, and alembic
# costs about 0.3 s to import.

MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and route them to psycopg 3, the driver we ship with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(normalize_url(url), **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on (SQLite defaults them off), WAL so readers never block the run, and a busy timeout so
    two processes on one file wait for each other instead of failing at once."""
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA busy_timeout = 30000")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(
    engine: Engine,
    revision: str = "head",
    *,
    sql_tables: frozenset[str] | None = None,
    sql_role: str | None = None,
) -> RoleReport | None:
    """Create or upgrade the schema to ``revision`` (``ms-prcs init``), then, on PostgreSQL, create or bring
    in step the role SQL conditions run under (:mod:`ms_prcs.sqlrole`): ``SELECT`` on ``sql_tables``
    (default: the default allow-list) and nothing else."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
    if engine.dialect.name == "postgresql":
        from conditions.sql_rules import DEFAULT_ALLOWED_TABLES
        from ms_prcs import sqlrole

        with engine.begin() as conn:
            return sqlrole.sync(conn, DEFAULT_ALLOWED_TABLES if sql_tables is None else sql_tables, sql_role)
    return None


def schema_present(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error so a refused command changes nothing."""
    with session_factory(engine)() as session, session.begin():
        yield session
