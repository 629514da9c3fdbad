"""The schema: one typed declarative ``Base`` for every table of DESIGN section 1.

All tables live in the bottom layer so that one MetaData (and one Alembic history) describes the whole
database; packages above add services, not tables. Surrogate integer keys keep foreign keys and the
engine's set-based joins narrow; the natural keys (``US001/K1000/MS001/1``) are unique constraints.
Statuses are stored by value (``'Ready'``) so user SQL conditions read naturally.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from contracts.status import (
    ConditionStatus,
    ConditionType,
    ContractStatus,
    CreatedFrom,
    EventType,
    MilestoneSource,
    MilestoneStatus,
    PlanStatus,
    PlanType,
    RequiredConditions,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def status_enum(enum: type[StrEnum], length: int = 20) -> Enum:
    """Store an enum by its readable value, as a plain string (no native PG enum to migrate)."""
    return Enum(
        enum,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {
        Decimal: Numeric(15, 2),
        str: String(255),
    }


# --- business units, users, roles -------------------------------------------------------------------


class BusinessUnit(Base):
    __tablename__ = "business_unit"
    business_unit: Mapped[str] = mapped_column(String(5), primary_key=True)
    descr: Mapped[str] = mapped_column(default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")


class AppUser(Base):
    __tablename__ = "app_user"
    user_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(default="")
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", order_by="UserRole.role_name")


class Role(Base):
    __tablename__ = "role"
    role_name: Mapped[str] = mapped_column(String(30), primary_key=True)
    descr: Mapped[str] = mapped_column(default="")


class UserRole(Base):
    __tablename__ = "user_role"
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), primary_key=True)
    role_name: Mapped[str] = mapped_column(ForeignKey("role.role_name"), primary_key=True)


class Classification(Base):
    """A milestone classification: the set of roles allowed to change the milestone or mark its conditions."""

    __tablename__ = "classification"
    classification: Mapped[str] = mapped_column(String(30), primary_key=True)
    descr: Mapped[str] = mapped_column(default="")
    roles: Mapped[list[ClassificationRole]] = relationship(
        cascade="all, delete-orphan", order_by="ClassificationRole.role_name"
    )


class ClassificationRole(Base):
    __tablename__ = "classification_role"
    classification: Mapped[str] = mapped_column(ForeignKey("classification.classification"), primary_key=True)
    role_name: Mapped[str] = mapped_column(ForeignKey("role.role_name"), primary_key=True)


# --- contracts ------------------------------------------------------------------------------------


class Contract(Base):
    __tablename__ = "contract"
    __table_args__ = (UniqueConstraint("business_unit", "contract_num"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    business_unit: Mapped[str] = mapped_column(ForeignKey("business_unit.business_unit"))
    contract_num: Mapped[str] = mapped_column(String(25))
    descr: Mapped[str] = mapped_column(default="")
    customer: Mapped[str] = mapped_column(String(30), default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[ContractStatus] = mapped_column(
        status_enum(ContractStatus), default=ContractStatus.PENDING
    )
    activated_on: Mapped[dt.date | None] = mapped_column(Date)

    lines: Mapped[list[ContractLine]] = relationship(
        back_populates="contract", order_by="ContractLine.line_num", cascade="all, delete-orphan"
    )
    attributes: Mapped[list[ContractAttribute]] = relationship(cascade="all, delete-orphan")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="contract", order_by="(Milestone.milestone_id, Milestone.milestone_num)"
    )

    @property
    def key(self) -> str:
        return f"{self.business_unit}/{self.contract_num}"


class ContractAttribute(Base):
    __tablename__ = "contract_attribute"
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(default="")


class ContractLine(Base):
    __tablename__ = "contract_line"
    __table_args__ = (UniqueConstraint("contract_pk", "line_num"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    line_num: Mapped[int]
    product: Mapped[str] = mapped_column(String(30), default="")
    amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    contract: Mapped[Contract] = relationship(back_populates="lines")


# --- milestone templates -------------------------------------------------------------------------


class ConditionFields:
    """The type-specific fields shared by a condition template and a contract milestone's condition."""

    condition_type: Mapped[ConditionType] = mapped_column(status_enum(ConditionType))
    descr: Mapped[str] = mapped_column(default="")
    condition_date: Mapped[dt.date | None] = mapped_column(Date)
    sql_text: Mapped[str | None] = mapped_column(Text)
    source: Mapped[MilestoneSource | None] = mapped_column(status_enum(MilestoneSource))
    days_lag: Mapped[int] = mapped_column(default=0)
    project_id: Mapped[str | None] = mapped_column(String(15))
    activity_id: Mapped[str | None] = mapped_column(String(15))
    activity_status: Mapped[str | None] = mapped_column(String(20))


