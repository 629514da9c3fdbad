"""The PostgreSQL role SQL conditions run under, created and kept in step by ``ms-prcs init`` (DESIGN §13).

The parser's allow-list is the first fence; this role is the second, and holds on its own: a statement that
slips past the parser (a function that runs query text, a cast that prints a value into its error) runs
with the role's rights, and the role may ``SELECT`` the allow-listed tables of the schema and nothing else.

What :func:`sync` makes true, changing only what differs (so it also works for a login without
``CREATEROLE`` once an operator has created the role and granted it):

* the role exists, ``NOLOGIN`` and without any attribute that widens rights (superuser, create role or
  database, replication, bypass row-level security), and is a member of no other role;
* it has ``USAGE`` on the schema and ``SELECT`` on each allow-listed table of the schema that exists;
  any other table privilege it holds in any schema is revoked (``revoke extra``), as are column
  privileges and ``CREATE`` on the schema;
* the service's own login is a member of it, so the engine can ``SET LOCAL ROLE`` to it.

Left as PostgreSQL has it for every role (see README, "Isolation and limits"): ``pg_catalog`` and
``information_schema`` stay readable (names of tables, roles and settings, never rows of a table the role
cannot read; ``pg_authid`` and other sessions' query texts are not visible to it), and functions granted
to ``PUBLIC`` stay callable; the dangerous ones are superuser-only or need ``pg_*`` roles it does not have,
and the read-only transaction refuses the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from conditions.sql import default_role_name
from contracts.errors import MsPrcsError

_ATTRIBUTES = {  # pg_roles column -> the ALTER ROLE keyword that turns it off
    "rolsuper": "NOSUPERUSER",
    "rolcreaterole": "NOCREATEROLE",
    "rolcreatedb": "NOCREATEDB",
    "rolcanlogin": "NOLOGIN",
    "rolreplication": "NOREPLICATION",
    "rolbypassrls": "NOBYPASSRLS",
}
_RELKINDS = ("r", "p", "v", "m", "f", "S")  # tables, partitioned, views, materialized, foreign, sequences


class SqlRoleError(MsPrcsError):
    """``ms-prcs init`` could not put the SQL role in order; the message says what to grant."""

    def __init__(self, role: str, action: str, reason: str) -> None:
        super().__init__(
            f"SQL role {role}: cannot {action}: {reason}. The login that runs `ms-prcs init` needs CREATEROLE"
            " (or an operator creates the role NOLOGIN and grants it to this login) and must own the"
            " tables; see README, 'Isolation and limits'"
        )
        self.role = role


@dataclass
class RoleReport:
    """What :func:`sync` changed (empty lists: the role was already in step)."""

    role: str
    created: bool = False
    granted: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)


def role_name(conn: sa.Connection, configured: str | None) -> str:
    return configured or default_role_name(str(conn.scalar(sa.text("SELECT current_database()"))))


def sync(conn: sa.Connection, allowed_tables: frozenset[str], configured: str | None = None) -> RoleReport:
    """Create the SQL role or bring it in step with ``allowed_tables``, in the caller's transaction.
    PostgreSQL only (the caller skips other databases)."""
    role = role_name(conn, configured)
    report = RoleReport(role)
    q = _quote(role)

    def run(action: str, sql: str) -> None:
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(sql)
        except DBAPIError as err:
            raise SqlRoleError(role, action, str(err.orig).strip().splitlines()[0]) from err

    attrs = conn.execute(
        sa.text(f"SELECT {', '.join(_ATTRIBUTES)} FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if attrs is None:
        run("create it", f"CREATE ROLE {q} NOLOGIN NOINHERIT")
        report.created = True
    else:
        wrong = [_ATTRIBUTES[name] for name, on in zip(_ATTRIBUTES, attrs, strict=True) if on]
        if wrong:
            run("remove its attributes", f"ALTER ROLE {q} {' '.join(wrong)}")
            report.revoked += wrong
    for (other,) in conn.execute(
        sa.text(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :r ORDER BY g.rolname"
        ),
        {"r": role},
    ):
        run(f"revoke its membership in {other}", f"REVOKE {_quote(other)} FROM {q}")
        report.revoked.append(f"member of {other}")
    if not conn.scalar(sa.text("SELECT pg_has_role(current_user, :r, 'USAGE')"), {"r": role}):
        run("grant it to this login", f"GRANT {q} TO CURRENT_USER")
        report.granted.append("membership to this login")

    schema = str(conn.scalar(sa.text("SELECT current_schema()")))
    if not conn.scalar(sa.text("SELECT has_schema_privilege(:r, :s, 'USAGE')"), {"r": role, "s": schema}):
        run(f"grant USAGE on schema {schema}", f"GRANT USAGE ON SCHEMA {_quote(schema)} TO {q}")
        report.granted.append(f"USAGE on schema {schema}")
    if conn.scalar(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a JOIN pg_roles r ON"
            " r.oid = a.grantee WHERE n.nspname = :s AND r.rolname = :r AND a.privilege_type = 'CREATE')"
        ),
        {"r": role, "s": schema},
    ):
        run(f"revoke CREATE on schema {schema}", f"REVOKE CREATE ON SCHEMA {_quote(schema)} FROM {q}")
        report.revoked.append(f"CREATE on schema {schema}")

    held = conn.execute(
        sa.text(
            "SELECT n.nspname, c.relname, a.privilege_type FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " CROSS JOIN LATERAL aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee"
            " WHERE r.rolname = :r AND c.relkind = ANY(:kinds) ORDER BY 1, 2, 3"
        ),
        {"r": role, "kinds": list(_RELKINDS)},
    ).all()
    existing = set(
        conn.scalars(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = :s UNION SELECT viewname FROM pg_views WHERE schemaname = :s"
            ),
            {"s": schema},
        )
    )
    wanted = {(schema, t) for t in allowed_tables if t in existing}
    have = set()
    for nsp, rel, privilege in held:
        if (nsp, rel) in wanted and privilege == "SELECT":
            have.add((nsp, rel))
            continue
        name = f"{_quote(nsp)}.{_quote(rel)}"
        run(f"revoke {privilege} on {nsp}.{rel}", f"REVOKE {privilege} ON {name} FROM {q}")
        report.revoked.append(f"{privilege} on {nsp}.{rel}")
    for nsp, rel, column, privilege in conn.execute(
        sa.text(
            "SELECT n.nspname, c.relname, t.attname, a.privilege_type FROM pg_attribute t"
            " JOIN pg_class c ON c.oid = t.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " CROSS JOIN LATERAL aclexplode(t.attacl) a JOIN pg_roles r ON r.oid = a.grantee"
            " WHERE r.rolname = :r ORDER BY 1, 2, 3, 4"
        ),
        {"r": role},
    ):
        name = f"{_quote(nsp)}.{_quote(rel)}"
        run(
            f"revoke {privilege} on {nsp}.{rel}.{column}",
            f"REVOKE {privilege} ({_quote(column)}) ON {name} FROM {q}",
        )
        report.revoked.append(f"{privilege} on {nsp}.{rel}.{column}")
    for nsp, rel in sorted(wanted - have):
        run(f"grant SELECT on {nsp}.{rel}", f"GRANT SELECT ON {_quote(nsp)}.{_quote(rel)} TO {q}")
        report.granted.append(f"SELECT on {nsp}.{rel}")
    return report


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
