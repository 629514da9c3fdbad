"""The YAML load files' reader, which builds values straight from libyaml's events, gives what PyYAML gives
with the load files' loader (``yaml.load(text, Loader=_UniqueKeyLoader)``): the same value, or both refuse;
and where it refuses, it says what reading the file whole says."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from contracts.errors import InvalidInput
from ms_prcs.load.reading import MAX_DEPTH, _UniqueKeyLoader, read_document
from ms_prcs.load.streaming import yaml_items

REFUSED = "refused"


def reference(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
    except Exception:  # PyYAML's constructors raise ValueError, TypeError...: refused all the same
        return REFUSED


def streamed(path: Path, text: str) -> Any:
    """The document as the streaming reader hands it out, put together again."""
    path.write_text(text, encoding="utf-8")
    document: Any = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for item in yaml_items(path, handle, _UniqueKeyLoader, MAX_DEPTH):
                match item:
                    case ("key", name):
                        document[name] = []
                    case ("entry", name, index, entry):
                        assert index == len(document[name])
                        document[name].append(entry)
                    case ("value", name, value):
                        document[name] = value
                    case ("document", value):
                        document = value
    except InvalidInput:
        return REFUSED
    return document


def same(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down, in the same order (NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, set):
        return a == b
    return bool(a == b)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((max(depth(k), depth(v)) for k, v in value.items()), default=0)
    if isinstance(value, list | set):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


TRICKY = [
    *("yes", "No", "on", "OFF", "y", "n", "~", "null", "Null", "", " ", "true", "FALSE"),
    *("0", "-0", "+1", "017", "0o17", "0x1F", "0b101", "0b_", "1_000", "1:20", "190:20:30", "-1:5"),
    *("1.5", ".5", "1e3", "1.0e+3", "-.inf", ".NaN", ".nan", "6.8523015e+5", "685.230_15e+03", "1__0"),
    *("2026-01-15", "2026-02-30", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5"),
    *("<<", "=", "!x", "&a", "*a", "- a", "a: b", "#c", "? x", "| x", "> x", "%TAG", "@x", "`x"),
    *(" lead", "trail ", "two\nlines", "tab\there", "quote ' \"", "back\\slash", "\u00e9\u2713", "\ufeffbom"),
    *("a\x85b", "a\u2028b", "x" * 200, "multi word text that goes on long enough to be folded " * 3),
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**30), 10**30),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(TRICKY),
    st.dates(),
    st.datetimes(max_value=dt.datetime(9999, 1, 1)),
    st.binary(max_size=10),
)
keys = st.one_of(
    st.text(max_size=10), st.sampled_from(TRICKY), st.integers(), st.booleans(), st.none(), st.floats()
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(keys, children, max_size=4)
        | st.sets(st.text(max_size=5) | st.integers(), max_size=3)
    ),
    max_leaves=25,
)


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A load file's shape (sections of entries, some sections not lists), sharing some collections
    between entries (dumped as anchors and aliases), or any other document."""
    shared = draw(
        st.lists(st.lists(values, min_size=1) | st.dictionaries(keys, values, min_size=1), max_size=2)
    )
    entries = values | st.sampled_from(shared) if shared else values
    sections = st.dictionaries(keys, st.lists(entries, max_size=5) | values, max_size=5)
    return draw(sections | values)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document=documents(),
    flow=st.sampled_from([False, True, None]),
    style=st.sampled_from([None, None, '"', "'", "|", ">"]),
    canonical=st.booleans(),
    width=st.sampled_from([20, 80, 1000]),
    explicit=st.booleans(),
)
def test_any_dumped_document_reads_as_pyyaml_reads_it(
    tmp_path_factory: pytest.TempPathFactory,
    document: Any,
    flow: bool | None,
    style: str | None,
    canonical: bool,
    width: int,
    explicit: bool,
) -> None:
    assume(depth(document) < MAX_DEPTH - 2)
    try:
        text = yaml.safe_dump(
            document,
            default_flow_style=flow,
            default_style=style,
            canonical=canonical,
            width=width,
            explicit_start=explicit,
            explicit_end=explicit,
            allow_unicode=True,
            sort_keys=False,
        )
    except yaml.YAMLError:
        assume(False)
    path = tmp_path_factory.mktemp("y") / "a.yaml"
    expected = reference(text)
    assert same(streamed(path, text), expected), text


