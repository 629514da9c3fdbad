"""Configuration, read once at the edge (CLI, scheduler) into a frozen value that is passed down."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from conditions.sql_rules import DEFAULT_ALLOWED_FUNCTIONS, DEFAULT_ALLOWED_TABLES, SqlRules
from contracts.errors import InvalidInput
from ms_prcs.alerts.config import AlertSettings

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
    alerts: AlertSettings = field(default_factory=AlertSettings)
    secret_key: str = field(default="", repr=False)
    """Signs the service's session cookies: ``MS_PRCS_SECRET_KEY``, or the key file ``ms-prcs init`` writes."""
    secret_key_file: str = ""
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    """Host headers the service answers (``MS_PRCS_ALLOWED_HOSTS``, comma separated; ``*`` for any)."""
    cookie_secure: bool = False
    """Mark the session cookie Secure (``MS_PRCS_COOKIE_SECURE=1``); it is also Secure on any https request."""
    session_max_age_s: float = 12 * 3600.0

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
        url = db_url or env.get("MS_PRCS_DB", DEFAULT_DB_URL)
        key_file = env.get("MS_PRCS_SECRET_KEY_FILE") or default_key_file(url)
        hosts = env.get("MS_PRCS_ALLOWED_HOSTS")
        return cls(
            db_url=url,
            tz=tz,
            sql_rules=rules,
            sql_timeout_s=_number(env, "MS_PRCS_SQL_TIMEOUT", 5.0),
            sql_budget_s=_number(env, "MS_PRCS_SQL_BUDGET", 60.0),
            sql_role=env.get("MS_PRCS_SQL_ROLE") or None,
            chunk_size=int(_number(env, "MS_PRCS_CHUNK_SIZE", 50_000)),
            heartbeat_limit_s=_number(env, "MS_PRCS_HEARTBEAT_LIMIT", 600.0),
            alerts=AlertSettings.from_env(env),
            secret_key=env.get("MS_PRCS_SECRET_KEY") or _read_key(key_file),
            secret_key_file=key_file,
            allowed_hosts=tuple(h.strip() for h in hosts.split(",") if h.strip())
            if hosts
            else cls.allowed_hosts,
            cookie_secure=env.get("MS_PRCS_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
            session_max_age_s=_number(env, "MS_PRCS_SESSION_MAX_AGE", 12 * 3600.0),
        )


def _names(env: dict[str, str], name: str, default: frozenset[str]) -> frozenset[str]:
    """A comma-separated allow-list; a leading ``+`` adds to the default instead of replacing it."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    base = default if raw.startswith("+") else frozenset()
    return base | frozenset(n.strip().lower() for n in raw.lstrip("+").split(",") if n.strip())


def default_key_file(db_url: str) -> str:
    """Next to a SQLite file (``ms_prcs.db.secret``); ``ms_prcs.secret`` in the working directory otherwise."""
    if db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        return db_url.removeprefix("sqlite:///") + ".secret"
    return "ms_prcs.secret"


def _read_key(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return ""  # no key file yet: ``ms-prcs init`` writes one, ``serve`` refuses to start without a key


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
