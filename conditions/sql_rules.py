"""The SQL rules of a SQL condition (DESIGN §3), checked with sqlglot when a milestone is set Ready.

A SQL condition is user-written text that the engine later runs inside its own transaction, so the
checks here are the first of two fences (the second is the database's read-only guard in
:mod:`conditions.sql`). They are done on sqlglot's tree, never on the raw text, so that comments, string
literals and quoting cannot hide a statement, a table or a bind from them.

Pure: no database, only sqlglot and the project's errors.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import Dialect, Token, TokenType, exp
from sqlglot.errors import ParseError, TokenError

from contracts.errors import SqlRuleError

__all__ = [
    "BINDS",
    "DEFAULT_ALLOWED_TABLES",
    "DEFAULT_DENIED_FUNCTIONS",
    "RESERVED_PREFIX",
    "SqlRules",
    "ValidatedSql",
    "render_with_binds",
    "sqlglot_dialect",
    "validate_sql",
]

BINDS: frozenset[str] = frozenset(
    {"business_unit", "contract_num", "milestone_id", "milestone_num", "as_of_date"}
)

DEFAULT_ALLOWED_TABLES: frozenset[str] = frozenset(
    {
        "business_unit",
        "contract",
        "contract_line",
        "contract_attribute",
        "milestone",
        "milestone_condition",
        "plan",
        "plan_event",
        "project_activity",
        "activity_status_history",
    }
)

# The table allow-list means nothing if a function can run SQL text or read files on the caller's
# behalf, and a read-only transaction does not stop session-level locks or settings that outlive the
# savepoint. A trailing ``*`` denies every function whose name starts with the rest.
DEFAULT_DENIED_FUNCTIONS: frozenset[str] = frozenset(
    {
        # run SQL text or whole tables/schemas past the allow-list
        "query_to_xml*",
        "table_to_xml*",
        "cursor_to_xml*",
        "schema_to_xml*",
        "database_to_xml*",
        "dblink*",
        # server files and large objects
        "pg_read_*",
        "pg_ls_*",
        "pg_stat_file",
        "lo_*",
        "loread",
        "lowrite",
        # other sessions, server state, settings, locks that survive a rolled-back savepoint
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "set_config",
        "pg_advisory*",
        "pg_try_advisory*",
        "nextval",
        "setval",
        # SQLite: native code and files
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
    }
)

# Names the evaluator uses for its own derived table and binds; a user alias with such a name could
# capture the evaluator's correlated references.
RESERVED_PREFIX = "ms_prcs_"

_SQLALCHEMY_TO_SQLGLOT = {"postgresql": "postgres", "sqlite": "sqlite"}

# Leading keywords of statements that are not queries. Used to name the statement in the refusal when
# sqlglot cannot parse it in the configured dialect (e.g. ATTACH is SQLite-only), where a bare "syntax
# error" would hide the real reason.
_STATEMENT_KEYWORDS = frozenset(
    {
        "ABORT", "ALTER", "ANALYZE", "ATTACH", "BEGIN", "CALL", "CHECKPOINT", "CLOSE", "CLUSTER", "COMMENT",
        "COMMIT", "COPY", "CREATE", "DEALLOCATE", "DECLARE", "DELETE", "DETACH", "DISCARD", "DO", "DROP",
        "END", "EXECUTE", "EXPLAIN", "FETCH", "GRANT", "IMPORT", "INSERT", "LISTEN", "LOAD", "LOCK", "MERGE",
        "MOVE", "NOTIFY", "PRAGMA", "PREPARE", "REASSIGN", "REFRESH", "REINDEX", "RELEASE", "REPLACE",
        "RESET", "REVOKE", "ROLLBACK", "SAVEPOINT", "SECURITY", "SET", "SHOW", "START", "TRUNCATE",
        "UNLISTEN", "UPDATE", "UPSERT", "USE", "VACUUM",
    }
)  # fmt: skip


def _classes(*names: str) -> tuple[type[exp.Expr], ...]:
    """Resolve expression classes by name, skipping any this sqlglot version does not have."""
    found = (getattr(exp, name, None) for name in names)
    return tuple(c for c in found if isinstance(c, type) and issubclass(c, exp.Expr))


# Statements that change data, schema, session or transaction state. Any of them anywhere in the tree
# (a data-modifying CTE, a subquery) refuses the condition, not only at the top.
_DENIED_NODES = _classes(
    "DML", "DDL", "Insert", "Update", "Delete", "Merge", "Copy", "Create", "Drop", "Alter", "AlterSession",
    "TruncateTable", "Command", "Transaction", "Commit", "Rollback", "Use", "Set", "Pragma", "Attach",
    "Detach", "Grant", "Revoke", "Analyze", "Describe", "Show", "LoadData", "Kill", "Cache", "Uncache",
    "Refresh", "Export", "Install", "Summarize", "Declare", "Execute", "ExecuteSql", "MultitableInserts",
    "LockingStatement", "Comment",
)  # fmt: skip
_NODE_KEYWORD = {"Transaction": "BEGIN", "TruncateTable": "TRUNCATE", "LoadData": "LOAD DATA"}

# sqlglot's bare-WHERE wrapper goes on its own line so that the user's line numbers shift by exactly one
# and columns not at all.
_WHERE_PREFIX = "SELECT 1\n"


def sqlglot_dialect(name: str) -> str:
    """Map SQLAlchemy dialect names to sqlglot's, because the two libraries disagree on PostgreSQL."""
    return _SQLALCHEMY_TO_SQLGLOT.get(name.lower(), name.lower())