ALIKE = [
    # anchors and aliases, also across entries and sections, on scalars and collections, as keys
    "roles:\n  - &pm {role: PM, descr: &d Project manager}\n  - *pm\n  - {role: X, descr: *d}\n",
    "roles:\n  - {role: &r PM}\nusers:\n  - {user: ann, roles: [*r, *r]}\n  - {user: bob, roles: &both [PM, FIN]}\n"
    "classifications:\n  - {classification: C, roles: *both}\n",
    "a: &x [1, &y {b: 2}]\nb: [*x, *y, *x]\n",
    "a: [&k key, {*k : 1}, {&m {x: 1}: 2}]\n",
    "a:\n  - &e\n    x: 1\n    y: [1, 2]\n  - *e\n  - {z: *e}\n",
    "&top {a: [1], b: 2}\n",
    "x: &s 1\ny: [*s, *s]\n",
    # tags, on scalars and collections
    "a: [!!str 12, !!int '12', !!float '1', !!bool 'true', !!null '', ! 12, ! '12', !!str, !!binary aGk=]\n",
    "a: [!!set {x, y}, !!omap [a: 1, b: 2], !!pairs [a: 1, a: 2], !!seq [1], !!map {a: 1}]\n",
    "a:\n  - !!map {a: 1}\n  - !!seq [1, 2]\n  - !!set {p}\n",
    "%YAML 1.1\n%TAG !e! tag:yaml.org,2002:\n---\na: [!e!int '5', !e!str 5]\n",
    "a: [!!timestamp 2026-01-15, !!timestamp '2001-12-14t21:59:43.10-05:00', 2026-01-15]\n",
    # flow and block styles, multi-line and block scalars, comments, markers
    "a: [1, {b: c, d: [e, f]}, 'g''h', \"i\\tj\"]  # comment\n# another\nb: {}\n",
    "a:\n  - |\n    two\n    lines\n  - >-\n    folded\n    text\n  - plain\n    continued\n  - 'quoted\n\n    lines'\n",
    "---\na: [1]\n...\n",
    "--- !!map\na: [1]\n",
    "- one\n- two\n",
    "just text\n",
    "",
    "# only a comment\n",
    "~\n",
    "[]\n",
    "{}\n",
    "a: []\nb: [[]]\nc: [{}]\n",
    "? [x, y]\n: z\n",
    "a:\n  ? [x, y]\n  : z\n",
    "a: [{0: x, false: y}]\n",
    "a: [{1: x, 1.0: y}]\n",
    "a: [{.nan: x, .nan: y}]\n",
    "a: [{null: x, ~: y}]\n",
    "a: [{b: 1}, {b: 1, c: {d: 1, d: 2}}]\n",
    "a: [{b: 1, b: 2}]\n",
    "a: {b: 1, b: 2}\n",
    "a: 1\na: 2\n",
    "a: [&x 1, &x 2]\n",
    "a: [*nothing]\n",
    "a: [{<<: {b: 1}, c: 2}]\n",
    "a: [{b: <<}]\n",
    "a: [{b: =}]\n",
    "a: [!!int abc]\n",
    "a: [0b_, 0x_]\n",
    "a: [!!float x]\n",
    "a: [!!bool maybe]\n",
    "a: [!!timestamp nonsense]\n",
    "a: [!custom x]\n",
    "a: [!custom {x: 1}]\n",
    "a: [{[1]: 2}]\n",
    "a: [{{b: 1}: 2}]\n",
    "a: [1]\n---\nb: [2]\n",
    "a: [1, 2\n",
    "a: [1]\n b: 2\n",
    "a: [" + "[" * 40 + "]" * 40 + "]\n",
    "a: " + "[" * 31 + "]" * 31 + "\n",
    "a: [" + "{b: " * 31 + "1" + "}" * 31 + "]\n",
    "[" * 40 + "]" * 40 + "\n",
]


