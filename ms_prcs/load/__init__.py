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

from ms_prcs.load.context import LoadContext, LoadSummary
from ms_prcs.load.files import SECTIONS, load_document, load_files
from ms_prcs.load.reading import read_document
from ms_prcs.load.schema import LoadDocument, json_schema

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
