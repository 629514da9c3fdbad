"""The SQL rules of a SQL condition (DESIGN §3 and §13 layer 1), checked with sqlglot when a milestone is set Ready.

A SQL condition is user-written text that the engine later runs, so the checks here are the first of
three fences (the second is the database: a read-only connection and, on PostgreSQL, a role that can
read only the allowed tables; the third is time, see :mod:`conditions.sql`). They are done on
sqlglot's tree, never on the raw text, so that comments, string literals and quoting cannot hide a
statement, a table, a function or a bind from them; only the size limits are checked before parsing,
so that a huge text costs nothing.

Pure: no database, only sqlglot, the allow-lists and the project's errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import Dialect, Token, TokenType, exp
from sqlglot.errors import ParseError, TokenError

from conditions.sql_rules.allowed import (
    ALLOWED_NODES,
    BINDS,
    DEFAULT_ALLOWED_FUNCTIONS,
    DEFAULT_ALLOWED_TABLES,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_NESTING,
    MAX_TREE_DEPTH,
    REFUSED_OPERATORS,
    node_classes,
)
from conditions.sql_rules.ctes import is_cte_reference
from conditions.sql_rules.portable import check_portable
from conditions.sql_rules.render import RESERVED_PREFIX, ValidatedSql, colon_bind, render, sqlglot_dialect
from conditions.sql_rules.types import Types
from contracts.errors import SqlRuleError

__all__ = ["SqlRules", "validate_sql"]

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


# Statements that change data, schema, session or transaction state. Any of them anywhere in the tree
# (a data-modifying CTE, a subquery) refuses the condition, not only at the top.
_DENIED_NODES = node_classes(
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


@dataclass(frozen=True)
class SqlRules:
    """What a SQL condition may use; configured per installation, defaults match the ms-prcs schema.

    ``allowed_functions`` are names as a condition writes them (lower case); ``max_length`` is in
    characters and ``max_nesting`` counts open parentheses, both checked before the text is parsed.
    """

    dialect: str = "postgres"
    allowed_tables: frozenset[str] = DEFAULT_ALLOWED_TABLES
    allowed_functions: frozenset[str] = DEFAULT_ALLOWED_FUNCTIONS
    max_length: int = DEFAULT_MAX_LENGTH
    max_nesting: int = DEFAULT_MAX_NESTING


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
        self.check_length()
        tree = self.parse()
        self.check_depth(tree)
        self.check_statement(tree)
        self.check_identifiers(tree)
        binds = self.check_binds(tree)
        self.check_constructs(tree)
        self.check_tables(tree)
        check_portable(tree, Types(self.rules.allowed_tables), self.refuse_node)
        normalized = render(tree, self.dialect, colon_bind)
        return ValidatedSql(self.source, normalized, frozenset(binds), self.dialect)

    def parse(self) -> exp.Expr:
        dialect = Dialect.get_or_raise(self.dialect)
        try:
            self.tokens = list(dialect.tokenize(self.source))
        except TokenError as err:
            raise self.refuse(f"cannot read the SQL ({err})") from err
        if not self.tokens:
            raise self.refuse("empty SQL (only comments)")
        self.check_nesting()
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

    # -- limits, checked before parsing (length) or before any recursive walk (depth) -------------------

    def check_length(self) -> None:
        limit = self.rules.max_length
        if len(self.source) > limit:
            raise self.refuse(
                f"the SQL is {len(self.source):,} characters long, the limit is {limit:,} "
                "(MS_PRCS_SQL_MAX_LENGTH)"
            )

    def check_nesting(self) -> None:
        limit, depth = self.rules.max_nesting, 0
        for token in self.tokens:
            if token.token_type == TokenType.L_PAREN:
                depth += 1
                if depth > limit:
                    raise self.refuse(
                        f"parentheses nested more than {limit} deep (MS_PRCS_SQL_MAX_NESTING)",
                        token.start,
                        token.end,
                    )
            elif token.token_type == TokenType.R_PAREN:
                depth = max(depth - 1, 0)

    def check_depth(self, tree: exp.Expr) -> None:
        stack: list[tuple[exp.Expr, int]] = [(tree, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_TREE_DEPTH:
                raise self.refuse_node(
                    f"the expression is nested more than {MAX_TREE_DEPTH} levels deep: split it "
                    "(e.g. a long AND chain into IN (...) or EXISTS)",
                    node,
                )
            stack.extend((child, depth + 1) for child in node.iter_expressions())

    # -- allow-lists -----------------------------------------------------------------------------------

    def check_constructs(self, tree: exp.Expr) -> None:
        """Every node is an allowed construct or a call of an allowed function; nothing else passes."""
        allowed = {name.lower() for name in self.rules.allowed_functions}
        for node in tree.walk():
            if isinstance(node, exp.Table) and isinstance(node.this, exp.Func):
                name = self.written_name(node.this)
                raise self.refuse_node(
                    f"table function {name}() is not allowed (table-valued and set-returning functions "
                    "can read past the table allow-list)",
                    node.this,
                )
            if isinstance(node, exp.Distinct) and node.args.get("on") is not None:
                raise self.refuse_node("DISTINCT ON is not allowed (PostgreSQL only)", node)
            if isinstance(node, ALLOWED_NODES):
                continue
            reason = REFUSED_OPERATORS.get(type(node).__name__)
            if reason is not None:
                raise self.refuse_node(reason, node)
            if isinstance(node, exp.Func):
                names = (
                    {n.lower() for n in type(node).sql_names()}
                    if not isinstance(node, exp.Anonymous)
                    else set()
                )
                written = self.written_name(node)
                if written in allowed or (not isinstance(node, exp.Anonymous) and names & allowed):
                    continue
                raise self.refuse_node(
                    f"function {written}() is not allowed: it is not on the allow-list of SQL functions "
                    "(MS_PRCS_SQL_FUNCTIONS)",
                    node,
                )
            shown = node.sql(dialect=self.dialect)[:40]
            raise self.refuse_node(f"{type(node).__name__} ({shown}) is not allowed in a SQL condition", node)

    def written_name(self, func: exp.Expr) -> str:
        """The function's name as the user wrote it (sqlglot canonicalises ``substr`` to SUBSTRING)."""
        token = self.name_token(func)
        if token is not None:
            return token.text.lower()
        if isinstance(func, exp.Anonymous):
            return str(func.name).lower()
        return func.sql_name().lower() if isinstance(func, exp.Func) else func.key

    def name_token(self, func: exp.Expr) -> Token | None:
        """The token of a function's name: from sqlglot's positions, else the word before ``(`` and the
        first argument, else the first token spelled like one of the function's names."""
        start = func.meta.get("start")
        for token in self.tokens:
            if token.start == start:
                return token
        firsts = [p.meta["start"] for p in func.walk() if isinstance(p.meta.get("start"), int)]
        if firsts:
            index = next((i for i, t in enumerate(self.tokens) if t.start == min(firsts)), None)
            if index is not None and index >= 2 and self.tokens[index - 1].token_type == TokenType.L_PAREN:
                return self.tokens[index - 2]
        names = {n.lower() for n in type(func).sql_names()} if isinstance(func, exp.Func) else set()
        return next((t for t in self.tokens if t.text.lower() in names), None)

    def refuse_node(self, rule: str, node: exp.Expr) -> SqlRuleError:
        """An error pointing at ``node``: from the first to the last position sqlglot recorded inside it."""
        starts, ends = [], []
        own = node.meta.get("start"), node.meta.get("end")
        for part in [node] if all(isinstance(i, int) for i in own) else node.walk():
            start, end = part.meta.get("start"), part.meta.get("end")
            if isinstance(start, int) and isinstance(end, int):
                starts.append(start)
                ends.append(end)
        if not starts:
            token = self.name_token(node) if isinstance(node, exp.Func) else None
            return self.refuse(rule, token.start, token.end) if token is not None else self.refuse(rule)
        if isinstance(node, exp.Func) and not isinstance(node, exp.Anonymous):
            token = self.name_token(node)
            if token is not None:
                return self.refuse(rule, token.start, token.end)
        first, last = min(starts), max(ends)
        # Keep the caret on one line: the line of the first position.
        newline = self.text.find("\n", first)
        if 0 <= newline < last:
            last = newline - 1 if newline > first else first
        return self.refuse(rule, first, last)

    def check_tables(self, tree: exp.Expr) -> None:
        allowed = {t.lower() for t in self.rules.allowed_tables}
        for table in tree.find_all(exp.Table):
            if isinstance(table.this, exp.Func):
                continue  # a table function: refused by check_constructs
            if not isinstance(table.this, exp.Identifier):
                raise self.refuse(f"unsupported table reference {table.sql(dialect=self.dialect)}")
            if is_cte_reference(table):
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
