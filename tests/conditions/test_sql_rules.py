"""The SQL rules of §3, driven by fixture files so that a new case is a new file, not new code.

Fixture headers (stripped before validation, so line numbers count from the SQL itself):
``-- expect: <substring of the error>`` and ``-- at: line L, column C`` for invalid files,
``-- binds: a, b`` for valid ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from conditions.sql_rules import BINDS, DEFAULT_ALLOWED_TABLES, SqlRules, ValidatedSql, validate_sql
from contracts.errors import SqlRuleError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql"
RULES = SqlRules()


@dataclass(frozen=True)
class Fixture:
    sql: str
    headers: dict[str, str]


def load(path: Path) -> Fixture:
    lines = path.read_text().splitlines(keepends=True)
    headers: dict[str, str] = {}
    while lines and (m := re.match(r"--\s*(expect|at|binds):(.*)$", lines[0].strip())):
        headers[m.group(1)] = m.group(2).strip()
        lines.pop(0)
    return Fixture("".join(lines), headers)


VALID = sorted((FIXTURES / "valid").glob("*.sql"))
INVALID = sorted((FIXTURES / "invalid").glob("*.sql"))


def test_fixture_counts() -> None:
    assert len(VALID) >= 12
    assert len(INVALID) >= 16


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid(path: Path) -> None:
    fixture = load(path)
    result = validate_sql(fixture.sql, RULES)
    assert result.source == fixture.sql
    if "binds" in fixture.headers:
        expected = {b.strip() for b in fixture.headers["binds"].split(",") if b.strip()}
        assert result.binds == expected
    # Normalizing is idempotent: the normalized text validates to itself.
    assert validate_sql(result.normalized, RULES).normalized == result.normalized
    for dialect in ("sqlite", "postgresql", "postgres"):
        translated = result.to_dialect(dialect, for_text=True)
        assert set(sa.text(translated)._bindparams) == result.binds, translated
        assert str(sa.text(translated)) == result.to_dialect(dialect)


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid(path: Path) -> None:
    fixture = load(path)
    assert "expect" in fixture.headers, f"{path.name} needs a '-- expect:' first line"
    with pytest.raises(SqlRuleError) as caught:
        validate_sql(fixture.sql, RULES, obj="US001/K1000/MS001/1 condition 1")
    err = caught.value
    assert fixture.headers["expect"] in str(err)
    assert str(err).startswith("US001/K1000/MS001/1 condition 1: SQL rule: ")
    if "at" in fixture.headers:
        m = re.fullmatch(r"line (\d+), column (\d+)", fixture.headers["at"])
        assert m, fixture.headers["at"]
        assert (err.line, err.col) == (int(m.group(1)), int(m.group(2)))
        assert "^" in err.excerpt


def test_syntax_error_keeps_sqlglot_position_and_excerpt() -> None:
    with pytest.raises(SqlRuleError) as caught:
        validate_sql("SELECT 1\nFROM contract\nWHERE status = = 'A'\n", RULES)
    err = caught.value
    assert (err.line, err.col) == (3, 16)
    assert err.excerpt.splitlines() == ["  WHERE status = = 'A'", "                 ^"]
    assert "(line 3, column 16)" in str(err)


def test_bare_where_positions_refer_to_the_users_text() -> None:
    with pytest.raises(SqlRuleError) as caught:
        validate_sql("WHERE EXISTS (SELECT 1 FROM payroll)", RULES)
    assert (caught.value.line, caught.value.col) == (1, 35)
    assert caught.value.excerpt.splitlines()[1].strip() == "^^^^^^^"


def test_bare_where_is_wrapped() -> None:
    result = validate_sql("  where :contract_num = 'K1'", RULES)
    assert result.normalized == "SELECT 1 WHERE :contract_num = 'K1'"


def test_same_meaning_same_normalized_text() -> None:
    a = validate_sql("select 1 from contract where contract_num = :contract_num", RULES)
    b = validate_sql("SELECT 1\n  FROM contract -- note\n WHERE contract_num = :CONTRACT_NUM;", RULES)
    assert a.normalized == b.normalized
    assert a.source != b.source


def test_to_dialect_keeps_named_binds() -> None:
    result = validate_sql("SELECT 1 FROM milestone WHERE est_completion_date <= :as_of_date::date", RULES)
    assert result.to_dialect("postgresql") == (
        "SELECT 1 FROM milestone WHERE est_completion_date <= CAST(:as_of_date AS DATE)"
    )
    assert (
        result.to_dialect("sqlite")
        == "SELECT 1 FROM milestone WHERE est_completion_date <= DATE(:as_of_date)"
    )
    assert "%(" not in result.to_dialect("postgres")


def test_to_dialect_for_text_escapes_colons_outside_binds() -> None:
    result = validate_sql(
        "SELECT 1 FROM contract WHERE contract_num = :contract_num AND status <> 'x :y'", RULES
    )
    assert result.to_dialect("sqlite").endswith("= :contract_num AND status <> 'x :y'")
    escaped = result.to_dialect("sqlite", for_text=True)
    assert escaped.endswith("= :contract_num AND status <> 'x \\:y'")
    assert set(sa.text(escaped)._bindparams) == {"contract_num"}


def test_binds_constant_matches_design() -> None:
    assert {"business_unit", "contract_num", "milestone_id", "milestone_num", "as_of_date"} == BINDS


def test_allow_list_is_configurable_and_case_insensitive() -> None:
    rules = SqlRules(allowed_tables=frozenset({"Reporting.Contract_Summary", "CONTRACT"}))
    validate_sql("SELECT 1 FROM reporting.contract_summary s JOIN Contract c ON 1 = 1", rules)
    with pytest.raises(SqlRuleError, match="table contract_summary is not on the allow-list"):
        validate_sql("SELECT 1 FROM contract_summary", rules)
    with pytest.raises(SqlRuleError, match="table milestone is not on the allow-list"):
        validate_sql("SELECT 1 FROM milestone", rules)


def test_default_allow_list() -> None:
    for table in DEFAULT_ALLOWED_TABLES:
        validate_sql(f"SELECT 1 FROM {table}", RULES)


def test_cte_visibility_follows_the_strictest_database() -> None:
    # A non-recursive CTE cannot see itself or later CTEs: PostgreSQL resolves those names to tables.
    with pytest.raises(SqlRuleError, match="table later is not on the allow-list"):
        validate_sql("WITH first AS (SELECT * FROM later), later AS (SELECT 1) SELECT 1 FROM first", RULES)
    validate_sql("WITH first AS (SELECT 1), later AS (SELECT * FROM first) SELECT 1 FROM later", RULES)
    validate_sql(
        "WITH RECURSIVE a(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM a WHERE n < 3) SELECT 1 FROM a", RULES
    )


def test_allowed_functions_are_configurable() -> None:
    with pytest.raises(SqlRuleError, match=r"function pg_sleep\(\) is not allowed"):
        validate_sql("SELECT pg_sleep(0)", RULES)
    validate_sql("SELECT pg_sleep(0)", SqlRules(allowed_functions=frozenset({"PG_SLEEP"})))
    with pytest.raises(SqlRuleError, match=r"function lower\(\) is not allowed"):
        validate_sql("SELECT lower('x')", SqlRules(allowed_functions=frozenset({"upper"})))
    with pytest.raises(SqlRuleError, match=r"function dblink_exec\(\) is not allowed"):
        validate_sql("SELECT dblink_exec('x', 'DROP TABLE contract')", RULES)


def test_a_spelling_sqlglot_knows_matches_any_of_its_names() -> None:
    # sqlglot reads substr() and substring() as one function; either name on the list allows both.
    only_substr = SqlRules(allowed_functions=frozenset({"substr"}))
    validate_sql("SELECT 1 WHERE substring('abc', 1, 2) = 'ab'", only_substr)
    with pytest.raises(SqlRuleError, match=r"function substr\(\) is not allowed"):
        validate_sql("SELECT 1 WHERE substr('abc', 1, 2) = 'ab'", SqlRules(allowed_functions=frozenset()))


def test_sqlite_dialect_rules() -> None:
    rules = SqlRules(dialect="sqlite")
    result = validate_sql("SELECT 1 FROM contract WHERE contract_num = :contract_num AND x IS NULL", rules)
    assert result.dialect == "sqlite"
    assert ":contract_num" in result.to_dialect("postgresql")
    for text, message in [
        ("SELECT 1 FROM contract WHERE contract_num = $1", "bind $1 is not allowed"),
        ("SELECT 1 FROM contract WHERE contract_num = $cn", "bind $cn is not allowed"),
        ("SELECT 1 FROM contract WHERE contract_num = @cn", "bind @cn is not allowed"),
        ("ATTACH DATABASE 'x.db' AS x", "only SELECT statements are allowed, found ATTACH"),
        ("PRAGMA writable_schema = ON", "only SELECT statements are allowed, found PRAGMA"),
        ("SELECT load_extension('evil')", "function load_extension() is not allowed"),
        ("SELECT 1 FROM main.contract", "table main.contract is not on the allow-list"),
        ("REPLACE INTO contract VALUES (1)", "only SELECT statements are allowed, found REPLACE"),
        ("VACUUM", "only SELECT statements are allowed, found VACUUM"),
    ]:
        with pytest.raises(SqlRuleError) as caught:
            validate_sql(text, rules)
        assert message in str(caught.value), text


def test_validated_sql_is_a_value() -> None:
    a = validate_sql("SELECT 1 FROM contract", RULES)
    assert a == ValidatedSql("SELECT 1 FROM contract", "SELECT 1 FROM contract", frozenset(), "postgres")
    assert hash(a) == hash(validate_sql("SELECT 1 FROM contract", RULES))


SQL_WORDS = [
    "SELECT", "WITH", "RECURSIVE", "FROM", "WHERE", "AND", "OR", "NOT", "EXISTS", "IN", "UNION", "ALL", "INTO",
    "FOR", "UPDATE", "DELETE", "INSERT", "VALUES", "CREATE", "TABLE", "DROP", "PRAGMA", "ATTACH", "AS", "JOIN",
    "ON", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "::", "(",
    ")", ",", ";", "*", "=", "<=", "<>", "'x'", "'a:b'", "1", "2.5", "NULL", "contract", "payroll", "m",
    "pg_catalog.pg_user", ":contract_num", ":as_of_date", ":nope", "?", "$1", "%s", "@x", "--c\n", "/*c*/",
    '"Q"', "ms_prcs_cand", "count(*)", "pg_sleep(1)", "query_to_xml('x')", "\n", "BEGIN", "COMMIT", "SET",
]  # fmt: skip


def _check_only_rule_errors(text: str) -> None:
    try:
        result = validate_sql(text, RULES)
    except SqlRuleError:
        return
    assert isinstance(result, ValidatedSql)
    assert result.binds <= BINDS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_rule_errors(text: str) -> None:
    _check_only_rule_errors(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(SQL_WORDS), max_size=25).map(" ".join))
def test_sql_like_soup_only_raises_rule_errors(text: str) -> None:
    _check_only_rule_errors(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(SQL_WORDS), max_size=12).map(" ".join))
def test_wrapped_soup_only_raises_rule_errors(text: str) -> None:
    _check_only_rule_errors("WHERE " + text)
    _check_only_rule_errors("SELECT 1 FROM contract WHERE " + text)