@dataclass(frozen=True)
class SqlRules:
    """What a SQL condition may use; configured per installation, defaults match the ms-prcs schema."""

    dialect: str = "postgres"
    allowed_tables: frozenset[str] = DEFAULT_ALLOWED_TABLES
    denied_functions: frozenset[str] = DEFAULT_DENIED_FUNCTIONS


@dataclass(frozen=True)
class ValidatedSql:
    """A SQL condition that passed :func:`validate_sql`.

    ``normalized`` is regenerated from sqlglot's tree (no comments, canonical spacing and casing of
    keywords, binds lower-cased) so that two texts with the same meaning usually compare equal and the
    engine can evaluate them as one statement. ``dialect`` is the sqlglot dialect ``normalized`` is
    written in, needed to transpile it later.
    """

    source: str
    normalized: str
    binds: frozenset[str]
    dialect: str = "postgres"

    def to_dialect(self, dialect: str, *, for_text: bool = False) -> str:
        """The statement in another database's SQL (``"sqlite"``, ``"postgresql"``), binds kept as ``:name``.

        sqlglot's own PostgreSQL output would turn ``:name`` into psycopg's ``%(name)s``, which SQLAlchemy
        ``text()`` does not recognise, so binds are rendered by hand. ``text()`` also takes *every*
        ``:word`` as a bind, including one inside a string literal such as ``'a :b'``; with
        ``for_text=True`` all other colons are escaped as ``\\:`` so that ``text()`` sees exactly
        :attr:`binds`.
        """
        return _transpile(self.normalized, self.dialect, sqlglot_dialect(dialect), for_text)


def render_with_binds(statement: ValidatedSql, dialect: str, bind: Callable[[str], exp.Expr]) -> str:
    """Transpile ``statement`` to ``dialect``, replacing each ``:name`` bind by the expression ``bind(name)``.

    The evaluator uses this to turn per-condition binds into correlated column references on the
    sqlglot tree, where a regex could not tell a bind from the same text in a literal or comment.
    """
    tree = _parse_one(statement.normalized, statement.dialect)
    return _render(tree, sqlglot_dialect(dialect), bind)


