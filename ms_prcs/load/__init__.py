"""``ms-prcs load``: business units, users, templates, contracts, milestones, plans, approvals and
structure from YAML, JSON or JSON Lines.

A load file is validated whole against its schema (:mod:`ms_prcs.load.schema`, pydantic) before anything
is written, then goes through the same services as the CLI (so it obeys the same rules), in the caller's
one transaction: a bad file is refused whole and nothing is written. Every error names the path of the
offending entry (``contracts[1].milestones[0].conditions[2].date``); keys the schema does not know are
errors too, because a typo silently ignored is a field silently lost.

Sections are loaded in the fixed order of :data:`SECTIONS` (one module per group of sections), whatever
their order in the file, so that what an entry names exists before it. Moves that need everything in
place (a milestone set Ready through the edit checks, a contract's status) are deferred to the end.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ms_prcs.load.context import LoadContext, LoadSummary
    from ms_prcs.load.files import SECTIONS, load_document, load_files
    from ms_prcs.load.reading import read_document
    from ms_prcs.load.schema import LoadDocument, json_schema

_HOMES = {
    "LoadContext": "context",
    "LoadSummary": "context",
    "SECTIONS": "files",
    "load_document": "files",
    "load_files": "files",
    "read_document": "reading",
    "LoadDocument": "schema",
    "json_schema": "schema",
}
"""Each name the package gives, and its module, imported when the name is first asked for: reading a job
file (``jobs.config``) needs the readers, not every section's loader and the services behind them."""


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"ms_prcs.load.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SECTIONS",
    "LoadContext",
    "LoadDocument",
    "LoadSummary",
    "json_schema",
    "load_document",
    "load_files",
    "read_document",
]
