"""Reference data sections: business units, roles, users, classifications, project activities."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from contracts import admin, projects
from ms_prcs.load.context import LoadContext, at
from ms_prcs.load.schema import (
    BusinessUnitEntry,
    ClassificationEntry,
    ProjectActivityEntry,
    RoleEntry,
    UserEntry,
)

E = TypeVar("E")


def _each(ctx: LoadContext, section: list[E], path: str, noun: str, add: Callable[[E], object]) -> None:
    """Add every entry of a section, a refusal reported at the entry's path, and count what was added."""
    for i, entry in enumerate(section):
        with at(f"{path}[{i}]"):
            add(entry)
        ctx.counts[noun] += 1


def load_business_units(ctx: LoadContext, section: list[BusinessUnitEntry], path: str) -> None:
    def add(e: BusinessUnitEntry) -> object:
        return admin.add_business_unit(ctx.session, e.business_unit, e.descr, e.currency)

    _each(ctx, section, path, "business units", add)


def load_roles(ctx: LoadContext, section: list[RoleEntry], path: str) -> None:
    _each(ctx, section, path, "roles", lambda e: admin.add_role(ctx.session, e.role, e.descr))


def load_users(ctx: LoadContext, section: list[UserEntry], path: str) -> None:
    _each(ctx, section, path, "users", lambda e: admin.add_user(ctx.session, e.user, e.name, e.roles))


def load_classifications(ctx: LoadContext, section: list[ClassificationEntry], path: str) -> None:
    def add(e: ClassificationEntry) -> object:
        return admin.add_classification(ctx.session, e.classification, e.roles, e.descr)

    _each(ctx, section, path, "classifications", add)


def load_project_activities(ctx: LoadContext, section: list[ProjectActivityEntry], path: str) -> None:
    """Activities with their status history; ``active: false`` inactivates after the history is written."""
    for i, entry in enumerate(section):
        item_path = f"{path}[{i}]"
        with at(item_path):
            projects.add_activity(ctx.session, entry.project, entry.activity, entry.descr)
        ctx.counts["project activities"] += 1
        for j, row in enumerate(entry.history):
            with at(f"{item_path}.history[{j}]"):
                projects.set_activity_status(
                    ctx.session, entry.project, entry.activity, row.status, row.effdt
                )
            ctx.counts["activity status rows"] += 1
        if not entry.active:
            with at(f"{item_path}.active"):
                ctx.warnings += projects.inactivate_activity(ctx.session, entry.project, entry.activity)
