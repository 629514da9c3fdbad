"""The run control's scope as SQL, and the lock that keeps two runs from completing the same milestone.

The scope is resolved to surrogate keys once, at the start, so an unknown business unit, contract or
milestone is refused before anything is written, and every statement of the run filters by integers.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import sqlalchemy as sa

from contracts.errors import NotFound
from contracts.models import BusinessUnit, Contract, Milestone, ProcessRun
from contracts.schema import table_of
from ms_prcs.engine.control import RunControl
from ms_prcs.engine.reach import Reach, closure

_contract = table_of(Contract)
_milestone = table_of(Milestone)


@dataclass(frozen=True)
class Scope:
    """Which milestones a run may complete; ``None``/empty means no restriction on that level."""

    business_units: tuple[str, ...] = ()
    contract_pk: int | None = None
    milestone_pk: int | None = None
    milestone_pks: tuple[int, ...] | None = None
    """The milestone and what it reaches (``RunControl.reach``), when that is more than the milestone."""
    milestone_range: tuple[int, int] | None = None
    """Milestone ids ``lo..hi`` (inclusive): one range of a run split over workers (:mod:`ms_prcs.engine.ranges`)."""
    chunk_locks: bool = True
    """False for a worker of a run that holds the run lock for the whole scope: the run's own workers must
    not serialize on the chunk-level advisory locks (see :func:`lock_chunk`)."""

    def predicate(self, m: sa.FromClause) -> sa.ColumnElement[bool]:
        """A filter on a ``milestone`` table or alias ``m``."""
        terms: list[sa.ColumnElement[bool]] = []
        if self.milestone_pks is not None:
            terms.append(m.c.id.in_(self.milestone_pks))
        elif self.milestone_pk is not None:
            terms.append(m.c.id == self.milestone_pk)
        if self.contract_pk is not None:
            terms.append(m.c.contract_pk == self.contract_pk)
        if self.milestone_range is not None:
            terms.append(m.c.id.between(*self.milestone_range))
        if self.business_units:
            terms.append(
                m.c.contract_pk.in_(
                    sa.select(_contract.c.id).where(_contract.c.business_unit.in_(self.business_units))
                )
            )
        return sa.and_(sa.true(), *terms)

    def lock_units(self) -> tuple[str, ...]:
        """The business units this scope writes to, or ``()`` for all of them."""
        return tuple(sorted(set(self.business_units)))


def resolve(conn: sa.Connection, control: RunControl) -> Scope:
    """Turn the run control's keys into ids, refusing keys that name nothing (exit code 1)."""
    units = control.business_units
    known = set(
        conn.scalars(sa.select(BusinessUnit.business_unit).where(BusinessUnit.business_unit.in_(units)))
    )
    for bu in units:
        if bu not in known:
            raise NotFound("business unit", bu)
    contract_pk = milestone_pk = None
    contract_key = control.milestone.contract if control.milestone else control.contract
    if control.contract is not None:
        contract_pk = _contract_pk(conn, control.contract.business_unit, control.contract.contract_num)
    if control.milestone is not None:
        key = control.milestone
        owner = _contract_pk(conn, key.contract.business_unit, key.contract.contract_num)
        milestone_pk = conn.scalar(
            sa.select(_milestone.c.id).where(
                _milestone.c.contract_pk == owner,
                _milestone.c.milestone_id == key.milestone_id,
                _milestone.c.milestone_num == key.milestone_num,
            )
        )
        if milestone_pk is None:
            raise NotFound("milestone", str(key))
    if not units and contract_key is not None:
        units = (contract_key.business_unit,)  # a narrower scope still only writes to its business unit
    pks = None
    if milestone_pk is not None and control.reach != Reach.MILESTONE:
        pks = closure(conn, int(milestone_pk), Reach(control.reach))
        if not control.business_units:  # lock (and write to) every unit the closure spans
            units = tuple(
                sorted(
                    set(
                        conn.scalars(
                            sa.select(_contract.c.business_unit)
                            .join(_milestone, _milestone.c.contract_pk == _contract.c.id)
                            .where(_milestone.c.id.in_(pks))
                        )
                    )
                )
            )
    return Scope(units, contract_pk, milestone_pk, pks)


def _contract_pk(conn: sa.Connection, business_unit: str, contract_num: str) -> int:
    pk = conn.scalar(
        sa.select(_contract.c.id).where(
            _contract.c.business_unit == business_unit, _contract.c.contract_num == contract_num
        )
    )
    if pk is None:
        raise NotFound("contract", f"{business_unit}/{contract_num}")
    return int(pk)


# PostgreSQL advisory lock keys: (class, object). Object 0 is "every business unit".
_LOCK_CLASS = 0x4D53  # "MS"


def lock_chunk(conn: sa.Connection, scope: Scope, process_instance: int | None, now: dt.datetime) -> None:
    """Serialize chunk transactions of runs whose scopes overlap, for the rest of the current transaction.

    Two runs over the same milestones would otherwise both find them Ready and both write their
    StatusChange rows. A run waits for an overlapping one's chunk to commit, then sees its completions.

    SQLite has one writer at a time: writing first (the heartbeat) takes the database's write lock before
    anything is read, so the chunk reads only committed state and no one else writes until it commits.
    PostgreSQL: transaction-level advisory locks, released at commit or when a killed run's connection
    drops. A run over some business units takes the "all units" lock shared and each unit's exclusively;
    a run over all units takes "all units" exclusively. Units are locked in sorted order (no deadlock).

    These locks are the second line of defence: the run lock (:mod:`ms_prcs.engine.runlock`) already keeps
    a second run off the scope. The workers of one run (``--workers``) skip them (``scope.chunk_locks``),
    else they would take turns, and take them shared instead (:func:`lock_chunk_shared`). On PostgreSQL the heartbeat is not written here: that row lock would be
    held for the whole chunk and stall the run's heartbeat thread; the chunk's counts refresh it at its end.
    """
    if conn.dialect.name != "postgresql":
        run = table_of(ProcessRun)
        conn.execute(
            run.update()
            .where(run.c.process_instance == (process_instance if process_instance is not None else -1))
            .values(heartbeat_at=now)
        )
        return
    if not scope.chunk_locks:
        return
    units = scope.lock_units()
    if not units:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_CLASS, 0)))
        return
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(_LOCK_CLASS, 0)))
    for bu in units:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_CLASS, _unit_key(bu))))


def lock_chunk_shared(conn: sa.Connection, units: tuple[str, ...]) -> None:
    """PostgreSQL: what a worker of a run split over ranges takes for its chunk instead of :func:`lock_chunk`.

    Shared, so the run's workers never wait for one another; but a run that took the run lock over from a
    dead run (``lock_chunk``, exclusive on a unit or on "all units") waits for the chunk a worker of the
    dead run still has in flight, and the worker's next chunk sees that its run is no longer Processing.
    ``units`` is every unit the run writes to (all existing units for a run over all of them)."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(_LOCK_CLASS, 0)))
    for bu in units:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(_LOCK_CLASS, _unit_key(bu))))


def _unit_key(business_unit: str) -> int:
    """A stable 31-bit key per business unit (never 0, which is "all units")."""
    return (zlib.crc32(business_unit.encode()) & 0x7FFFFFFF) or 1