@pytest.mark.parametrize("text", ALIKE)
def test_each_construct_reads_as_pyyaml_reads_it(tmp_path: Path, text: str) -> None:
    expected = reference(text)
    got = streamed(tmp_path / "a.yaml", text)
    if expected != REFUSED and depth(expected) > MAX_DEPTH:
        expected = REFUSED  # nested deeper than a load file may be: refused before it is built
    assert same(got, expected), (got, expected)


def whole(path: Path) -> str | None:
    try:
        read_document(path)
    except InvalidInput as exc:
        return str(exc).replace('"<unicode string>"', f'"{path}"')
    return None


def streamed_message(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8") as handle:
            for _ in yaml_items(path, handle, _UniqueKeyLoader, MAX_DEPTH):
                pass
    except InvalidInput as exc:
        return str(exc)
    return None


SAID_OTHERWISE_WHOLE = {
    # libyaml's composer (reading whole) does not name the anchor; PyYAML's, as streaming did, does
    "a: [&x 1, &x 2]\n",
    "a: [*nothing]\n",
    # a constructor's own exception (ValueError...): refused whole too, without the place
    "a: [!!int abc]\n",
    "a: [0b_, 0x_]\n",
    "a: [!!float x]\n",
    "a: [!!bool maybe]\n",
    "a: [!!timestamp nonsense]\n",
}


@pytest.mark.parametrize("text", [t for t in ALIKE if t not in SAID_OTHERWISE_WHOLE])
def test_a_refusal_says_what_reading_the_file_whole_says(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(text, encoding="utf-8")
    assert streamed_message(path) == whole(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "roles:\n  - {role: PM, role: X}\n",
            "key 'role' is given twice\n  in \"{path}\", line 2, column 16",
        ),
        (
            "roles:\n  - role: PM\n    descr: x\n    role: X\n",
            "key 'role' is given twice\n  in \"{path}\", line 4, column 5",
        ),
        ("roles: []\nroles: []\n", "key 'roles' is given twice\n  in \"{path}\", line 2, column 1"),
        ("a: [{&k b: 1, *k : 2}]\n", "key 'b' is given twice\n  in \"{path}\", line 1, column 6"),
        ("a: [{0: x, false: y}]\n", 'key False is given twice\n  in "{path}", line 1, column 12'),
        (
            "a: [{[1]: 2}]\n",
            'while constructing a mapping\n  in "{path}", line 1, column 5\n'
            'found unhashable key\n  in "{path}", line 1, column 6',
        ),
        (
            "a: [!!int abc]\n",
            "cannot read this as tag:yaml.org,2002:int (invalid literal for int() with base 10: 'abc')\n"
            '  in "{path}", line 1, column 5',
        ),
        (
            "a: [&x 1, &x 2]\n",
            "found duplicate anchor 'x'; first occurrence\n  in \"{path}\", line 1, column 5\n"
            'second occurrence\n  in "{path}", line 1, column 11',
        ),
        ("a: [*nothing]\n", "found undefined alias 'nothing'\n  in \"{path}\", line 1, column 5"),
        (
            "a: [{b: <<}]\n",
            "could not determine a constructor for the tag 'tag:yaml.org,2002:merge'\n"
            '  in "{path}", line 1, column 9',
        ),
    ],
)
def test_refusals_name_the_rule_and_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(text, encoding="utf-8")
    assert streamed_message(path) == f"{path}: not valid YAML: " + message.replace("{path}", str(path))


def test_a_list_holding_itself_is_built_as_pyyaml_builds_it(tmp_path: Path) -> None:
    document = streamed(tmp_path / "a.yaml", "a: [&r [*r, 1]]\n")
    inner = document["a"][0]
    assert inner[0] is inner and inner[1] == 1


def test_nesting_is_refused_where_it_goes_too_deep(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("a:\n  - " + "[" * 40 + "]" * 40 + "\n", encoding="utf-8")
    assert streamed_message(path) == f"{path}: nested deeper than {MAX_DEPTH} levels (line 2, column 35)"
    assert whole(path) == streamed_message(path)
