"""The one exception hierarchy of ms-prcs.

Every error a user can cause is an :class:`MsPrcsError`. Subclasses carry the objects involved as data (so
tests and programs can inspect them) and an ``exit_code`` that the CLI maps to the process exit status:
1 = refused by a rule, 2 = bad input / usage. The message always names the object and the rule.
"""

from __future__ import annotations

from collections.abc import Sequence


class MsPrcsError(Exception):
    """Base of every error ms-prcs raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(MsPrcsError):
    """Input that cannot be understood at all: a malformed key, date or file."""

    exit_code = 2


class LoadError(InvalidInput):
    """A load file was refused whole; ``path`` locates the offending entry (e.g. ``contracts[2].lines[0]``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class NotFound(MsPrcsError):
    """A key that names nothing: an unknown business unit, contract, milestone, condition, ..."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key} does not exist")
        self.kind = kind
        self.key = key


class AlreadyExists(MsPrcsError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key} already exists")
        self.kind = kind
        self.key = key


class RuleViolation(MsPrcsError):
    """A request that is understood but refused by a business rule."""

    def __init__(self, obj: str, rule: str) -> None:
        super().__init__(f"{obj}: {rule}")
        self.obj = obj
        self.rule = rule


class InvalidTransition(RuleViolation):
    """A status move the status machine does not allow (or allows only to another actor)."""

    def __init__(self, obj: str, old: str, new: str, rule: str) -> None:
        super().__init__(obj, f"cannot change status {old} -> {new}: {rule}")
        self.old = old
        self.new = new


class EditCheckFailed(RuleViolation):
    """The Ready edit checks found problems; every problem is listed, not just the first."""

    def __init__(self, obj: str, problems: Sequence[str]) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(obj, f"cannot be set Ready, edit checks failed:\n{lines}")
        self.problems = tuple(problems)


class CycleDetected(RuleViolation):
    """Milestone conditions that reference each other in a loop; ``cycle`` starts and ends on the same key."""

    def __init__(self, obj: str, cycle: Sequence[str]) -> None:
        super().__init__(obj, "milestone references form a cycle: " + " -> ".join(cycle))
        self.cycle = tuple(cycle)


class StillReferenced(RuleViolation):
    """Cancelling something that plan events or other milestones' conditions still point to."""

    def __init__(self, obj: str, references: Sequence[str]) -> None:
        lines = "\n".join(f"  - {r}" for r in references)
        super().__init__(obj, f"cannot be cancelled while referenced by:\n{lines}")
        self.references = tuple(references)


class NotAuthorized(RuleViolation):
    """The acting user lacks a role the rule asks for (classification, approver rule, ...)."""

    def __init__(self, user: str, obj: str, rule: str) -> None:
        super().__init__(obj, f"user {user} is not allowed: {rule}")
        self.user = user


class SqlRuleError(RuleViolation):
    """A SQL condition that breaks a SQL rule; line and column come from sqlglot where it knows them."""

    def __init__(
        self, obj: str, rule: str, line: int | None = None, col: int | None = None, excerpt: str = ""
    ) -> None:
        where = f" (line {line}, column {col})" if line is not None else ""
        detail = f"\n{excerpt}" if excerpt else ""
        super().__init__(obj, f"SQL rule: {rule}{where}{detail}")
        self.line = line
        self.col = col
        self.excerpt = excerpt


class RunLocked(RuleViolation):
    """Another run holds the lock for an overlapping scope; ``process_instance`` is that run."""

    def __init__(self, business_unit: str, process_instance: int, detail: str, hint: str) -> None:
        super().__init__(f"business unit {business_unit}", f"being processed by run {process_instance}")
        self.message = (
            f"business unit {business_unit} is being processed by run {process_instance} ({detail}); {hint}"
        )
        self.business_unit = business_unit
        self.process_instance = process_instance


class JobAlreadyRan(RuleViolation):
    """A ``--job`` run for an as-of date the job already finished (``process_instance`` did it): the run is
    not started, and nothing is written. Decided by the run after it holds the run lock, so of two runs of the
    same job started together exactly one runs."""

    def __init__(self, job_name: str, as_of: str, process_instance: int) -> None:
        super().__init__(f"job {job_name}", f"already ran for {as_of} in run {process_instance}")
        self.message = (
            f"job {job_name} already ran for {as_of} in run {process_instance}; use --force to run again"
        )
        self.job_name = job_name
        self.as_of = as_of
        self.process_instance = process_instance
