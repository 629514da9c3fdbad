"""Configuration, read once at the edge (CLI, scheduler) into a frozen value that is passed down."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from conditions.sql_rules import DEFAULT_ALLOWED_FUNCTIONS, DEFAULT_ALLOWED_TABLES, SqlRules
from contracts.errors import InvalidInput

DEFAULT_DB_URL = "sqlite:///ms_prcs.db"


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    tz: str = "UTC"
    sql_rules: SqlRules = field(default_factory=SqlRules)
    sql_timeout_s: float = 5.0
    sql_budget_s: float = 60.0
    """All SQL condition statements of one run (of each worker process) together, in seconds."""
    sql_role: str | None = None
    """PostgreSQL role SQL conditions run under; None: ``ms_prcs_sql_<hash of the database name>``."""
    chunk_size: int = 50_000
    heartbeat_limit_s: float = 600.0
    """A Processing run whose heartbeat is older than this is dead, and the next run takes over its lock."""

    def today(self) -> dt.date:
        """Today in the configured time zone: the default as-of date of a run, taken once at the entry point."""
        return dt.datetime.now(ZoneInfo(self.tz)).date()

    @classmethod
    def from_env(cls, db_url: str | None = None, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        tz = env.get("MS_PRCS_TZ", "UTC")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInput(f"MS_PRCS_TZ {tz!r} is not a known time zone") from exc
        rules = SqlRules(
            dialect=env.get("MS_PRCS_SQL_DIALECT", "postgres"),
            allowed_tables=_names(env, "MS_PRCS_SQL_TABLES", DEFAULT_ALLOWED_TABLES),
            allowed_functions=_names(env, "MS_PRCS_SQL_FUNCTIONS", DEFAULT_ALLOWED_FUNCTIONS),
            max_length=int(_number(env, "MS_PRCS_SQL_MAX_LENGTH", SqlRules.max_length)),
            max_nesting=int(_number(env, "MS_PRCS_SQL_MAX_NESTING", SqlRules.max_nesting)),
        )
        return cls(
            db_url=db_url or env.get("MS_PRCS_DB", DEFAULT_DB_URL),
            tz=tz,
            sql_rules=rules,
            sql_timeout_s=_number(env, "MS_PRCS_SQL_TIMEOUT", 5.0),
            sql_budget_s=_number(env, "MS_PRCS_SQL_BUDGET", 60.0),
            sql_role=env.get("MS_PRCS_SQL_ROLE") or None,
            chunk_size=int(_number(env, "MS_PRCS_CHUNK_SIZE", 50_000)),
            heartbeat_limit_s=_number(env, "MS_PRCS_HEARTBEAT_LIMIT", 600.0),
        )


def _names(env: dict[str, str], name: str, default: frozenset[str]) -> frozenset[str]:
    """A comma-separated allow-list; a leading ``+`` adds to the default instead of replacing it."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    base = default if raw.startswith("+") else frozenset()
    return base | frozenset(n.strip().lower() for n in raw.lstrip("+").split(",") if n.strip())


def _number(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise InvalidInput(f"{name} must be positive, got {raw!r}")
    return value
