"""The service's commands: ``serve`` and ``token create|list|revoke`` (``user password`` is with ``user``).

Tokens and passwords are the service's credentials; the CLI sets them because it is the operator's tool at
the database. The library behind them is :mod:`ms_prcs.service.credentials` (no web framework imported).
"""

from __future__ import annotations

import datetime as dt
import os

import click

from ms_prcs.cli import main
from ms_prcs.cli.context import AppContext, json_option, pass_app
from ms_prcs.cli.output import emit
from ms_prcs.cli.params import done
from ms_prcs.service import credentials, rights

TOKEN_COLUMNS = (
    "id", "user", "prefix", "scopes", "descr", "created_at", "last_used_at", "revoked_at", "consumer",
)  # fmt: skip


@main.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default)."
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes.")
@pass_app
def serve(app: AppContext, host: str, port: int, workers: int) -> None:
    """Run the HTTP API (``/api/v1``, OpenAPI at ``/api/v1/openapi.json``) over the same database."""
    import uvicorn

    from ms_prcs.service.asgi import LOG_CONFIG
    from ms_prcs.service.context import ServiceContext

    ServiceContext.open(app.settings).engine.dispose()  # refuses to start without a secret key
    with app.session() as session:
        added = rights.ensure_roles(session)
    if added:
        click.echo(f"roles added for the service: {', '.join(added)}")
    os.environ["MS_PRCS_DB"] = app.settings.db_url  # the workers read their settings from the environment
    click.echo(f"ms-prcs service on http://{host}:{port}/api/v1 ({workers} worker{'s' * (workers > 1)})")
    uvicorn.run(
        "ms_prcs.service.asgi:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=LOG_CONFIG,
    )


@main.group()
def token() -> None:
    """API tokens for programs (billing systems): scoped, shown once, stored hashed, revocable."""


@token.command("create")
@click.option("--user", "user_id", required=True, help="The user the token acts as (its roles apply).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in rights.Scope]),
    help="What the token may do (repeatable): feed, read, write, run, admin.",
)
@click.option("--descr", default="", help="What the token is for.")
@click.option("--expires", type=click.IntRange(min=1), metavar="DAYS", help="Expire after this many days.")
@click.option(
    "--consumer",
    metavar="NAME",
    help="Bind a feed token to this feed consumer: it may read and acknowledge no other.",
)
@json_option
@pass_app
def token_create(
    app: AppContext,
    user_id: str,
    scopes: tuple[str, ...],
    descr: str,
    expires: int | None,
    consumer: str | None,
) -> None:
    """Create a token; its text is printed once and cannot be shown again."""
    who = app.who()
    with app.session() as session:
        rights.ensure_roles(session)
        expires_at = who.at + dt.timedelta(days=expires) if expires else None
        row, text = credentials.create_token(
            session, user_id, scopes, who, descr=descr, expires_at=expires_at, consumer=consumer
        )
        record = credentials.token_record(row)
    if app.json_output:
        done(app, "", **record, token=text)
        return
    bound = f", feed consumer {consumer}" if consumer else ""
    click.echo(f"token {record['id']} for user {user_id} (scopes {', '.join(record['scopes'])}{bound}):")
    click.echo(text)
    click.echo("Store it now: it is not shown again.", err=True)


@token.command("list")
@click.option("--user", "user_id", help="Only this user's tokens.")
@json_option
@pass_app
def token_list(app: AppContext, user_id: str | None) -> None:
    """Every token (never its text): user, scopes, when created, last used and revoked."""
    with app.session() as session:
        rows = credentials.list_tokens(session, user_id)
    emit(app, rows, [{c: ",".join(r[c]) if c == "scopes" else r[c] for c in TOKEN_COLUMNS} for r in rows])


@token.command("revoke")
@click.argument("token_id", type=int)
@json_option
@pass_app
def token_revoke(app: AppContext, token_id: int) -> None:
    """Revoke a token: from now on it authenticates nobody."""
    who = app.who()
    with app.session() as session:
        row = credentials.revoke_token(session, token_id, who.at)
        revoked_at = row.revoked_at
    done(app, f"token {token_id} revoked", id=token_id, revoked_at=revoked_at)
