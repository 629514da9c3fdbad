"""The streaming readers of JSON and YAML load files say what reading the file whole said: the same
document, and the same problem at the same path, wherever the reads cut the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.errors import InvalidInput, LoadError
from ms_prcs.load import reading, streaming
from ms_prcs.load.reading import check_file, parse_json, read_document, validated

DOCUMENT = {
    "business_units": [{"business_unit": "US001", "descr": 'Ünïcode ✓ \\ " \n'}],
    "roles": [{"role": "PM"}, {"role": "FIN", "descr": "x" * 40}],
    "contracts": [
        {"contract": "US001/K1", "lines": [{"line": 1, "amount": 12.5}, {"line": "2", "amount": "-3"}]},
        {"contract": "US001/K2", "attributes": {"region": "EMEA"}, "milestones": [{"milestone_id": "M"}]},
    ],
    "optional_evaluate": ["US001/K1", "US001/K2"],
}


def whole(path: Path) -> LoadError | InvalidInput | object:
    """What the reader before streaming said: parse whole, then validate whole."""
    try:
        return validated(read_document(path), str(path)).model_dump()
    except (LoadError, InvalidInput) as exc:
        return str(exc)


def streamed(path: Path) -> object:
    try:
        return check_file(path)().model_dump()
    except (LoadError, InvalidInput) as exc:
        return str(exc)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_a_json_file_reads_the_same_whatever_the_read_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(streaming, "CHUNK", chunk)
    path = tmp_path / "a.json"
    for text in (json.dumps(DOCUMENT), json.dumps(DOCUMENT, indent=3), "  {}  ", "null", '{"roles": []}'):
        path.write_text(text)
        assert streamed(path) == whole(path), text


BAD_JSON = [
    '{"roles": [{"role": "PM"}, {"role": "PM", "role": "X"}]}',
    '{"roles": [{"role": "PM"}], "roles": []}',
    '{"roles": [{"role": "PM"},\n {"role": "FIN"} {"role": "X"}]}',
    '{"roles": [{"role": "PM"}, ]}',
    '{"roles": [{"role": "PM"}]} x',
    '{"roles": [{"role": "PM"}]',
    '{"roles": [{"role": "PM}]}',
    '{"roles": [{"role": tru}]}',
    '{"roles" [1]}',
    "{roles: [1]}",
    "",
    "\n\n  ",
    "\ufeff{}",
    '[{"role": "PM"}]',
    '{"roles": {"role": "PM"}}',
    '{"roles": null}',
    '{"rolez": [1], "contracts": [1]}',
    '{"contracts": [{"contract": "US001/K1"}, 7], "roles": [{"rolle": "PM"}]}',
    '{"contracts": [{"contract": "US001/K1", "lines": [{"line": 99999999999999999999, "amount": 1}]}]}',
    '{"contracts": [{"contract": "US001/K1", "milestones": [{"milestone_id": "M", "est_date": "2026-02-30"}]}]}',
    '{"optional_evaluate": ["US001/K1", "nokey"]}',
    '{"roles": ' + "[" * 50_000 + "]" * 50_000 + "}",
]


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
@pytest.mark.parametrize("text", BAD_JSON)
def test_a_bad_json_file_is_refused_with_the_same_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, chunk: int
) -> None:
    monkeypatch.setattr(streaming, "CHUNK", chunk)
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    expected = whole(path)
    assert isinstance(expected, str), expected
    assert streamed(path) == expected


BAD_YAML = [
    "roles:\n  - {role: PM}\n  - {role: PM, role: X}\n",
    "roles: []\nroles: []\n",
    "roles:\n  - role: PM\n   bad: indent\n",
    "roles: [{role: PM}]\n---\nroles: []\n",
    "- role: PM\n",
    "roles: {role: PM}\n",
    "rolez: [1]\ncontracts: [1]\n",
    "contracts: [{contract: US001/K1}, 7]\nroles: [{rolle: PM}]\n",
    "project_activities:\n  - {project: P, activity: A, history: [{effdt: 2026-02-30, status: Open}]}\n",
    "roles: " + "[" * 40 + "]" * 40 + "\n",
    "roles: &r [{role: PM}]\nusers: *r\n",
]


@pytest.mark.parametrize("text", BAD_YAML)
def test_a_bad_yaml_file_is_refused_with_the_same_message(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(text)
    expected = whole(path)
    assert isinstance(expected, str), expected
    got = streamed(path)
    # The whole-file reader parsed a string, the streaming one reads the file: marks name it.
    assert got == expected.replace('"<unicode string>"', f'"{path}"')


def test_yaml_anchors_and_aliases_work_across_entries(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(
        "roles:\n  - &pm {role: PM, descr: Project manager}\n  - {role: FIN}\n"
        "users:\n  - {user: ann, roles: [PM]}\n  - &bob {user: bob, roles: &both [PM, FIN]}\n"
        "classifications:\n  - {classification: C, roles: *both}\n"
    )
    assert streamed(path) == whole(path)
    assert streamed(path) == validated(parse_json(json.dumps(_plain_yaml(path))), "x").model_dump()


def _plain_yaml(path: Path) -> object:
    return reading.read_yaml(path.read_text())


def test_a_big_file_is_read_again_to_load_and_says_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "KEEP_BYTES", 10)
    for suffix, text in (("json", json.dumps(DOCUMENT)), ("yaml", json.dumps(DOCUMENT, indent=2))):
        path = tmp_path / f"a.{suffix}"
        path.write_text(text)
        assert streamed(path) == whole(path)


ENTRY = st.fixed_dictionaries(
    {"role": st.text(min_size=1, max_size=12)},
    optional={"descr": st.text(max_size=30), "extra": st.integers()},
)


@settings(max_examples=60, deadline=None)
@given(
    roles=st.lists(ENTRY, max_size=6),
    chunk=st.integers(1, 40),
    indent=st.sampled_from([None, 0, 2]),
)
def test_any_roles_file_streams_as_it_reads_whole(
    tmp_path_factory: pytest.TempPathFactory, roles: list[dict[str, object]], chunk: int, indent: int | None
) -> None:
    path = tmp_path_factory.mktemp("s") / "a.json"
    path.write_text(json.dumps({"roles": roles}, indent=indent, ensure_ascii=False), encoding="utf-8")
    old = streaming.CHUNK
    streaming.CHUNK = chunk
    try:
        assert streamed(path) == whole(path)
    finally:
        streaming.CHUNK = old
