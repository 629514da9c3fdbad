"""The ranges of a run split over workers (issue 14): kept beside the core schema, registered on the same
``Base.metadata`` by :mod:`contracts.schema`.

A run with ``--workers N`` cuts its Ready milestones into contiguous milestone id ranges, one row each, and
its workers (and any ``ms-prcs run --join`` on another host) claim them one at a time. The row is the claim
and the range's progress: who holds it, since when and how recently it was seen, how far it got (the last
milestone id of its last committed chunk) and what its committed chunks did, so a range whose worker died is
taken again where it stopped and the run's summary adds up every worker's counts exactly once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contracts.models import Base


class RunRange(Base):
    """Milestone ids ``lo_pk..hi_pk`` of one run. ``state``: ``open`` (nobody has it), ``claimed`` (a worker
    on ``host`` with ``pid`` has it, claim number ``claims``) or ``done``."""

    __tablename__ = "run_range"
    process_instance: Mapped[int] = mapped_column(
        ForeignKey("process_run.process_instance"), primary_key=True
    )
    range_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    lo_pk: Mapped[int] = mapped_column(Integer)
    hi_pk: Mapped[int] = mapped_column(Integer)
    ready: Mapped[int] = mapped_column(Integer)
    """Ready milestones in the range when the run planned it (what the ranges balance)."""
    state: Mapped[str] = mapped_column(String(10), default="open")
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int | None]
    claims: Mapped[int] = mapped_column(Integer, default=0)
    """How many times the range was claimed: more than once means a worker died holding it."""
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    after_pk: Mapped[int] = mapped_column(Integer)
    """The last milestone id its committed chunks took (``lo_pk - 1`` before the first): where to go on."""
    milestones_completed: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[str] = mapped_column(Text, default="{}")
    """The committed chunks' counts, as ``process_run.counts``."""
