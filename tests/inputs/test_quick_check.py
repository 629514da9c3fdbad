"""The quick check of a big load file's entries (``ms_prcs.load.quick``) accepts only entries the load file's
models accept, and it accepts the common ones (else a big file would be validated at the models' pace)."""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

from benchmarks.load import contract
from contracts.errors import LoadError
from contracts.limits import INT32_MAX, MAX_DAYS
from ms_prcs.inputs import Entry, Rule
from ms_prcs.load import reading
from ms_prcs.load.quick import quick_check
from ms_prcs.load.schema import SECTION_NAMES, LoadDocument
from tests.inputs.test_big_files import JSON_ENTRY

ENTRY_TYPES = {name: get_args(LoadDocument.model_fields[name].annotation)[0] for name in SECTION_NAMES}

LENGTHS = (1, 3, 5, 10, 20, 25, 30, 50, 80, 255, 2000)
POOL: list[Any] = [
    *(None, True, False, 0, 1, -1, 2, 100, 101, MAX_DAYS, MAX_DAYS + 1, INT32_MAX, INT32_MAX + 1, -(2**31)),
    *(10**13 - 1, 10**13, -(10**13 - 1), -(10**13), 12.5, 1e-05, 1.0, float("inf"), float("nan"), -0.0),
    *(Decimal("1.005"), Decimal("1.10000000000000000000000000000001"), Decimal("12.50"), Decimal("-0")),
    *(Decimal("9999999999999.99"), Decimal("1E+2"), Decimal("NaN"), Decimal("100.0000")),
    *(
        "1000.00",
        "1.005",
        "-0",
        "0",
        "0.01",
        "00.5",
        "1e3",
        " 5",
        "5 ",
        "1_000",
        "\u0663",
        "9999999999999.99",
    ),
    *("10000000000000", "-9999999999999.99", "100", "100.0001", "100.00001", "99.9999", "0.0001", "+5"),
    *("2026-01-15", "2026-02-29", "2024-02-29", "2026-04-31", "2026-04-30", "2026-13-01", "0000-01-01"),
    *("0001-01-01", "9999-12-31", "2026-1-15", "20260115", "2026-W03-1", " 2026-01-15", "2026-01-15\n"),
    *("US001/K1", "US001/K1/MS1/1", "us001/k1", "US0011/K1", "US001/" + "K" * 25, "US001/" + "K" * 26),
    *("US001/K1/MS1/0", "US001/K1/MS1/2147483648", "US001/K1/MS1/999999999", "US001/K 1", "US001/K1\n"),
    *("US001//K1", "a/b/c/d", "US001/K1/" + "M" * 10 + "/1", "US001/K1/" + "M" * 11 + "/1", " US001/K1 "),
    *(
        "date",
        "DATE",
        "Date",
        " date",
        "dAtE",
        "user initiated",
        "USER INITIATED",
        "user  initiated",
        "dat\u00e9",
    ),
    *("\u017fql", "sql", "milestone", "ready", "Pending", "open", "all", "ONE", "contract", "plan", "event"),
    *("USD", "usd", " USD", "XXX", "ABC", "US", "USDD", "EUR", "eur"),
    *("", " ", "\x1c", "\u3000", "\u2028", "\x85", "PM", "x", "\t x \t", "\u00e9", "a b"),
    *("x" * n for n in LENGTHS),
    *("x" * (n + 1) for n in LENGTHS),
    *(" " + "x" * n for n in LENGTHS),
    *({"region": "EMEA"}, {"": "x"}, {" ": "x"}, {"k" * 50: "v"}, {"k" * 51: "v"}, {"k": "v" * 255}),
    *({"k": "v" * 256}, {"k": 5}, {"k": True}, {"k": None}, {1: "x"}, {"k": ["x"]}, {"k": Decimal("1.5")}),
    *([], ["PM"], [" "], ("PM",), {"a": 1}),
]


