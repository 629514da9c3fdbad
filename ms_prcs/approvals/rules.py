"""Who may do what: approvers (system roles, contract team roles, named users) and who may edit a contract.

**Approvers** of an approval are the holders of any of its system roles (``user_role``), the members of the
contract's team with any of its team roles (``contract_team``), and the users it names. A rule that names none
leaves approving to anyone who may edit the contract.

**Who may edit a contract**: the members of its contract team, once it has one; everyone while it has none
(ms-prcs has no other contract security, and the contract team is how the seed's "people who can edit the
Item" is said here). Submitting by hand, assigning, and the follow-ups that change the contract or its plans
need this right.

Every refusal is a :class:`~contracts.errors.NotAuthorized` that names the rule the user fails.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.errors import AlreadyExists, InvalidInput, NotAuthorized, NotFound
from contracts.keys import ContractKey, get_contract
from contracts.models import AppUser, Contract, UserRole
from ms_prcs.approvals.config.approval import RuleSpec
from ms_prcs.approvals.models import ContractTeam

_team = ContractTeam.__table__
_user_role = UserRole.__table__


def team(conn: sa.Connection | Session, contract_pk: int) -> list[tuple[str, str]]:
    """The contract's team as (user, team role), sorted."""
    return [
        (u, r)
        for u, r in conn.execute(
            sa.select(ContractTeam.user_id, ContractTeam.team_role)
            .where(ContractTeam.contract_pk == contract_pk)
            .order_by(ContractTeam.user_id, ContractTeam.team_role)
        )
    ]


def edit_problem(conn: sa.Connection | Session, contract_pk: int, user: str) -> str | None:
    """Why ``user`` may not edit the contract, or ``None`` when they may."""
    members = team(conn, contract_pk)
    if not members or any(u == user for u, _ in members):
        return None
    names = ", ".join(sorted({u for u, _ in members}))
    return f"only members of the contract's team may edit it ({names})"


def check_may_edit(session: Session, contract: Contract, user: str, what: str) -> None:
    """Refuse ``what`` (``submit ...``) unless ``user`` may edit ``contract``."""
    problem = edit_problem(session, contract.id, user)
    if problem:
        raise NotAuthorized(user, f"contract {contract.key}", f"{what}: {problem}")


def approver_problem(session: Session, rule: RuleSpec, contract_pk: int, user: str) -> str | None:
    """Why ``user`` is not an approver under ``rule`` on the contract, or ``None`` when they are."""
    if not (rule.roles or rule.team_roles or rule.users):
        problem = edit_problem(session, contract_pk, user)
        if problem is None:
            return None
        return f"the approver rule names nobody, so anyone who may edit the contract approves; {problem}"
    if user in rule.users:
        return None
    if rule.roles and session.scalar(
        sa.select(sa.func.count())
        .select_from(_user_role)
        .where(UserRole.user_id == user, UserRole.role_name.in_(rule.roles))
    ):
        return None
    if rule.team_roles and session.scalar(
        sa.select(sa.func.count())
        .select_from(_team)
        .where(
            ContractTeam.contract_pk == contract_pk,
            ContractTeam.user_id == user,
            ContractTeam.team_role.in_(rule.team_roles),
        )
    ):
        return None
    return f"the approver rule allows {rule.approvers()}"


def approvers(conn: sa.Connection, items: Sequence[tuple[int, RuleSpec]]) -> list[list[str]]:
    """The approvers of each (contract_pk, rule) in ``items``, sorted: two queries for any number of items.

    A rule that names no approvers yields nobody here (notifications then go to the assignees only).
    """
    roles = sorted({r for _, rule in items for r in rule.roles})
    team_roles = sorted({r for _, rule in items for r in rule.team_roles})
    contract_pks = sorted({pk for pk, rule in items if rule.team_roles})
    by_role: dict[str, set[str]] = {}
    if roles:
        for user, role in conn.execute(
            sa.select(UserRole.user_id, UserRole.role_name).where(UserRole.role_name.in_(roles))
        ):
            by_role.setdefault(role, set()).add(user)
    by_team_role: dict[tuple[int, str], set[str]] = {}
    if team_roles:
        for pk, user, role in conn.execute(
            sa.select(ContractTeam.contract_pk, ContractTeam.user_id, ContractTeam.team_role).where(
                ContractTeam.contract_pk.in_(contract_pks), ContractTeam.team_role.in_(team_roles)
            )
        ):
            by_team_role.setdefault((pk, role), set()).add(user)
    result = []
    for contract_pk, rule in items:
        users = set(rule.users)
        for role in rule.roles:
            users |= by_role.get(role, set())
        for role in rule.team_roles:
            users |= by_team_role.get((contract_pk, role), set())
        result.append(sorted(users))
    return result


# --- contract teams ------------------------------------------------------------------------------


def add_team_member(
    session: Session, key: ContractKey, user: str, team_role: str, editor: str
) -> ContractTeam:
    """Put ``user`` on the contract's team with ``team_role``. Once a contract has a team, only its members
    may change it (the first member can be added by anyone who may edit the contract, i.e. anyone)."""
    contract = get_contract(session, key)
    if session.get(AppUser, user) is None:
        raise NotFound("user", user)
    role = team_role.strip()
    if not role or "," in role:
        raise InvalidInput(f"team role {team_role!r} is not a name (no commas)")
    check_may_edit(session, contract, editor, "change the contract team")
    if session.get(ContractTeam, (contract.id, user, role)) is not None:
        raise AlreadyExists("team member", f"{user} ({role}) of contract {key}")
    row = ContractTeam(contract_pk=contract.id, user_id=user, team_role=role)
    session.add(row)
    session.flush()
    return row


def remove_team_member(session: Session, key: ContractKey, user: str, team_role: str, editor: str) -> None:
    contract = get_contract(session, key)
    row = session.get(ContractTeam, (contract.id, user, team_role.strip()))
    if row is None:
        raise NotFound("team member", f"{user} ({team_role}) of contract {key}")
    check_may_edit(session, contract, editor, "change the contract team")
    session.delete(row)
    session.flush()
