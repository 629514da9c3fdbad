"""An approval's configuration: approvers, notes required, auto-approve, submit modes and follow-ups.

The configuration lives on a User Initiated condition template (``approval_rule_template``, copied when a
milestone is added from the template) or on a contract milestone's condition (``approval_rule``). One value,
:class:`RuleSpec`, serves the CLI, load files and both tables; it is checked (roles and users exist, modes and
follow-ups are well formed) before anything is stored, and a condition's rule changes only while its milestone
is Pending, like the condition itself (the seed: a Ready milestone's conditions are not editable).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.admin import check_classification
from contracts.audit import Who
from contracts.errors import InvalidInput, NotFound, RuleViolation
from contracts.keys import MilestoneKey, get_condition
from contracts.models import AppUser, ConditionTemplate, Milestone, MilestoneCondition, Role
from contracts.status import ConditionType, ContractStatus, editable
from contracts.templates import get_milestone_template
from ms_prcs.approvals.models import ApprovalFields, ApprovalRule, ApprovalRuleTemplate

ASSIGNEE = "assignee"
"""``notify=assignee``: the people the milestone is assigned to."""


@dataclass(frozen=True)
class SubmitModes:
    """How an approval is submitted; any mode that holds submits it (the seed's Pro Tip).

    Written on the command line and in load files as ``manual``, ``status=Active``, ``steps`` and
    ``attr=Priority:High,Urgent``.
    """

    manual: bool = True
    on_status: ContractStatus | None = None
    after_steps: bool = False
    attr_name: str | None = None
    attr_values: tuple[str, ...] = ()

    @classmethod
    def parse(cls, texts: Sequence[str]) -> SubmitModes:
        """The modes named in ``texts``; none named means the default, manual submission by a person."""
        if not texts:
            return cls()
        manual, after_steps = False, False
        on_status: ContractStatus | None = None
        attr_name: str | None = None
        attr_values: tuple[str, ...] = ()
        for text in texts:
            word, _, arg = text.strip().partition("=")
            word = word.strip().lower()
            if word == "manual" and not arg:
                manual = True
            elif word == "steps" and not arg:
                after_steps = True
            elif word == "status" and arg:
                on_status = _contract_status(arg, f"submit mode {text!r}")
            elif word in ("attr", "attribute") and arg:
                name, sep, values = arg.partition(":")
                attr_values = tuple(v.strip() for v in values.split(",") if v.strip())
                if not sep or not name.strip() or not attr_values:
                    raise InvalidInput(
                        f"submit mode {text!r} is not of the form attr=NAME:VALUE[,VALUE...] (e.g. attr=Priority:High)"
                    )
                attr_name = name.strip()
            else:
                raise InvalidInput(
                    f"submit mode {text!r} is not one of manual, status=STATUS, steps, attr=NAME:VALUE[,VALUE...]"
                )
        return cls(manual, on_status, after_steps, attr_name, attr_values)

    def texts(self) -> list[str]:
        """Back to the form :meth:`parse` reads."""
        result = ["manual"] if self.manual else []
        if self.on_status is not None:
            result.append(f"status={self.on_status}")
        if self.after_steps:
            result.append("steps")
        if self.attr_name is not None:
            result.append(f"attr={self.attr_name}:{','.join(self.attr_values)}")
        return result

    def describe(self) -> str:
        """In words, for messages and ``approval show``."""
        words = ["by a person"] if self.manual else []
        if self.on_status is not None:
            words.append(f"when the contract is {self.on_status}")
        if self.after_steps:
            words.append("when earlier steps are Completed")
        if self.attr_name is not None:
            words.append(f"when attribute {self.attr_name} is {' or '.join(self.attr_values)}")
        return ", ".join(words) or "never (no submit mode)"


class FollowUpKind(StrEnum):
    EVENT_READY = "event_ready"
    """Set Ready the Pending billing and revenue plan events that wait on the milestone."""
    CONTRACT_STATUS = "contract_status"
    NOTIFY = "notify"


@dataclass(frozen=True)
class FollowUp:
    """An action run after an approval or a denial (the seed's "prompt actions"), e.g. ``notify=assignee``."""

    kind: FollowUpKind
    arg: str = ""

    def __str__(self) -> str:
        return f"{self.kind}={self.arg}" if self.arg else str(self.kind)


def parse_followups(text: str, what: str) -> tuple[FollowUp, ...]:
    """``event_ready;contract_status=Active;notify=jdoe`` into follow-ups, in order."""
    result = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        word, sep, arg = part.partition("=")
        word, arg = word.strip().lower(), arg.strip()
        if word == FollowUpKind.EVENT_READY and not sep:
            result.append(FollowUp(FollowUpKind.EVENT_READY))
        elif word == FollowUpKind.CONTRACT_STATUS and arg:
            result.append(FollowUp(FollowUpKind.CONTRACT_STATUS, _contract_status(arg, f"{what} {part!r}")))
        elif word == FollowUpKind.NOTIFY and arg:
            result.append(FollowUp(FollowUpKind.NOTIFY, ASSIGNEE if arg.lower() == ASSIGNEE else arg))
        else:
            raise InvalidInput(
                f"{what} {part!r} is not one of event_ready, contract_status=STATUS, notify=USER, notify=assignee"
            )
    return tuple(result)


def _contract_status(text: str, what: str) -> ContractStatus:
    for status in ContractStatus:
        if status.value.lower() == text.strip().lower():
            return status
    raise InvalidInput(f"{what}: {text.strip()!r} is not a contract status (Pending, Active, Closed)")


def _names(values: Iterable[str], what: str) -> tuple[str, ...]:
    """Names are stored comma-separated, so a comma inside one would split it."""
    result = []
    for value in values:
        name = value.strip()
        if not name or "," in name:
            raise InvalidInput(f"{what} {value!r} is not a name (no commas)")
        if name not in result:
            result.append(name)
    return tuple(result)


def split_names(text: str) -> tuple[str, ...]:
    return tuple(n for n in (p.strip() for p in text.split(",")) if n)


@dataclass(frozen=True)
class RuleSpec:
    """The whole configuration of one approval. With no approvers at all, anyone who may edit the contract
    may approve (see :mod:`ms_prcs.approvals.rules`)."""

    roles: tuple[str, ...] = ()
    team_roles: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    note_on_approve: bool = False
    note_on_deny: bool = False
    auto_approve: bool = False
    submit: SubmitModes = field(default_factory=SubmitModes)
    on_approve: tuple[FollowUp, ...] = ()
    on_deny: tuple[FollowUp, ...] = ()
    complete_at_once: bool = True
    """Approving what completes the milestone's required conditions has the engine complete it at once."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", _names(self.roles, "role"))
        object.__setattr__(self, "team_roles", _names(self.team_roles, "team role"))
        object.__setattr__(self, "users", _names(self.users, "user"))
        for value in self.submit.attr_values:
            _names([value], f"attribute value of submit mode attr={self.submit.attr_name}")

    def checked(self, session: Session) -> RuleSpec:
        """Roles and users named (approvers and ``notify=`` follow-ups) must exist."""
        for role in self.roles:
            if session.get(Role, role) is None:
                raise NotFound("role", role)
        notified = [f.arg for f in (*self.on_approve, *self.on_deny) if f.kind == FollowUpKind.NOTIFY]
        for user in (*self.users, *(u for u in notified if u != ASSIGNEE)):
            if session.get(AppUser, user) is None:
                raise NotFound("user", user)
        return self

    def columns(self) -> dict[str, Any]:
        """The values of :class:`~ms_prcs.approvals.models.ApprovalFields`."""
        return {
            "approver_roles": ",".join(self.roles),
            "approver_team_roles": ",".join(self.team_roles),
            "approver_users": ",".join(self.users),
            "note_on_approve": self.note_on_approve,
            "note_on_deny": self.note_on_deny,
            "auto_approve": self.auto_approve,
            "submit_manual": self.submit.manual,
            "submit_on_status": self.submit.on_status.value if self.submit.on_status else None,
            "submit_after_steps": self.submit.after_steps,
            "submit_attr_name": self.submit.attr_name,
            "submit_attr_values": ",".join(self.submit.attr_values),
            "on_approve": ";".join(str(f) for f in self.on_approve),
            "on_deny": ";".join(str(f) for f in self.on_deny),
            "complete_at_once": self.complete_at_once,
        }

    @classmethod
    def from_row(cls, row: ApprovalFields | Any) -> RuleSpec:
        """From an ``approval_rule``/``approval_rule_template`` row, ORM object or Core row alike."""
        return cls(
            roles=split_names(row.approver_roles or ""),
            team_roles=split_names(row.approver_team_roles or ""),
            users=split_names(row.approver_users or ""),
            note_on_approve=bool(row.note_on_approve),
            note_on_deny=bool(row.note_on_deny),
            auto_approve=bool(row.auto_approve),
            submit=SubmitModes(
                manual=bool(row.submit_manual),
                on_status=ContractStatus(row.submit_on_status) if row.submit_on_status else None,
                after_steps=bool(row.submit_after_steps),
                attr_name=row.submit_attr_name or None,
                attr_values=split_names(row.submit_attr_values or ""),
            ),
            on_approve=parse_followups(row.on_approve or "", "on_approve"),
            on_deny=parse_followups(row.on_deny or "", "on_deny"),
            complete_at_once=bool(getattr(row, "complete_at_once", True)),
        )

    def approvers(self) -> str:
        """``role FIN, team role PM or user dave``: who may approve, for messages."""
        parts = [f"role {r}" for r in self.roles]
        parts += [f"team role {r}" for r in self.team_roles]
        parts += [f"user {u}" for u in self.users]
        if not parts:
            return "anyone who may edit the contract"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "roles": list(self.roles),
            "team_roles": list(self.team_roles),
            "users": list(self.users),
            "note_on_approve": self.note_on_approve,
            "note_on_deny": self.note_on_deny,
            "auto_approve": self.auto_approve,
            "submit": self.submit.texts(),
            "on_approve": [str(f) for f in self.on_approve],
            "on_deny": [str(f) for f in self.on_deny],
            "complete_at_once": self.complete_at_once,
        }


# --- storing rules -------------------------------------------------------------------------------


def set_template_rule(session: Session, milestone_id: str, seq: int, spec: RuleSpec) -> ApprovalRuleTemplate:
    """Set (add or replace) the rule of a milestone template's User Initiated condition. Milestones added
    from the template afterwards get a copy; milestones added before keep theirs."""
    template = get_milestone_template(session, milestone_id)
    condition = next((c for c in template.conditions if c.condition_seq == seq), None)
    if condition is None:
        raise NotFound("condition", f"{template.milestone_id}#{seq} (milestone template)")
    _check_user_initiated(condition, f"milestone template {template.milestone_id} condition {seq}")
    spec.checked(session)
    row = session.get(ApprovalRuleTemplate, (template.milestone_id, seq))
    if row is None:
        row = ApprovalRuleTemplate(milestone_id=template.milestone_id, condition_seq=seq)
        session.add(row)
    for name, value in spec.columns().items():
        setattr(row, name, value)
    session.flush()
    return row


def copy_template_rules(session: Session, milestone_id: str, milestone: Milestone) -> None:
    """Give the milestone's conditions copied from template ``milestone_id`` the template's approval rules
    (approvers, notes required, submit modes, follow-ups): the copy is the milestone's own, like its
    conditions."""
    by_seq = {c.condition_seq: c for c in milestone.conditions}
    for rule in session.scalars(
        select(ApprovalRuleTemplate)
        .where(ApprovalRuleTemplate.milestone_id == milestone_id)
        .order_by(ApprovalRuleTemplate.condition_seq)
    ):
        condition = by_seq.get(rule.condition_seq)
        if condition is not None:
            session.add(
                ApprovalRule(condition_pk=condition.id, **{f: getattr(rule, f) for f in _APPROVAL_FIELDS})
            )
    session.flush()


_APPROVAL_FIELDS = tuple(
    c.key for c in ApprovalRuleTemplate.__table__.columns if c.key not in ("milestone_id", "condition_seq")
)


def remove_template_rule(session: Session, milestone_id: str, seq: int) -> None:
    template = get_milestone_template(session, milestone_id)
    row = session.get(ApprovalRuleTemplate, (template.milestone_id, seq))
    if row is None:
        raise NotFound("approval rule", f"{template.milestone_id}#{seq} (milestone template)")
    session.delete(row)
    session.flush()


def set_rule(session: Session, key: MilestoneKey, seq: int, spec: RuleSpec, who: Who) -> ApprovalRule:
    """Set (add or replace) the rule of a contract milestone's User Initiated condition, while the milestone
    is Pending and by someone its classification allows (the rules for changing a condition)."""
    condition = _editable_condition(session, key, seq, who)
    spec.checked(session)
    row = session.get(ApprovalRule, condition.id)
    if row is None:
        row = ApprovalRule(condition_pk=condition.id)
        session.add(row)
    for name, value in spec.columns().items():
        setattr(row, name, value)
    session.flush()
    return row


def remove_rule(session: Session, key: MilestoneKey, seq: int, who: Who) -> None:
    """The condition becomes a plain User Initiated condition again; its approval history is kept."""
    condition = _editable_condition(session, key, seq, who)
    row = session.get(ApprovalRule, condition.id)
    if row is None:
        raise NotFound("approval rule", f"{key}#{seq}")
    session.delete(row)
    session.flush()


def get_rule(session: Session, condition: MilestoneCondition) -> RuleSpec:
    """The rule of an approval; a condition without one is not an approval."""
    row = session.scalar(select(ApprovalRule).where(ApprovalRule.condition_pk == condition.id))
    if row is None:
        raise RuleViolation(
            f"condition {condition.condition_seq} of milestone {condition.milestone.key}",
            "is not an approval (it has no approval rule)",
        )
    return RuleSpec.from_row(row)


def _editable_condition(session: Session, key: MilestoneKey, seq: int, who: Who) -> MilestoneCondition:
    condition = get_condition(session, key, seq)
    obj = f"condition {seq} of milestone {key}"
    _check_user_initiated(condition, obj)
    milestone = condition.milestone
    if not editable(milestone.status):
        raise RuleViolation(
            obj,
            f"approval rules can be changed only while the milestone is Pending; it is {milestone.status}",
        )
    check_classification(session, milestone.classification, who.user, f"milestone {key}")
    return condition


def _check_user_initiated(condition: ConditionTemplate | MilestoneCondition, obj: str) -> None:
    if condition.condition_type != ConditionType.USER:
        raise RuleViolation(
            obj, f"only a User Initiated condition can be an approval, this is {condition.condition_type}"
        )
