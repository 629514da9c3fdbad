"""Database connections and schema upgrades (Alembic), for SQLite files and PostgreSQL alike."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from contracts.errors import InvalidInput, MsPrcsError
from contracts.limits import check_flush

if TYPE_CHECKING:
    from alembic.config import Config

    from ms_prcs.sqlrole import RoleReport

# Alembic is imported where a schema changes, not here: every CLI command imports this module, and alembic
# costs about 0.3 s to import.

MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and route them to psycopg 3, the driver we ship with."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInput(
            f"--db {url!r}: not a database URL (e.g. sqlite:///ms_prcs.db, postgresql://...)"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    try:
        engine = create_engine(normalize_url(url), **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise InvalidInput(
            f"--db {make_url(url).render_as_string(hide_password=True)!r}: not a database ms-prcs supports"
            " (sqlite:///FILE or postgresql://USER@HOST/DB)"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_session)
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


def _postgres_session(dbapi_connection: Any, _record: Any) -> None:
    """JIT off for the session. The engine's set-based statements (correlated ``EXISTS`` over a chunk) are
    just over the planner's JIT cost threshold on large tables, and compiling them costs more than running
    them: the benchmark's verdict statement took 3.7 s with JIT and 1.0 s without (BENCHMARKS.md)."""
    cur = dbapi_connection.cursor()
    cur.execute("SET jit = off")
    cur.close()
    dbapi_connection.commit()


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


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose rows are checked against their columns' limits before every flush
    (:func:`contracts.limits.check_flush`), so SQLite and PostgreSQL refuse the same values."""
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "before_flush", check_flush)
    return factory


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error so a refused command changes nothing."""
    with session_factory(engine)() as session, session.begin():
        yield session


# --- the schema guard: one SELECT before a command touches the database ----------------------------------


class SchemaMismatch(MsPrcsError):
    """The database's schema is not the one this version of ms-prcs was written for."""

    def __init__(self, message: str, found: tuple[str, ...]) -> None:
        super().__init__(message)
        self.found = found


_REVISION = re.compile(r"^revision(?:: str)? = ['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?:: [^=]+)? = ['\"]([^'\"]+)['\"]", re.M)


@functools.cache
def known_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """Every revision of this version's migrations and its heads, read from the files' text (importing
    Alembic to ask it would cost every command 0.3 s)."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        downs.update(_DOWN.findall(source))
    return frozenset(revisions), frozenset(revisions - downs)


def stored_revisions(engine: Engine) -> tuple[str, ...] | None:
    """The revisions in ``alembic_version`` (``None`` when there is no such table: no schema yet)."""
    try:
        with engine.connect() as conn:
            return tuple(sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()))
    except DBAPIError as exc:
        if _missing_table(exc):
            return None
        raise


def _missing_table(exc: DBAPIError) -> bool:
    message = str(exc.orig)
    return "no such table" in message or "does not exist" in message


def check_schema(engine: Engine, *, upgrading: bool = False) -> None:
    """Refuse a database whose schema this version does not know (newer, or not ms-prcs's), and, unless
    ``upgrading`` (``ms-prcs init``), one without a schema or with an older one."""
    found = stored_revisions(engine)
    known, heads = known_revisions()
    where = engine.url.render_as_string(hide_password=True)
    if found is None or not found:
        if upgrading:
            return
        raise SchemaMismatch(f"{where} has no ms-prcs schema: run `ms-prcs init`", ())
    unknown = [r for r in found if r not in known]
    if unknown:
        raise SchemaMismatch(
            f"{where} has schema revision {', '.join(unknown)}, which this version of ms-prcs does not know"
            f" (its latest is {', '.join(sorted(heads))}): it was made by a newer ms-prcs, use that one",
            found,
        )
    if not upgrading and not set(found) <= heads:
        raise SchemaMismatch(
            f"{where} has schema revision {', '.join(found)}, older than this version's"
            f" {', '.join(sorted(heads))}: run `ms-prcs init` to upgrade it",
            found,
        )
