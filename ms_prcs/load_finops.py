"""The load format's finance-operations sections (issue 16): ``holds``, ``alert_contacts`` and
``webhooks``. Each entry goes through the same service as its CLI command; errors name the entry's path.

Self-contained (its own small field checks) so that :mod:`ms_prcs.load` only lists the sections; a loader
is ``(ctx, section, path)`` where ``ctx`` has the session, the acting user and the counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy.orm import Session

from billing_plans import holds
from contracts.audit import Who
from contracts.errors import LoadError, MsPrcsError
from ms_prcs import webhooks
from ms_prcs.alerts.send import set_contact


class Context(Protocol):
    session: Session
    who: Who
    counts: Counter[str]


def load_holds(ctx: Context, section: Any, path: str) -> None:
    """``kind`` (contract, plan, event), ``key``, ``reason``, optional ``one_cycle``: put on hold."""
    for data, item in _entries(section, path):
        entry = _fields(data, item, ["kind", "key", "reason"], ["one_cycle"])
        one_cycle = entry.get("one_cycle", False)
        if not isinstance(one_cycle, bool):
            raise LoadError(f"{item}.one_cycle", f"expected true or false, got {one_cycle!r}")
        with _at(item):
            target = holds.HoldTarget.parse(_text(entry, "kind", item), _text(entry, "key", item))
            holds.put_on_hold(ctx.session, target, ctx.who, _text(entry, "reason", item), one_cycle=one_cycle)
        ctx.counts["holds"] += 1


def load_alert_contacts(ctx: Context, section: Any, path: str) -> None:
    """``user`` and ``email``: where the user's alerts are e-mailed."""
    for data, item in _entries(section, path):
        entry = _fields(data, item, ["user", "email"], [])
        with _at(item):
            set_contact(ctx.session, _text(entry, "user", item), _text(entry, "email", item))
        ctx.counts["alert contacts"] += 1


def load_webhooks(ctx: Context, section: Any, path: str) -> None:
    """``consumer``, ``url``, ``secret``, optional ``kinds`` (a list) and ``max_attempts``."""
    for data, item in _entries(section, path):
        entry = _fields(data, item, ["consumer", "url", "secret"], ["kinds", "max_attempts"])
        kinds = entry.get("kinds", [])
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise LoadError(f"{item}.kinds", "expected a list of feed kinds")
        attempts = entry.get("max_attempts", 8)
        if isinstance(attempts, bool) or not isinstance(attempts, int):
            raise LoadError(f"{item}.max_attempts", f"expected a whole number, got {attempts!r}")
        with _at(item):
            webhooks.subscribe(
                ctx.session,
                _text(entry, "consumer", item),
                _text(entry, "url", item),
                _text(entry, "secret", item),
                ctx.who,
                kinds=kinds,
                max_attempts=attempts,
            )
        ctx.counts["webhooks"] += 1


SECTIONS = (
    ("holds", load_holds),
    ("alert_contacts", load_alert_contacts),
    ("webhooks", load_webhooks),
)
"""Appended to :data:`ms_prcs.load.SECTIONS`: after plans and users, which they name."""


@contextmanager
def _at(path: str) -> Iterator[None]:
    try:
        yield
    except LoadError:
        raise
    except MsPrcsError as exc:
        raise LoadError(path, str(exc)) from exc


def _entries(section: Any, path: str) -> list[tuple[Any, str]]:
    if not isinstance(section, list):
        raise LoadError(path, "expected a list of entries")
    return [(item, f"{path}[{i}]") for i, item in enumerate(section)]


def _fields(data: Any, path: str, required: Sequence[str], optional: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise LoadError(path, "expected a mapping")
    known = [*required, *optional]
    for name in data:
        if name not in known:
            raise LoadError(f"{path}.{name}", f"unknown key (known: {', '.join(known)})")
    for name in required:
        if data.get(name) is None:
            raise LoadError(f"{path}.{name}", "is required")
    return data


def _text(entry: Mapping[str, Any], name: str, path: str) -> str:
    value = entry[name]
    if isinstance(value, bool) or not isinstance(value, str | int | dt.date):
        raise LoadError(f"{path}.{name}", f"expected text, got {value!r}")
    return str(value)