def _rules(annotation: Any, metadata: tuple[Any, ...] = ()) -> list[tuple[Any, Rule]]:
    """Every rule used in ``annotation`` (an entry model, all the way down), with the type it checks."""
    if metadata and isinstance(metadata[0], Rule):
        return [(annotation, metadata[0])]
    if isinstance(annotation, type) and issubclass(annotation, Entry):
        return [
            pair
            for info in annotation.model_fields.values()
            for pair in _rules(info.annotation, tuple(info.metadata))
        ]
    if get_origin(annotation) is Annotated:
        base, *rest = get_args(annotation)
        return _rules(base, tuple(rest))
    return [pair for arg in get_args(annotation) for pair in _rules(arg)]


RULES = list({id(rule): (base, rule) for t in ENTRY_TYPES.values() for base, rule in _rules(t)}.values())
CHOICES = sorted({w for _, rule in RULES for w in rule.schema.get("enum", [])})
POOL += [*CHOICES, *(f" {w}" for w in CHOICES), *(w.title() for w in CHOICES), *(w + "x" for w in CHOICES)]
POOL += [
    f"{y}-{m:02d}-{d:02d}"
    for y in (2026, 2024, 1900, 2000)
    for m in range(14)
    for d in (0, 1, 28, 29, 30, 31, 32)
]
POOL += [
    f"{sign}{digits}{places}"
    for sign in ("", "-", "+")
    for digits in ("0", "1", "9" * 12, "9" * 13, "9" * 14)
    for places in ("", ".", ".5", ".55", ".555", ".50", ".500", "e2")
]
POOL += [
    f"{whole}{places}"
    for whole in ("0", "1", "99", "100", "101")
    for places in ("", ".0", ".0000", ".00001", ".1234", ".12345")
]
POOL += [f"{'B' * b}/{'C' * c}" for b in (0, 1, 5, 6) for c in (0, 1, 25, 26)]
POOL += [
    f"US001/K1/{'M' * m}/{n}"
    for m in (0, 1, 10, 11)
    for n in ("0", "1", "01", "999999999", "2147483647", "2147483648", "x")
]
POOL += [*CHOICES, *(f" {w}" for w in CHOICES), *(w.title() for w in CHOICES), *(w + "x" for w in CHOICES)]


