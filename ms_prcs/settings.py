"""Configuration, read once at the edge (CLI, scheduler) into a frozen value that is passed down."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from conditions.sql_rules import DEFAULT_ALLOWED_TABLES, SqlRules
from contracts.errors import InvalidInput

DEFAULT_DB_URL = "sqlite:///ms_prcs.db"


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    tz: str = "UTC"
    sql_rules: SqlRules = field(default_factory=SqlRules)
    sql_timeout_s: float = 5.0
    chunk_size: int = 50_000
    heartbeat_limit_s: float = 600.0
    """A Processing run whose heartbeat is older than this is dead, and the next run takes over its lock."""
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
        tables = env.get("MS_PRCS_SQL_TABLES")
        allowed = (
            frozenset(t.strip().lower() for t in tables.split(",") if t.strip())
            if tables
            else DEFAULT_ALLOWED_TABLES
        )
        url = db_url or env.get("MS_PRCS_DB", DEFAULT_DB_URL)
        key_file = env.get("MS_PRCS_SECRET_KEY_FILE") or default_key_file(url)
        hosts = env.get("MS_PRCS_ALLOWED_HOSTS")
        return cls(
            db_url=url,
            tz=tz,
            sql_rules=SqlRules(dialect=env.get("MS_PRCS_SQL_DIALECT", "postgres"), allowed_tables=allowed),
            sql_timeout_s=_number(env, "MS_PRCS_SQL_TIMEOUT", 5.0),
            chunk_size=int(_number(env, "MS_PRCS_CHUNK_SIZE", 50_000)),
            heartbeat_limit_s=_number(env, "MS_PRCS_HEARTBEAT_LIMIT", 600.0),
            secret_key=env.get("MS_PRCS_SECRET_KEY") or _read_key(key_file),
            secret_key_file=key_file,
            allowed_hosts=tuple(h.strip() for h in hosts.split(",") if h.strip())
            if hosts
            else cls.allowed_hosts,
            cookie_secure=env.get("MS_PRCS_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
            session_max_age_s=_number(env, "MS_PRCS_SESSION_MAX_AGE", 12 * 3600.0),
        )


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
