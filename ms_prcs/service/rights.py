"""Coarse rights of the service, and which token scopes and roles grant them (DESIGN 12).

Fine-grained authorization is the domain's own (classifications, approver rules, contract teams): routes
pass the authenticated user to the services, which decide. What the CLI never needed is a coarse right:
reading reports, starting runs, reading the feed and billing, administering tokens. Those are held through
well-known roles, managed like any other role (``ms-prcs role add``, ``ms-prcs user add --role``); the
service creates them when it starts, so they can be granted at once.

A token acts as its user, limited by its scopes: a right needs the scope on the token *and* (where a role is
named) the role on the user. A signed-in person acts with their own roles and every scope.

Feed consumers: a feed token may be bound to one consumer (``token create --scope feed --consumer NAME``);
it then reads, acknowledges and sees only that consumer (and its webhook), so a billing system's credential
cannot move another system's cursor or claim its events. An unbound token, and a signed-in person, may use
every consumer: the behaviour before binding existed, kept for the tokens already handed out and for the
operator's own tools; bind every new program's token.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.models import Role


class Scope(StrEnum):
    FEED = "feed"
    READ = "read"
    WRITE = "write"
    RUN = "run"
    ADMIN = "admin"


class Right(StrEnum):
    READ = "read"
    """Contracts, milestones, plans, runs, the inbox: any authenticated user."""
    WRITE = "write"
    """Milestone moves, conditions, approvals, plans: the domain's rules decide who may."""
    REPORTS = "reports"
    RUN = "run"
    FEED = "feed"
    """Read and acknowledge the feed, and report events billed, recognized or reversed."""
    ADMIN = "admin"


ROLE_REPORTS = "ms-prcs-reports"
ROLE_RUN = "ms-prcs-run"
ROLE_FEED = "ms-prcs-feed"
ROLE_ADMIN = "ms-prcs-admin"

ROLES: dict[str, str] = {
    ROLE_REPORTS: "ms-prcs service: read the reports",
    ROLE_RUN: "ms-prcs service: start milestone processing runs",
    ROLE_FEED: "ms-prcs service: read and acknowledge the feed, bill and recognize events",
    ROLE_ADMIN: "ms-prcs service: administer API tokens",
}

REQUIRED: dict[Right, tuple[Scope, str | None]] = {
    Right.READ: (Scope.READ, None),
    Right.WRITE: (Scope.WRITE, None),
    Right.REPORTS: (Scope.READ, ROLE_REPORTS),
    Right.RUN: (Scope.RUN, ROLE_RUN),
    Right.FEED: (Scope.FEED, ROLE_FEED),
    Right.ADMIN: (Scope.ADMIN, ROLE_ADMIN),
}
"""Each right: the token scope it needs, and the role its user must hold (None: any user)."""


def parse_scopes(values: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    from contracts.errors import InvalidInput

    known = {s.value for s in Scope}
    wrong = sorted({v for v in values if v not in known})
    if wrong:
        raise InvalidInput(f"unknown token scope {', '.join(wrong)}; use {', '.join(s.value for s in Scope)}")
    if not values:
        raise InvalidInput("a token needs at least one scope (--scope feed|read|write|run|admin)")
    return frozenset(Scope(v) for v in values)


def missing(right: Right, roles: frozenset[str], scopes: frozenset[Scope] | None) -> str | None:
    """Why a caller with ``roles`` (and a token's ``scopes``; None for a signed-in person) lacks ``right``,
    or None when it holds it."""
    scope, role = REQUIRED[right]
    if scopes is not None and scope not in scopes:
        return f"the token has no {scope} scope"
    if role is not None and role not in roles:
        return f"{right} needs the role {role}"
    return None


def consumer_refused(bound: str | None, consumer: str) -> str | None:
    """Why a caller bound to feed consumer ``bound`` (None: unbound) may not use ``consumer``, or None."""
    if bound is None or bound == consumer:
        return None
    return f"the token is bound to feed consumer {bound}, not {consumer}"


def ensure_roles(session: Session) -> list[str]:
    """Create the well-known roles that do not exist yet; returns their names."""
    existing = set(session.scalars(select(Role.role_name).where(Role.role_name.in_(list(ROLES)))))
    added = [name for name in ROLES if name not in existing]
    session.add_all(Role(role_name=name, descr=ROLES[name]) for name in added)
    session.flush()
    return added