class MilestoneTemplate(Base):
    """A generic milestone (PeopleSoft's milestone template): copied onto contracts, never referenced live."""

    __tablename__ = "milestone_template"
    milestone_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    descr: Mapped[str] = mapped_column(default="")
    required_conditions: Mapped[RequiredConditions] = mapped_column(
        status_enum(RequiredConditions), default=RequiredConditions.ALL
    )
    classification: Mapped[str | None] = mapped_column(ForeignKey("classification.classification"))
    conditions: Mapped[list[ConditionTemplate]] = relationship(
        order_by="ConditionTemplate.condition_seq", cascade="all, delete-orphan"
    )


class ConditionTemplate(ConditionFields, Base):
    """A condition of a milestone template. A Contracts reference names a milestone id (``ref_milestone_id``):
    when copied onto a contract it resolves to that contract's milestone with that id (first number)."""

    __tablename__ = "condition_template"
    milestone_id: Mapped[str] = mapped_column(ForeignKey("milestone_template.milestone_id"), primary_key=True)
    condition_seq: Mapped[int] = mapped_column(primary_key=True)
    ref_milestone_id: Mapped[str | None] = mapped_column(String(10))


# --- contract milestones and their conditions ------------------------------------------------------


class Milestone(Base):
    __tablename__ = "milestone"
    __table_args__ = (
        UniqueConstraint("contract_pk", "milestone_id", "milestone_num"),
        Index("ix_milestone_status_contract", "status", "contract_pk"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    milestone_id: Mapped[str] = mapped_column(String(10))
    milestone_num: Mapped[int]
    descr: Mapped[str] = mapped_column(default="")
    status: Mapped[MilestoneStatus] = mapped_column(
        status_enum(MilestoneStatus), default=MilestoneStatus.PENDING
    )
    required_conditions: Mapped[RequiredConditions] = mapped_column(
        status_enum(RequiredConditions), default=RequiredConditions.ALL
    )
    est_completion_date: Mapped[dt.date | None] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    completed_by_run: Mapped[int | None]
    classification: Mapped[str | None] = mapped_column(ForeignKey("classification.classification"))
    created_from: Mapped[CreatedFrom] = mapped_column(status_enum(CreatedFrom), default=CreatedFrom.MANUAL)

    contract: Mapped[Contract] = relationship(back_populates="milestones")
    conditions: Mapped[list[MilestoneCondition]] = relationship(
        back_populates="milestone",
        order_by="MilestoneCondition.condition_seq",
        cascade="all, delete-orphan",
        foreign_keys="MilestoneCondition.milestone_pk",
    )

    @property
    def key(self) -> str:
        return f"{self.contract.key}/{self.milestone_id}/{self.milestone_num}"


class MilestoneCondition(ConditionFields, Base):
    __tablename__ = "milestone_condition"
    __table_args__ = (
        UniqueConstraint("milestone_pk", "condition_seq"),
        Index("ix_milestone_condition_ref", "ref_milestone_pk"),
        # milestone_pk third: a chunk's Ready SQL conditions are one range of it (migration 0012)
        Index(
            "ix_milestone_condition_status_type_milestone",
            "condition_status",
            "condition_type",
            "milestone_pk",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_pk: Mapped[int] = mapped_column(ForeignKey("milestone.id"))
    condition_seq: Mapped[int]
    condition_status: Mapped[ConditionStatus] = mapped_column(
        status_enum(ConditionStatus), default=ConditionStatus.READY
    )
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    completed_by: Mapped[str | None] = mapped_column(String(30))
    ref_milestone_pk: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))

    milestone: Mapped[Milestone] = relationship(back_populates="conditions", foreign_keys=[milestone_pk])
    ref_milestone: Mapped[Milestone | None] = relationship(foreign_keys=[ref_milestone_pk])

    @property
    def key(self) -> str:
        return f"{self.milestone.key}#{self.condition_seq}"


# --- project costing stand-in -----------------------------------------------------------------------


class ProjectActivity(Base):
    __tablename__ = "project_activity"
    __table_args__ = (UniqueConstraint("project_id", "activity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(String(15))
    activity_id: Mapped[str] = mapped_column(String(15))
    descr: Mapped[str] = mapped_column(default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    history: Mapped[list[ActivityStatusHistory]] = relationship(
        order_by="(ActivityStatusHistory.effdt, ActivityStatusHistory.effseq)", cascade="all, delete-orphan"
    )

    @property
    def key(self) -> str:
        return f"{self.project_id}/{self.activity_id}"


class ActivityStatusHistory(Base):
    """Effective-dated activity status rows; a Projects condition looks for the *first* row with its status."""

    __tablename__ = "activity_status_history"
    activity_pk: Mapped[int] = mapped_column(ForeignKey("project_activity.id"), primary_key=True)
    effdt: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    effseq: Mapped[int] = mapped_column(primary_key=True, default=0)
    status: Mapped[str] = mapped_column(String(20))


# --- billing and revenue plans --------------------------------------------------------------------


class PlanTemplate(Base):
    __tablename__ = "plan_template"
    template_id: Mapped[str] = mapped_column(String(15), primary_key=True)
    plan_type: Mapped[PlanType] = mapped_column(status_enum(PlanType))
    descr: Mapped[str] = mapped_column(default="")
    ready_on_activation: Mapped[bool] = mapped_column(Boolean, default=False)
    events: Mapped[list[PlanTemplateEvent]] = relationship(
        order_by="PlanTemplateEvent.event_num", cascade="all, delete-orphan"
    )


class PlanTemplateEvent(Base):
    __tablename__ = "plan_template_event"
    template_id: Mapped[str] = mapped_column(ForeignKey("plan_template.template_id"), primary_key=True)
    event_num: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[EventType] = mapped_column(status_enum(EventType))
    milestone_id: Mapped[str | None] = mapped_column(ForeignKey("milestone_template.milestone_id"))
    event_date: Mapped[dt.date | None] = mapped_column(Date)
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    amount: Mapped[Decimal | None]
    descr: Mapped[str] = mapped_column(default="")


class Plan(Base):
    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("contract_line_pk", "plan_type", "plan_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_line_pk: Mapped[int] = mapped_column(ForeignKey("contract_line.id"))
    plan_type: Mapped[PlanType] = mapped_column(status_enum(PlanType))
    plan_id: Mapped[str] = mapped_column(String(15))
    template_id: Mapped[str | None] = mapped_column(ForeignKey("plan_template.template_id"))
    status: Mapped[PlanStatus] = mapped_column(status_enum(PlanStatus), default=PlanStatus.PENDING)
    descr: Mapped[str] = mapped_column(default="")
    contract_line: Mapped[ContractLine] = relationship()
    events: Mapped[list[PlanEvent]] = relationship(
        back_populates="plan", order_by="PlanEvent.event_num", cascade="all, delete-orphan"
    )


class PlanEvent(Base):
    """A billing or revenue plan event; ``status`` holds a BillingEventStatus or RevenueEventStatus value."""

    __tablename__ = "plan_event"
    __table_args__ = (
        UniqueConstraint("plan_pk", "event_num"),
        Index("ix_plan_event_milestone", "milestone_pk"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_pk: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    event_num: Mapped[int]
    event_type: Mapped[EventType] = mapped_column(status_enum(EventType))
    status: Mapped[str] = mapped_column(String(20), default="Pending")
    milestone_pk: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    activity_pk: Mapped[int | None] = mapped_column(ForeignKey("project_activity.id"))
    event_date: Mapped[dt.date | None] = mapped_column(Date)
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    amount: Mapped[Decimal | None]
    descr: Mapped[str] = mapped_column(default="")
    plan: Mapped[Plan] = relationship(back_populates="events")
    milestone: Mapped[Milestone | None] = relationship()


# --- audit and run log ----------------------------------------------------------------------------


class StatusChange(Base):
    """Append-only audit of every status change: rows are inserted, never updated or deleted."""

    __tablename__ = "status_change"
    __table_args__ = (Index("ix_status_change_object", "object_type", "object_pk"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(20))
    object_pk: Mapped[int]
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    changed_by: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")


class ProcessRun(Base):
    """One engine run (a PeopleSoft process instance) with its run control and outcome."""

    __tablename__ = "process_run"
    process_instance: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_control: Mapped[str] = mapped_column(Text, default="{}")
    as_of: Mapped[dt.date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    job_name: Mapped[str | None] = mapped_column(String(40))
    """The scheduled (or ``--job``) job this run belongs to: with ``as_of`` it makes a rerun a no-op."""
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(String(20), default="Processing")
    counts: Mapped[str] = mapped_column(Text, default="{}")
    milestones_completed: Mapped[int] = mapped_column(default=0)
    conditions_completed: Mapped[int] = mapped_column(default=0)
    messages: Mapped[list[ProcessMessage]] = relationship(
        order_by="ProcessMessage.id", cascade="all, delete-orphan"
    )


class ProcessMessage(Base):
    __tablename__ = "process_message"
    __table_args__ = (Index("ix_process_message_run", "process_instance"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_instance: Mapped[int] = mapped_column(ForeignKey("process_run.process_instance"))
    severity: Mapped[str] = mapped_column(String(10))
    object_key: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text)


# --- the feed for billing and revenue systems (DESIGN 7) ---------------------------------------------


class FeedKind(StrEnum):
    MILESTONE_COMPLETED = "milestone_completed"
    BILLING_EVENT_ELIGIBLE = "billing_event_eligible"
    REVENUE_EVENT_ELIGIBLE = "revenue_event_eligible"
    REVENUE_EVENT_REVERSED = "revenue_event_reversed"
    BILLING_EVENT_CREDITED = "billing_event_credited"


class FeedEntry(Base):
    """One fact for downstream systems, appended and never changed: the ``id`` is the consumers' cursor.

    The entry copies the keys and amounts it announces (not only the foreign keys), so that what a consumer
    reads is what was true when the fact happened. ``dedupe_key`` (``milestone:<pk>`` / ``event:<pk>``) is
    unique: a milestone completes once and a plan event becomes eligible once, so a rerun cannot publish
    the same fact twice. No foreign keys: the log outlives whatever it describes.
    """

    __tablename__ = "feed_entry"
    __table_args__ = {"sqlite_autoincrement": True}  # cursors are never reused, even after a rollback
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[FeedKind] = mapped_column(status_enum(FeedKind, 30))
    dedupe_key: Mapped[str] = mapped_column(String(40), unique=True)
    business_unit: Mapped[str] = mapped_column(String(5))
    contract_num: Mapped[str] = mapped_column(String(25))
    contract_pk: Mapped[int]
    milestone_pk: Mapped[int | None]
    milestone_id: Mapped[str | None] = mapped_column(String(10))
    milestone_num: Mapped[int | None]
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    line_num: Mapped[int | None]
    plan_pk: Mapped[int | None]
    plan_type: Mapped[PlanType | None] = mapped_column(status_enum(PlanType))
    plan_id: Mapped[str | None] = mapped_column(String(15))
    event_pk: Mapped[int | None]
    event_num: Mapped[int | None]
    event_type: Mapped[EventType | None] = mapped_column(status_enum(EventType))
    event_date: Mapped[dt.date | None] = mapped_column(Date)
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    amount: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    as_of: Mapped[dt.date] = mapped_column(Date)
    process_instance: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FeedConsumer(Base):
    """A downstream system's position in the feed: every entry up to ``acked_through`` is acknowledged."""

    __tablename__ = "feed_consumer"
    consumer: Mapped[str] = mapped_column(String(40), primary_key=True)
    acked_through: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class RunLock(Base):
    """One row per business unit a live run is processing: the primary key is the lock (DESIGN 4, step 1).

    A run inserts the rows for every unit of its scope in one short transaction of its own, so it holds all
    of them or none, and the database (not a process) decides who wins. A run that dies leaves its rows; the
    next run finds them, sees the holder is dead (stale heartbeat, or its PID gone on the same host), marks it
    Died and takes over (see :mod:`ms_prcs.engine.runlock`).
    """

    __tablename__ = "run_lock"
    business_unit: Mapped[str] = mapped_column(String(5), primary_key=True)
    process_instance: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int | None]
