"""Users: ``user add`` (the identities ``--user`` names, with their roles) and ``user password`` (signing in to
the service; the library is :mod:`ms_prcs.service.credentials`, no web framework imported)."""

from __future__ import annotations

import sys

import click

from contracts import admin
from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.params import done
from ms_prcs.service import credentials


@main.group()
def user() -> None:
    """Users: the identities named by --user, with their roles."""


@user.command("add")
@click.argument("user_id")
@click.option("--name", default="", help="Full name.")
@click.option("--role", "roles", multiple=True, help="A role the user holds (repeatable).")
@json_option
@pass_app
def user_add(app: AppContext, user_id: str, name: str, roles: tuple[str, ...]) -> None:
    """Add a user, with the roles it holds."""
    with app.session() as session:
        admin.add_user(session, user_id, name, roles)
    done(
        app,
        f"user {user_id} added" + (f" with roles {', '.join(roles)}" if roles else ""),
        user=user_id,
        roles=list(roles),
    )


@user.command("password")
@click.argument("user_id", metavar="USER")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from standard input (scripts).")
@pass_app
def user_password(app: AppContext, user_id: str, from_stdin: bool) -> None:
    """Set USER's password for signing in to the service (asked twice, or one line from stdin)."""
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with app.session() as session:
        credentials.set_password(session, user_id, password, app.who().at)
    click.echo(f"password of user {user_id} set")
