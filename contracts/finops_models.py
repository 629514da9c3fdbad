"""Finance operations tables (issue 16): holds on plans, events and contracts.

Kept beside the core schema in its own module (registered on the same ``Base.metadata`` by
:mod:`contracts.schema`) so the engine's hot tables stay as they are.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contracts.models import Base


class Hold(Base):
    """A hold on a contract (all its plans), a plan, or one plan event: who put it, when and why, and who
    released it. A hold is active while ``released_at`` is empty; rows are never deleted, so the history of
    holds is the table itself (with a StatusChange row, object type ``Hold``, for each move).

    ``object_type`` is a :class:`contracts.audit.ObjectType` value (``Contract``, ``Plan``, ``Plan Event``)
    and ``object_pk`` the held row's id. ``contract_pk`` and ``business_unit`` are copied from the held
    object so that a run can find the one-cycle holds of its business units without a join per kind.
    """

    __tablename__ = "hold"
    __table_args__ = (
        Index("ix_hold_object", "object_type", "object_pk"),
        Index("ix_hold_contract", "contract_pk"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(20))
    object_pk: Mapped[int]
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    business_unit: Mapped[str] = mapped_column(String(5))
    reason: Mapped[str] = mapped_column(Text)
    one_cycle: Mapped[bool] = mapped_column(Boolean, default=False)
    """Released by the next run over its business unit (that starts after the hold was put)."""
    held_at: Mapped[dt.datetime] = mapped_column(DateTime)
    held_by: Mapped[str] = mapped_column(String(40))
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    released_by: Mapped[str | None] = mapped_column(String(40))
    release_reason: Mapped[str] = mapped_column(Text, default="")
