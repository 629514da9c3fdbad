"""What every request shares: the frozen settings, one engine (a connection pool), the cookie signer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ms_prcs.db import make_engine, transaction
from ms_prcs.service.security import SessionSigner
from ms_prcs.settings import Settings


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    signer: SessionSigner

    @classmethod
    def open(cls, settings: Settings) -> ServiceContext:
        if not settings.secret_key:
            from contracts.errors import InvalidInput

            raise InvalidInput(
                "the service needs a secret key for its session cookies: set MS_PRCS_SECRET_KEY, or run"
                f" `ms-prcs init` to write the key file {settings.secret_key_file}"
            )
        return cls(
            settings,
            make_engine(settings.db_url),
            SessionSigner(settings.secret_key, settings.session_max_age_s),
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One request, one unit of work: a refused request leaves the database unchanged."""
        with transaction(self.engine) as session:
            yield session

    def today(self) -> dt.date:
        return self.settings.today()