def _accepts(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def values_for(annotation: Any, metadata: tuple[Any, ...] = ()) -> st.SearchStrategy[Any]:
    """Mostly values the field's rule accepts (taken from the pool), some it does not."""
    anything = st.sampled_from(POOL) | st.text(max_size=40) | st.integers()
    origin = get_origin(annotation)
    if metadata and isinstance(metadata[0], Rule):
        adapter = TypeAdapter(Annotated[annotation, metadata[0]])
        good = [v for v in POOL if _accepts(adapter, v)]
        assert good, f"no value of the pool fits {metadata[0]}"
        return st.sampled_from(good) | anything
    if origin is Annotated:
        base, *rest = get_args(annotation)
        return values_for(base, tuple(rest))
    if origin is Union or origin is __import__("types").UnionType:
        (inner,) = (a for a in get_args(annotation) if a is not type(None))
        return values_for(inner) | st.none()
    if origin is list:
        return st.lists(values_for(get_args(annotation)[0]), max_size=3) | anything
    if isinstance(annotation, type) and issubclass(annotation, Entry):
        return entries(annotation) | anything
    raise AssertionError(f"no values for {annotation}")


def entries(model: type[Entry]) -> st.SearchStrategy[dict[Any, Any]]:
    optional = {
        name: values_for(info.annotation, tuple(info.metadata)) for name, info in model.model_fields.items()
    }
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    extra = st.fixed_dictionaries({}, optional={"extra": st.just(1), 1: st.just("x")})
    shaped = st.fixed_dictionaries({name: optional.pop(name) for name in required}, optional=optional)
    return st.one_of(
        shaped, shaped, shaped, st.tuples(shaped, extra).map(lambda pair: {**pair[0], **pair[1]})
    )


@functools.cache
def _entry_values(name: str) -> st.SearchStrategy[Any]:
    entry_type = ENTRY_TYPES[name]
    if isinstance(entry_type, type) and issubclass(entry_type, Entry):
        return entries(entry_type)
    return values_for(entry_type)


def _checks(rule: Rule, base: Any) -> tuple[SchemaValidator, TypeAdapter[Any]]:
    assert rule.quick is not None
    return SchemaValidator(rule.quick), TypeAdapter(Annotated[base, rule])


QUICK_RULES = [_checks(rule, base) for base, rule in RULES if rule.quick is not None]


def test_each_rule_s_quick_schema_accepts_only_what_the_rule_accepts() -> None:
    accepted = 0
    for quick, full in QUICK_RULES:
        for value in POOL:
            if quick.isinstance_python(value):
                full.validate_python(value)
                accepted += 1
    assert accepted > 4 * len(QUICK_RULES)


LIKE_VALUES = st.text(alphabet="0123456789-+./: eE_xXbo\n\tAaUuSsDdKkMm\u0663\u00a0", max_size=30)


@settings(max_examples=3000, deadline=None)
@given(
    rule=st.sampled_from(QUICK_RULES),
    value=LIKE_VALUES | st.text(max_size=60) | st.integers() | st.decimals() | st.floats() | st.booleans(),
)
def test_any_value_a_quick_schema_accepts_its_rule_accepts(
    rule: tuple[SchemaValidator, TypeAdapter[Any]], value: Any
) -> None:
    quick, full = rule
    if quick.isinstance_python(value):
        full.validate_python(value)


SECTIONS_WITH_QUICK = [name for name in SECTION_NAMES if quick_check(ENTRY_TYPES[name]) is not None]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(SECTIONS_WITH_QUICK))
def test_what_the_quick_check_accepts_the_models_accept(data: st.DataObject, name: str) -> None:
    entry = data.draw(_entry_values(name))
    quick = quick_check(ENTRY_TYPES[name])
    assert quick is not None
    if quick.isinstance_python(entry):
        reading._ENTRIES[name].validate_python(entry)


def test_every_section_but_plans_has_a_quick_check() -> None:
    """Plans have a model validator of their own (template or by hand): their entries take the models."""
    assert [name for name in SECTION_NAMES if name not in SECTIONS_WITH_QUICK] == ["plans"]


def test_the_quick_check_accepts_the_common_entries() -> None:
    quick = quick_check(ENTRY_TYPES["contracts"])
    assert quick is not None
    assert quick.isinstance_python(contract(7))
    assert quick.isinstance_python(json.loads(JSON_ENTRY.format(i=7, amount="250.50")))
    assert not quick.isinstance_python(json.loads(JSON_ENTRY.format(i=7, amount="lots")))
    examples = reading.read_document(Path(__file__).parents[2] / "examples" / "contracts.yaml")
    for name, section in examples.items():
        checked = quick_check(ENTRY_TYPES[name])
        for entry in section:
            reading._ENTRIES[name].validate_python(entry)
            assert checked is not None and checked.isinstance_python(entry), (name, entry)


@pytest.mark.parametrize("section", ["contracts", "roles", "optional_evaluate"])
def test_a_file_refused_after_the_quick_check_says_what_the_models_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, section: str
) -> None:
    good = {"contracts": contract(1), "roles": {"role": "PM"}, "optional_evaluate": "US001/K1"}[section]
    bad = {"contracts": {**contract(2), "currency": "usdx"}, "roles": {"role": " "}, "optional_evaluate": "x"}
    path = tmp_path / "a.json"
    path.write_text(json.dumps({section: [good, good, bad[section]]}))
    monkeypatch.setattr(reading, "KEEP_BYTES", 0)  # validated only, read again to load: the quick check
    with pytest.raises(LoadError) as refused:
        reading.check_file(path)
    whole = pytest.raises(LoadError, reading.validated, reading.read_document(path), str(path))
    assert str(refused.value) == str(whole.value)