@functools.lru_cache(maxsize=1024)
def _transpile(normalized: str, source_dialect: str, target_dialect: str, for_text: bool) -> str:
    tree = _parse_one(normalized, source_dialect)
    if not for_text:
        return _render(tree, target_dialect, _colon_bind)
    sentinel = f"{RESERVED_PREFIX}bind_{uuid.uuid4().hex}_"
    sql = _render(tree, target_dialect, lambda name: exp.Var(this=sentinel + name))
    return re.sub(re.escape(sentinel) + r"(\w+)", r":\1", sql.replace(":", "\\:"))


def _colon_bind(name: str) -> exp.Expr:
    # A Var is generated verbatim by every dialect, so ``:name`` survives transpiling unchanged.
    return exp.Var(this=f":{name}")


def _parse_one(text: str, dialect: str) -> exp.Expr:
    tree = sqlglot.parse_one(text, read=sqlglot_dialect(dialect))
    if tree is None:  # pragma: no cover - parse_one raises on empty input in current sqlglot
        raise ParseError("empty SQL")
    return tree


def _render(tree: exp.Expr, dialect: str, bind: Callable[[str], exp.Expr]) -> str:
    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and isinstance(node.this, str) and node.this:
            return bind(node.this)
        return node

    return tree.transform(swap).sql(dialect=dialect, comments=False)


# --------------------------------------------------------------------------------------------------
# validation


