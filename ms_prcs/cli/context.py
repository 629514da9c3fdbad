"""What every command gets: settings read once, the acting user, output mode, and a lazily made engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from contracts.audit import Who
from ms_prcs.db import check_schema, make_engine, transaction
from ms_prcs.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    user: str
    json_output: bool = False
    debug: bool = False
    _engine: Engine | None = field(default=None, repr=False)
    _schema_checked: bool = field(default=False, repr=False)

    @property
    def engine(self) -> Engine:
        """The database, once its schema is checked to be this version's (:func:`ms_prcs.db.check_schema`):
        every command goes through here, so none writes to a schema it does not know."""
        engine = self.unchecked_engine()
        if not self._schema_checked:
            check_schema(engine)
            self._schema_checked = True
        return engine

    def unchecked_engine(self) -> Engine:
        """The database without the schema guard, for ``ms-prcs init`` (which checks for itself)."""
        if self._engine is None:
            self._engine = make_engine(self.settings.db_url)
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One command, one transaction: a refused command leaves the database unchanged."""
        with transaction(self.engine) as session:
            yield session

    def who(self) -> Who:
        return Who.now(self.user)


pass_app = click.make_pass_decorator(AppContext)


def json_option(f: click.decorators.FC) -> click.decorators.FC:
    """``--json`` on a command that prints data (also accepted globally: ``ms-prcs --json ...``)."""

    def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.find_object(AppContext).json_output = True  # type: ignore[union-attr]
        return value

    return click.option(
        "--json",
        "json_flag",
        is_flag=True,
        expose_value=False,
        callback=callback,
        help="Print JSON for programs.",
    )(f)
