"""Reference data sections: business units, roles, users, classifications, project activities."""

from __future__ import annotations

from contracts import admin, projects
from ms_prcs.load.context import LoadContext, at
from ms_prcs.load.schema import (
    BusinessUnitEntry,
    ClassificationEntry,
    ProjectActivityEntry,
    RoleEntry,
    UserEntry,
)


def load_business_units(ctx: LoadContext, section: list[BusinessUnitEntry], path: str) -> None:
    for i, entry in enumerate(section):
        with at(f"{path}[{i}]"):
            admin.add_business_unit(ctx.session, entry.business_unit, entry.descr, entry.currency)
        ctx.counts["business units"] += 1


def load_roles(ctx: LoadContext, section: list[RoleEntry], path: str) -> None:
    for i, entry in enumerate(section):
        with at(f"{path}[{i}]"):
            admin.add_role(ctx.session, entry.role, entry.descr)
        ctx.counts["roles"] += 1


def load_users(ctx: LoadContext, section: list[UserEntry], path: str) -> None:
    for i, entry in enumerate(section):
        with at(f"{path}[{i}]"):
            admin.add_user(ctx.session, entry.user, entry.name, entry.roles)
        ctx.counts["users"] += 1


def load_classifications(ctx: LoadContext, section: list[ClassificationEntry], path: str) -> None:
    for i, entry in enumerate(section):
        with at(f"{path}[{i}]"):
            admin.add_classification(ctx.session, entry.classification, entry.roles, entry.descr)
        ctx.counts["classifications"] += 1


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