class _Checker:
    """One validation: the text as parsed, its tokens, and how to point back into the user's source."""

    def __init__(self, source: str, rules: SqlRules, obj: str) -> None:
        self.source = source
        self.rules = rules
        self.obj = obj
        self.dialect = sqlglot_dialect(rules.dialect)
        self.text = source
        self.offset = 0  # characters the bare-WHERE wrapper added in front of the user's text
        self.tokens: list[Token] = []

    # -- reporting -----------------------------------------------------------------------------------

    def refuse(self, rule: str, start: int | None = None, end: int | None = None) -> SqlRuleError:
        """An error pointing at ``text[start:end+1]`` (offsets in the parsed text), in sqlglot's convention:
        1-based line, and the column of the last character of the offending token."""
        if start is None or end is None:
            return SqlRuleError(self.obj, rule)
        start, end = start - self.offset, end - self.offset
        if start < 0 or end < start or end >= len(self.source):
            return SqlRuleError(self.obj, rule)
        line = self.source.count("\n", 0, end) + 1
        line_start = self.source.rfind("\n", 0, end) + 1
        col = end - line_start + 1
        return SqlRuleError(self.obj, rule, line, col, self._excerpt(line, max(start, line_start), end))

    def _excerpt(self, line: int, start: int, end: int) -> str:
        line_start = self.source.rfind("\n", 0, end) + 1
        text = self.source.split("\n")[line - 1]
        lead = "".join("\t" if ch == "\t" else " " for ch in text[: start - line_start])
        return f"  {text}\n  {lead}{'^' * (end - start + 1)}"

    def refuse_parse_error(self, err: ParseError) -> SqlRuleError:
        info = err.errors[0] if err.errors else {}
        description = _readable(str(info.get("description") or "cannot parse the SQL"))
        line, col = info.get("line"), info.get("col")
        highlight = str(info.get("highlight") or "")
        rule = f"syntax error: {description}"
        if not isinstance(line, int) or not isinstance(col, int):
            return SqlRuleError(self.obj, rule)
        if self.offset:
            line -= _WHERE_PREFIX.count("\n")
        lines = self.source.split("\n")
        if not 1 <= line <= len(lines):
            return SqlRuleError(self.obj, rule, line, col)
        width = len(highlight) if highlight and "\n" not in highlight else 1
        text = lines[line - 1]
        first = max(col - width, 0)
        lead = "".join("\t" if ch == "\t" else " " for ch in text[:first])
        excerpt = f"  {text}\n  {lead}{'^' * max(min(width, len(text) - first), 1)}"
        return SqlRuleError(self.obj, rule, line, col, excerpt)

    def token_span(self, match: Callable[[int], int | None]) -> tuple[int | None, int | None]:
        """Offsets of the first token run that ``match`` accepts (it returns the run's last index)."""
        for i in range(len(self.tokens)):
            last = match(i)
            if last is not None:
                return self.tokens[i].start, self.tokens[last].end
        return None, None

    # -- the checks ----------------------------------------------------------------------------------

    def run(self) -> ValidatedSql:
        if not self.source.strip():
            raise self.refuse("empty SQL")
        tree = self.parse()
        self.check_statement(tree)
        self.check_identifiers(tree)
        binds = self.check_binds(tree)
        self.check_functions(tree)
        self.check_tables(tree)
        normalized = _render(tree, self.dialect, _colon_bind)
        return ValidatedSql(self.source, normalized, frozenset(binds), self.dialect)

    def parse(self) -> exp.Expr:
        dialect = Dialect.get_or_raise(self.dialect)
        try:
            self.tokens = list(dialect.tokenize(self.source))
        except TokenError as err:
            raise self.refuse(f"cannot read the SQL ({err})") from err
        if not self.tokens:
            raise self.refuse("empty SQL (only comments)")
        if self.tokens[0].token_type == TokenType.WHERE:
            self.text = _WHERE_PREFIX + self.source
            self.offset = len(_WHERE_PREFIX)
            self.tokens = list(dialect.tokenize(self.text))
        try:
            parsed = [s for s in sqlglot.parse(self.text, read=self.dialect) if s is not None]
        except ParseError as err:
            first = self.tokens[0]
            if first.text.upper() in _STATEMENT_KEYWORDS:
                raise self.refuse(
                    f"only SELECT statements are allowed, found {first.text.upper()}", first.start, first.end
                ) from err
            raise self.refuse_parse_error(err) from err
        except TokenError as err:  # pragma: no cover - the tokenizer above already read the text
            raise self.refuse(f"cannot read the SQL ({err})") from err
        if not parsed:
            raise self.refuse("empty SQL (no statement)")
        if len(parsed) > 1:
            semis = [t for t in self.tokens if t.token_type == TokenType.SEMICOLON]
            where = (semis[0].start, semis[0].end) if semis else (None, None)
            raise self.refuse(f"exactly one statement is allowed, found {len(parsed)}", *where)
        return parsed[0]

    def check_statement(self, tree: exp.Expr) -> None:
        if not isinstance(tree, exp.Query) or isinstance(tree, _DENIED_NODES):
            name = self.statement_name(tree)
            start, end = self.word_span(name.split()[0])
            if start is None:
                start, end = self.tokens[0].start, self.tokens[0].end
            raise self.refuse(f"only SELECT statements are allowed, found {name}", start, end)
        for node in tree.walk():
            if isinstance(node, _DENIED_NODES):
                name = self.statement_name(node)
                raise self.refuse(
                    f"only SELECT statements are allowed, found {name} inside the statement",
                    *self.word_span(name.split()[0]),
                )
            if isinstance(node, exp.Into):
                start, end = self.token_span(
                    lambda i: i if self.tokens[i].token_type == TokenType.INTO else None
                )
                raise self.refuse("SELECT ... INTO is not allowed (it creates a table)", start, end)
            if isinstance(node, exp.Lock):
                clause = "FOR UPDATE" if node.args.get("update") else "FOR SHARE"
                raise self.refuse(f"locking clauses like {clause} are not allowed", *self.for_span())

    def for_span(self) -> tuple[int | None, int | None]:
        def match(i: int) -> int | None:
            if self.tokens[i].token_type == TokenType.FOR and i + 1 < len(self.tokens):
                nxt = self.tokens[i + 1].text.upper()
                if nxt in {"UPDATE", "SHARE", "NO", "KEY"}:
                    return i + 1
            return None

        return self.token_span(match)

    def statement_name(self, node: exp.Expr) -> str:
        if isinstance(node, exp.Command):
            return str(node.this).upper()
        if node.parent is None:
            first = self.tokens[0].text.upper()
            if first in _STATEMENT_KEYWORDS or first == "VALUES":
                return first
        if isinstance(node, _DENIED_NODES):
            name = type(node).__name__
            return _NODE_KEYWORD.get(name, name.upper())
        return "an expression"

    def check_identifiers(self, tree: exp.Expr) -> None:
        for ident in tree.find_all(exp.Identifier):
            name = str(ident.this)
            meta = ident.meta
            start, end = meta.get("start"), meta.get("end")
            if name.lower().startswith(RESERVED_PREFIX):
                raise self.refuse(
                    f"names starting with {RESERVED_PREFIX} are reserved, found {name}", start, end
                )
            if not ident.quoted and name.startswith("$"):
                # SQLite reads $name / $1 as a parameter; sqlglot keeps it as a column name.
                raise self.refuse(_positional(name), start, end)

    def check_binds(self, tree: exp.Expr) -> set[str]:
        names: set[str] = set()
        for node in tree.find_all(exp.Placeholder, exp.Parameter):
            if isinstance(node, exp.Parameter):
                shown = node.sql(dialect=self.dialect)
                raise self.refuse(_positional(shown), *self.bind_span(shown))
            raw = node.this
            if node.args.get("jdbc") or not raw:
                shown = "?" if node.args.get("jdbc") or self.has_token(TokenType.PLACEHOLDER) else "%s"
                raise self.refuse(_positional(shown), *self.bind_span(shown))
            if not isinstance(raw, str):  # psycopg's %(name)s
                shown = f"%({node.name})s"
                raise self.refuse(_positional(shown), *self.bind_span(shown))
            name = raw.lower()
            if name not in BINDS:
                known = ", ".join(f":{b}" for b in sorted(BINDS))
                raise self.refuse(f"unknown bind :{raw} (known: {known})", *self.bind_span(f":{raw}"))
            node.set("this", name)
            names.add(name)
        return names

    def word_span(self, word: str) -> tuple[int | None, int | None]:
        return self.token_span(lambda i: i if self.tokens[i].text.upper() == word.upper() else None)

    def call_span(self, name: str) -> tuple[int | None, int | None]:
        def match(i: int) -> int | None:
            toks = self.tokens
            is_call = i + 1 < len(toks) and toks[i + 1].token_type == TokenType.L_PAREN
            return i if is_call and toks[i].text.lower() == name else None

        return self.token_span(match)

    def has_token(self, kind: TokenType) -> bool:
        return any(t.token_type == kind for t in self.tokens)

    def bind_span(self, shown: str) -> tuple[int | None, int | None]:
        toks = self.tokens

        def match(i: int) -> int | None:
            t = toks[i]
            if shown.startswith(":") and t.token_type == TokenType.COLON and i + 1 < len(toks):
                return i + 1 if toks[i + 1].text.lower() == shown[1:].lower() else None
            if shown == "?" and t.token_type == TokenType.PLACEHOLDER:
                return i
            if shown.startswith("%") and t.token_type == TokenType.MOD and i + 1 < len(toks):
                return min(i + (4 if shown.startswith("%(") else 1), len(toks) - 1)
            if shown[:1] in "$@" and t.text == shown[:1] and i + 1 < len(toks):
                return i + 1
            return None

        return self.token_span(match)

    def check_functions(self, tree: exp.Expr) -> None:
        denied = {d.lower() for d in self.rules.denied_functions}
        exact = {d for d in denied if not d.endswith("*")}
        prefixes = tuple(d[:-1] for d in denied if d.endswith("*"))
        for func in tree.find_all(exp.Func):
            name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
            if name in exact or (prefixes and name.startswith(prefixes)):
                raise self.refuse(f"function {name}() is not allowed", *self.call_span(name))

    def check_tables(self, tree: exp.Expr) -> None:
        allowed = {t.lower() for t in self.rules.allowed_tables}
        for table in tree.find_all(exp.Table):
            if isinstance(table.this, exp.Func):
                continue  # a table function such as generate_series(); functions are checked above
            if not isinstance(table.this, exp.Identifier):
                raise self.refuse(f"unsupported table reference {table.sql(dialect=self.dialect)}")
            if _is_cte_reference(table):
                continue
            parts = [p for p in (table.catalog, table.db, table.name) if p]
            full = ".".join(parts).lower()
            if full in allowed:
                continue
            first = table.args.get("catalog") or table.args.get("db") or table.this
            start, end = first.meta.get("start"), table.this.meta.get("end")
            listed = ", ".join(sorted(allowed)) or "none"
            raise self.refuse(f"table {full} is not on the allow-list (allowed: {listed})", start, end)


