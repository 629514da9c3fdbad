"""What every section loader gets: the transaction, the acting user, what was loaded, the deferred moves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from conditions.sql_rules import SqlRules
from contracts.audit import Who
from contracts.errors import LoadError, MsPrcsError


@dataclass
class LoadContext:
    """The transaction's session, the acting user, the SQL rules for Ready, what was loaded, and the moves
    deferred to the end of the file."""

    session: Session
    who: Who
    rules: SqlRules
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    deferred: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def defer(self, path: str, action: Callable[[], None]) -> None:
        """Run ``action`` after every section of the file is loaded; its errors are reported at ``path``."""
        self.deferred.append((path, action))

    def run_deferred(self) -> None:
        deferred, self.deferred = self.deferred, []
        for path, action in deferred:
            with at(path):
                action()


@dataclass(frozen=True)
class LoadSummary:
    files: tuple[str, ...]
    counts: dict[str, int]
    warnings: tuple[str, ...] = ()


@contextmanager
def at(path: str) -> Iterator[None]:
    """Re-raise any refusal inside the block as a LoadError at ``path``, keeping the service's message."""
    try:
        yield
    except LoadError:
        raise
    except MsPrcsError as exc:
        raise LoadError(path, str(exc)) from exc
    except DBAPIError as exc:
        first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
        raise LoadError(path, f"the database refused it: {first_line}") from exc
