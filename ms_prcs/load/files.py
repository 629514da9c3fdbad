"""The sections in load order, and loading whole files into the caller's one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from conditions.sql_rules import SqlRules
from contracts.audit import Who
from contracts.errors import LoadError
from ms_prcs.load.approvals import (
    load_approval_rule_templates,
    load_approval_rules,
    load_contract_teams,
    load_milestone_assignments,
    submit_due_approvals,
)
from ms_prcs.load.context import LoadContext, LoadSummary
from ms_prcs.load.contracts import load_contracts, load_milestone_templates
from ms_prcs.load.finops import load_alert_contacts, load_holds, load_webhooks
from ms_prcs.load.plans import load_plan_templates, load_plans
from ms_prcs.load.reading import check_file
from ms_prcs.load.reference import (
    load_business_units,
    load_classifications,
    load_project_activities,
    load_roles,
    load_users,
)
from ms_prcs.load.schema import SECTION_NAMES, LoadDocument
from ms_prcs.load.structure import (
    load_milestone_template_workflows,
    load_milestone_workflows,
    load_optional_evaluations,
)

Loader = Callable[[LoadContext, Any, str], None]
"""A section loader: the context, the section's validated entries, and the section's path (its name)."""

SECTIONS: tuple[tuple[str, Loader], ...] = (
    ("business_units", load_business_units),
    ("roles", load_roles),
    ("users", load_users),
    ("classifications", load_classifications),
    ("project_activities", load_project_activities),
    ("milestone_templates", load_milestone_templates),
    ("approval_rule_templates", load_approval_rule_templates),
    ("milestone_template_workflows", load_milestone_template_workflows),
    ("contracts", load_contracts),
    ("plan_templates", load_plan_templates),
    ("plans", load_plans),
    ("approval_rules", load_approval_rules),
    ("milestone_assignments", load_milestone_assignments),
    ("contract_teams", load_contract_teams),
    ("milestone_workflows", load_milestone_workflows),
    ("optional_evaluate", load_optional_evaluations),
    ("holds", load_holds),
    ("alert_contacts", load_alert_contacts),
    ("webhooks", load_webhooks),
)
"""Load order: whatever an entry names is loaded before it. Append new sections at the end (and to
:class:`ms_prcs.load.schema.LoadDocument`, in the same order)."""

assert tuple(name for name, _ in SECTIONS) == SECTION_NAMES, "SECTIONS and LoadDocument disagree"


def load_document(ctx: LoadContext, document: LoadDocument) -> None:
    """Load one validated document through every section in order, then the moves it deferred."""
    for name, loader in SECTIONS:
        section = getattr(document, name)
        if section:
            loader(ctx, section, name)
    ctx.run_deferred()


def load_files(session: Session, paths: Sequence[Path], who: Who, rules: SqlRules) -> LoadSummary:
    """Load every file into the caller's transaction. Every file is validated whole before the first is
    written; the first error aborts all of them (the caller rolls back), its message starting with the
    file name and the entry's path."""
    documents = [check_file(path) for path in paths]
    ctx = LoadContext(session=session, who=who, rules=rules)
    for path, document in zip(paths, documents, strict=True):
        try:
            load_document(ctx, document())
        except LoadError as exc:
            raise LoadError(f"{path}: {exc.path}", exc.problem) from exc
    submit_due_approvals(ctx)
    return LoadSummary(
        files=tuple(str(p) for p in paths), counts=dict(ctx.counts), warnings=tuple(ctx.warnings)
    )
