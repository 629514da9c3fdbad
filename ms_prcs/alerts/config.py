"""Alert and SMTP settings (``MS_PRCS_ALERT_*``, ``MS_PRCS_SMTP_*``), read once at the edge with the rest
of :class:`ms_prcs.settings.Settings`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts.errors import InvalidInput


@dataclass(frozen=True)
class AlertSettings:
    warning_days: int = 7
    """A ``warning`` alert this many days before the estimated completion date."""
    late_days: int = 2
    """A ``late`` alert this many days before it (``reached`` on the day, if still not Completed)."""
    approval_wait_hours: float = 48.0
    """An approval waiting for a decision longer than this is an ``approval_waiting`` alert to its approvers."""
    smtp_host: str | None = None
    """No host: alerts go to the inbox only."""
    smtp_port: int = 25
    smtp_from: str = "ms-prcs@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AlertSettings:
        warning = _int(env, "MS_PRCS_ALERT_WARNING_DAYS", 7)
        late = _int(env, "MS_PRCS_ALERT_LATE_DAYS", 2)
        if late > warning:
            raise InvalidInput(
                f"MS_PRCS_ALERT_LATE_DAYS ({late}) must not exceed MS_PRCS_ALERT_WARNING_DAYS ({warning})"
            )
        return cls(
            warning_days=warning,
            late_days=late,
            approval_wait_hours=float(_int(env, "MS_PRCS_ALERT_APPROVAL_HOURS", 48)),
            smtp_host=env.get("MS_PRCS_SMTP_HOST") or None,
            smtp_port=_int(env, "MS_PRCS_SMTP_PORT", 25),
            smtp_from=env.get("MS_PRCS_SMTP_FROM", "ms-prcs@localhost"),
            smtp_user=env.get("MS_PRCS_SMTP_USER") or None,
            smtp_password=env.get("MS_PRCS_SMTP_PASSWORD") or None,
            smtp_starttls=env.get("MS_PRCS_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise InvalidInput(f"{name} must be a whole number of 0 or more, got {raw!r}")
    return int(raw)
