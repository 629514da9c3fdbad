"""Limits checked before parsing, the settings that configure the rules, and the portable rendering."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conditions.sql_rules import DEFAULT_ALLOWED_FUNCTIONS, DEFAULT_MAX_LENGTH, SqlRules, validate_sql
from contracts.errors import InvalidInput, SqlRuleError
from ms_prcs.settings import Settings

RULES = SqlRules()


def test_a_one_megabyte_condition_is_refused_by_the_size_rule() -> None:
    text = "SELECT 1 WHERE " + " + ".join(["length(randomblob(250000000))"] * 40_000) + " > 0"
    assert len(text) > 1_000_000
    with pytest.raises(SqlRuleError) as caught:
        validate_sql(text, RULES)
    assert str(caught.value) == (
        f"SQL condition: SQL rule: the SQL is {len(text):,} characters long, the limit is "
        f"{DEFAULT_MAX_LENGTH:,} (MS_PRCS_SQL_MAX_LENGTH)"
    )


def test_the_size_rule_counts_characters_and_is_configurable() -> None:
    text = "SELECT 1 WHERE 'é' = 'é'"
    validate_sql(text, SqlRules(max_length=len(text)))
    with pytest.raises(SqlRuleError, match="characters long, the limit is 23"):
        validate_sql(text, SqlRules(max_length=len(text) - 1))


def test_nesting_counts_parentheses_outside_strings_and_comments() -> None:
    deep = "SELECT 1 WHERE " + "(" * 32 + "1 = 1" + ")" * 32
    validate_sql(deep, RULES)
    validate_sql("SELECT 1 WHERE '" + "(" * 100 + "' = 'x' -- " + "(" * 100, RULES)
    with pytest.raises(SqlRuleError) as caught:
        validate_sql(deep, SqlRules(max_nesting=31))
    assert "SQL rule: parentheses nested more than 31 deep (MS_PRCS_SQL_MAX_NESTING)" in str(caught.value)
    assert (caught.value.line, caught.value.col) == (1, 47)


def test_deep_trees_without_parentheses_are_refused_before_any_recursive_walk() -> None:
    chain = "SELECT 1 WHERE " + " AND ".join(f"{i} = {i}" for i in range(200))
    with pytest.raises(SqlRuleError, match="nested more than 120 levels deep"):
        validate_sql(chain, RULES)
    nots = "SELECT 1 WHERE " + "NOT " * 1500 + "1 = 1"
    with pytest.raises(SqlRuleError):  # sqlglot's own recursion limit or the depth rule, never a crash
        validate_sql(nots, RULES)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=64))
def test_nesting_limit_is_exact(depth: int) -> None:
    text = "SELECT 1 WHERE " + "(" * depth + "1 = 1" + ")" * depth
    if depth <= RULES.max_nesting:
        validate_sql(text, RULES)
    else:
        with pytest.raises(SqlRuleError, match="parentheses nested more than 32 deep"):
            validate_sql(text, RULES)


def test_settings_configure_the_rules() -> None:
    env = {
        "MS_PRCS_SQL_FUNCTIONS": "+Round, pg_sleep",
        "MS_PRCS_SQL_MAX_LENGTH": "100",
        "MS_PRCS_SQL_MAX_NESTING": "4",
    }
    rules = Settings.from_env(env=env).sql_rules
    assert rules.allowed_functions == DEFAULT_ALLOWED_FUNCTIONS | {"round", "pg_sleep"}
    assert (rules.max_length, rules.max_nesting) == (100, 4)
    only = Settings.from_env(env={"MS_PRCS_SQL_FUNCTIONS": "lower, count"}).sql_rules
    assert only.allowed_functions == {"lower", "count"}
    with pytest.raises(SqlRuleError, match=r"function upper\(\) is not allowed"):
        validate_sql("SELECT 1 WHERE upper('a') = 'A'", only)
    assert Settings.from_env(env={}).sql_rules == SqlRules()
    with pytest.raises(InvalidInput, match="MS_PRCS_SQL_MAX_LENGTH must be a number"):
        Settings.from_env(env={"MS_PRCS_SQL_MAX_LENGTH": "lots"})


@pytest.mark.parametrize(
    ("text", "sqlite", "postgres"),
    [
        (
            "WHERE :as_of_date + INTERVAL '30 days' > DATE '2026-06-15'",
            "SELECT 1 WHERE DATE(:as_of_date, '+30 days') > DATE('2026-06-15')",
            "SELECT 1 WHERE CAST(:as_of_date AS DATE) + 30 > CAST('2026-06-15' AS DATE)",
        ),
        (
            "WHERE CAST(:as_of_date AS DATE) - INTERVAL '2 weeks' < :as_of_date",
            "SELECT 1 WHERE DATE(DATE(:as_of_date), '-14 days') < :as_of_date",
            "SELECT 1 WHERE CAST(CAST(:as_of_date AS DATE) AS DATE) + -14 < :as_of_date",
        ),
        (
            "WHERE EXTRACT(MONTH FROM :as_of_date) = 6",
            "SELECT 1 WHERE CAST(STRFTIME('%m', :as_of_date) AS INTEGER) = 6",
            "SELECT 1 WHERE EXTRACT(MONTH FROM :as_of_date) = 6",
        ),
    ],
)
def test_portable_forms_are_rendered_per_database(text: str, sqlite: str, postgres: str) -> None:
    result = validate_sql(text, RULES)
    assert result.to_dialect("sqlite") == sqlite
    assert result.to_dialect("postgresql") == postgres
    assert result.normalized == validate_sql(result.normalized, RULES).normalized  # stored as written