def _readable(description: str) -> str:
    """sqlglot's descriptions embed token and class reprs (with the wrapped text's line numbers); keep
    only what a user can act on."""
    description = re.sub(r"<Token token_type: TokenType\.SENTINEL\b.*?>", "the end of the SQL", description)
    description = re.sub(r"<Token token_type: TokenType\.\w+, text: (.*?), line: .*?>", r"'\1'", description)
    return re.sub(r"<class 'sqlglot\.[\w.]*?(\w+)'>", r"\1", description)


def _positional(shown: str) -> str:
    return f"bind {shown} is not allowed: use named binds like :contract_num"


def _ancestors(node: exp.Expr) -> Iterator[tuple[exp.Expr, exp.Expr]]:
    """(child, parent) pairs from ``node`` up to the root."""
    child = node
    parent = node.parent
    while parent is not None:
        yield child, parent
        child, parent = parent, parent.parent


def _is_cte_reference(table: exp.Table) -> bool:
    """Whether an unqualified table name resolves to a CTE rather than a real table.

    Resolution follows the strictest of the supported databases, so a name is only treated as a CTE
    when every database would: the main query sees all CTEs of its WITH; a CTE sees the CTEs before it,
    and itself and all others only under WITH RECURSIVE (PostgreSQL resolves a non-recursive
    self-reference such as ``WITH payroll AS (SELECT * FROM payroll)`` to the real table, which must
    then pass the allow-list). Collecting CTE names globally instead would let a CTE defined in one
    subquery hide a real table of the same name elsewhere.
    """
    if table.args.get("db") or table.args.get("catalog"):
        return False
    name = table.name.lower()
    came_from_cte: exp.Expr | None = None
    for child, parent in _ancestors(table):
        if isinstance(child, exp.CTE):
            came_from_cte = child
        with_ = parent.args.get("with_") or parent.args.get("with")
        if not isinstance(with_, exp.With):
            continue
        ctes = [c for c in with_.expressions if isinstance(c, exp.CTE)]
        if child is with_ and came_from_cte is not None:
            index = next((i for i, c in enumerate(ctes) if c is came_from_cte), len(ctes))
            visible = ctes if with_.args.get("recursive") else ctes[:index]
        else:
            visible = ctes
        if any(c.alias_or_name.lower() == name for c in visible):
            return True
        came_from_cte = None
    return False


def validate_sql(sql_text: str, rules: SqlRules, obj: str = "SQL condition") -> ValidatedSql:
    """Check a SQL condition against the rules, or raise :class:`SqlRuleError` naming the first broken rule.

    Anything sqlglot itself throws on hostile input is turned into a :class:`SqlRuleError` too, because
    callers (the Ready edit checks, the CLI) must be able to report every refusal the same way.
    """
    try:
        return _Checker(sql_text, rules, obj).run()
    except SqlRuleError:
        raise
    except Exception as err:  # sqlglot raises assorted errors (and RecursionError) on odd input
        raise SqlRuleError(obj, f"cannot parse the SQL ({type(err).__name__}: {err})") from err
