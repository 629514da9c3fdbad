"""The approval layer's configuration, in one place (DESIGN 11).

- :mod:`.approval`: an approval's rule on a User Initiated condition (approvers, notes required,
  auto-approve, submit modes, follow-ups, complete at once), on a milestone template or a contract milestone;
- :mod:`.structure`: a milestone's structure (steps, stage gate, deadlines, unset actions, blocking,
  optional triggers), on a milestone template or a contract milestone.

A milestone added from a template gets its own copy of both (:func:`copy_template_config`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from contracts.models import Milestone
from ms_prcs.approvals.config.approval import copy_template_rules
from ms_prcs.approvals.config.structure import copy_template_workflow


def copy_template_config(session: Session, milestone: Milestone) -> None:
    """Give a milestone just added from its template the template's approval rules and structure: the
    copies are the milestone's own, like its conditions (what ``contracts.milestones.add_milestone`` copies)."""
    copy_template_rules(session, milestone.milestone_id, milestone)
    copy_template_workflow(session, milestone.milestone_id, milestone)
