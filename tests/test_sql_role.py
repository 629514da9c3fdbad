"""``ms-prcs init`` on PostgreSQL run by a login that is not a superuser, holding what README's "Isolation and
limits" tells an operator to grant: CREATEROLE and ownership of its database. init creates the SQL role,
grants it SELECT on the allow-listed tables only, makes the login a member, and a run evaluates SQL
conditions under it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ms_prcs.cli import main
from ms_prcs.db import make_engine, normalize_url
from tests.engine.world import World, run, sql_spec

pytestmark = pytest.mark.postgres


@pytest.fixture
def service_url(pg_server_url: str | None) -> Iterator[str]:
    """A new database owned by a new login with CREATEROLE and nothing more."""
    if pg_server_url is None:
        pytest.skip("PostgreSQL not available (set MS_PRCS_TEST_PG_URL or install postgresql)")
    suffix = uuid.uuid4().hex[:10]
    login, database = f"ms_prcs_svc_{suffix}", f"ms_prcs_svc_{suffix}"
    admin = sa.create_engine(normalize_url(pg_server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {login} LOGIN CREATEROLE")
        conn.exec_driver_sql(f"CREATE DATABASE {database} OWNER {login}")
    url = make_url(normalize_url(pg_server_url)).set(username=login, password=None, database=database)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            for (role,) in conn.execute(
                sa.text(
                    "SELECT rolname FROM pg_roles WHERE rolname LIKE 'ms_prcs_sql_%' AND pg_has_role(:l, oid, 'MEMBER')"
                ),
                {"l": login},
            ):
                conn.exec_driver_sql(f'DROP ROLE "{role}"')
            conn.exec_driver_sql(f"DROP ROLE {login}")
        admin.dispose()


def _init(url: str) -> str:
    result = CliRunner().invoke(main, ["--db", url, "init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_init_by_a_createrole_login_makes_the_sql_role_and_a_run_uses_it(service_url: str) -> None:
    first = _init(service_url)
    role = first.split("SQL conditions run as role ")[1].split(":")[0]
    assert "created" in first and "granted SELECT on public.contract" in first
    assert _init(service_url).endswith(f"SQL conditions run as role {role}: in step\n")

    engine = make_engine(service_url)
    try:
        with engine.connect() as conn:
            attrs = conn.execute(
                sa.text("SELECT rolcanlogin, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = :r"),
                {"r": role},
            ).one()
            assert tuple(attrs) == (False, False, False)
            assert conn.scalar(sa.text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": role})

            def can(table: str) -> bool:
                return bool(
                    conn.scalar(
                        sa.text("SELECT has_table_privilege(:r, :t, 'SELECT')"), {"r": role, "t": table}
                    )
                )

            assert can("contract") and can("milestone") and can("milestone_condition")
            assert not can("process_run") and not can("status_change") and not can("alembic_version")
            assert not conn.scalar(
                sa.text("SELECT has_table_privilege(:r, 'contract', 'UPDATE')"), {"r": role}
            )
        with Session(engine) as session:
            world = World(session)
            k = world.contract("US001/K1")
            ms = world.milestone(
                k,
                "MS001",
                sql_spec(
                    "SELECT 1 FROM contract WHERE contract_num = :contract_num AND business_unit = :business_unit"
                ),
            )
            world.commit()
            result = run(engine)
            assert result.message_counts["error"] == 0, result.messages
            assert world.status(ms) == "Completed"
    finally:
        engine.dispose()
