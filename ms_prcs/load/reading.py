"""Reading load files: YAML, JSON and JSON Lines, validated whole against :class:`LoadDocument` before
anything is written.

- A key given twice in one mapping is refused, in YAML and JSON alike (the last one winning silently is
  a field silently lost).
- YAML dates are read as text and checked by the schema, so ``2026-02-30`` is an error at its path, not
  a crash inside the YAML library; nesting deeper than Python's stack is refused as bad input.
- Every format is validated an entry at a time, so a big file that is wrong in its last entry is refused
  in the time it takes to read it, in memory that does not grow with the file: JSON and YAML through
  :mod:`ms_prcs.load.streaming`, JSON Lines (``.jsonl``, one ``{"section": entry}`` object a line) a line
  at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

from contracts.errors import InvalidInput, LoadError
from ms_prcs.inputs import first_problem, kind
from ms_prcs.load.quick import quick_check
from ms_prcs.load.schema import SECTION_NAMES, LoadDocument
from ms_prcs.load.streaming import Item, json_items, unique_pairs, yaml_items

SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BaseLoader):  # type: ignore[misc]
    """safe_load (libyaml's when installed) that refuses a key given twice in one mapping instead of keeping
    the last silently, and leaves dates as text for the schema to check."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def parse_json(text: str) -> Any:
    """JSON with numbers as exact decimals and duplicate keys refused (``ValueError``)."""
    return json.loads(text, object_pairs_hook=unique_pairs, parse_float=Decimal)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc})") from exc


MAX_DEPTH = 32
"""Nesting deeper than this is no load or job file (theirs is at most 8): refused before building it."""


def _check_depth(text: str) -> None:
    """libyaml builds nested collections recursively in C, where a deep enough file (``[[[[...``) is a
    segmentation fault rather than an exception; its event stream is flat, so measure the depth there."""
    depth = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
                raise InvalidInput(f"nested deeper than {MAX_DEPTH} levels{where}")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def read_yaml(text: str) -> Any:
    """YAML text as data, keys given twice refused, dates left as text (for job files and load files)."""
    try:
        _check_depth(text)
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise InvalidInput(f"not valid YAML: {exc}") from exc
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:  # !!int abc, 0b_
        raise InvalidInput(f"not valid YAML: a value cannot be read as its tag says ({exc})") from exc
    except RecursionError:
        raise InvalidInput("nested too deeply") from None


def read_document(path: Path) -> Any:
    """The parsed YAML (``.yaml``/``.yml``) or JSON (``.json``) of ``path``, chosen by its extension."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES or suffix == ".jsonl":
        raise InvalidInput(f"{path}: a load file must end in .yaml, .yml or .json (or .jsonl: JSON Lines)")
    text = _read_text(path)
    try:
        if suffix == ".json":
            try:
                return parse_json(text)
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                raise InvalidInput(f"{path}: not valid JSON: {exc}") from exc
        try:
            return read_yaml(text)
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: {exc}") from exc
    except RecursionError:
        raise InvalidInput(f"{path}: nested too deeply to be a load file") from None


def validated(document: Any, where: str) -> LoadDocument:
    """``document`` as a :class:`LoadDocument`, or the first problem as a LoadError at ``where: path``."""
    try:
        return LoadDocument.model_validate(document)
    except ValidationError as exc:
        path, problem = first_problem(exc)
        raise LoadError(f"{where}: {path}", problem) from None
    except RecursionError:
        raise InvalidInput(f"{where}: nested too deeply to be a load file") from None


def _lines(path: Path) -> Iterator[tuple[int, str, Any]]:
    """Each entry of a JSON Lines file: its line number, section and entry, checked for shape."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc})") from exc
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    item = parse_json(line)
                except ValueError as exc:
                    raise InvalidInput(f"{path}: line {number}: not valid JSON: {exc}") from exc
                except RecursionError:
                    raise InvalidInput(f"{path}: line {number}: nested too deeply") from None
                if not isinstance(item, dict) or len(item) != 1:
                    raise LoadError(
                        f"{path}: line {number}",
                        f'expected one {{"section": entry}} mapping, got {kind(item)}',
                    )
                ((section, entry),) = item.items()
                if section not in SECTION_NAMES:
                    raise LoadError(
                        f"{path}: line {number}: {section}",
                        f"unknown section (known: {', '.join(SECTION_NAMES)})",
                    )
                yield number, section, entry
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path}: cannot be read ({exc})") from exc


def _validate_lines(path: Path) -> None:
    """Every line of a JSON Lines file against its section's entry model, one line in memory at a time."""
    seen: dict[str, int] = {}
    for number, section, entry in _lines(path):
        index = seen.get(section, 0)
        seen[section] = index + 1
        quick = _QUICK[section]
        if quick is not None and quick.isinstance_python(entry):
            continue
        try:
            LoadDocument.model_validate({section: [entry]})
        except ValidationError as exc:
            where, problem = first_problem(exc)
            where = where.replace(f"{section}[0]", f"{section}[{index}]", 1)
            raise LoadError(f"{path}: line {number}: {where}", problem) from None


def _document_of_lines(path: Path) -> LoadDocument:
    sections: dict[str, list[Any]] = {}
    for _, section, entry in _lines(path):
        sections.setdefault(section, []).append(entry)
    return validated(sections, str(path))


KEEP_BYTES = 8_000_000
"""A JSON or YAML file up to this size keeps its validated entries for loading; a bigger one is validated
holding one entry at a time and read again to load, so refusing it never takes memory that grows with it."""


class _Check:
    """Entries validated one at a time, reporting the problem that validating the whole document would:
    the document's shape (not a mapping, an unknown section) before any section's, sections in load order,
    and in a section its first bad entry. Sections after the earliest one with a problem are not validated
    any more (their problems could not be the one reported), but the file is still read to its end, so that
    a syntax error anywhere is reported first, as when the file was parsed whole."""

    def __init__(self, where: str, keep: bool) -> None:
        self.where = where
        self.keep = keep
        self.shape: tuple[str, str] | None = None
        self.problems: dict[str, tuple[str, str]] = {}
        self.rank = len(SECTION_NAMES)
        self.sections: dict[str, list[Any]] = {}
        self.whole: LoadDocument | None = None

    def _wants(self, name: Any) -> bool:
        return self.shape is None and _RANK.get(name, self.rank) < self.rank

    def _problem(self, name: str, problem: tuple[str, str]) -> None:
        self.problems[name] = problem
        self.rank = min(self.rank, _RANK[name])
        self.keep = False
        self.sections.clear()

    def item(self, item: Item) -> None:
        match item:
            case ("entry", name, index, entry):
                if self._wants(name):
                    quick = None if self.keep else _QUICK[name]
                    if quick is not None and quick.isinstance_python(entry):
                        return
                    try:
                        model = _ENTRIES[name].validate_python(entry)
                    except ValidationError as exc:
                        self._problem(name, first_problem(exc, (name, index)))
                    else:
                        if self.keep:
                            self.sections.setdefault(name, []).append(model)
            case ("key", name):
                if name not in _RANK and self.shape is None:
                    self.shape = (str(name), f"unknown section (known: {', '.join(SECTION_NAMES)})")
                    self.sections.clear()
            case ("value", name, value):
                if self._wants(name):
                    try:
                        section = getattr(LoadDocument.model_validate({name: value}), name)
                    except ValidationError as exc:
                        self._problem(name, first_problem(exc))
                    else:
                        self.sections[name] = list(section)
            case ("document", value):
                try:
                    self.whole = LoadDocument.model_validate(value)
                except ValidationError as exc:
                    self.shape = first_problem(exc)

    def document(self) -> LoadDocument:
        """The validated document, or the first problem as a LoadError at ``where: path``."""
        problem = self.shape or min(self.problems.items(), key=lambda p: _RANK[p[0]], default=(0, None))[1]
        if problem is not None:
            raise LoadError(f"{self.where}: {problem[0]}", problem[1])
        if self.whole is not None:
            return self.whole
        return LoadDocument.model_construct(None, **self.sections)


_RANK = {name: rank for rank, name in enumerate(SECTION_NAMES)}
_ENTRIES: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(get_args(LoadDocument.model_fields[name].annotation)[0]) for name in SECTION_NAMES
}
"""Each section's entry type (``list[ContractEntry]`` -> ``ContractEntry``), to validate entries alone."""
_QUICK: dict[str, SchemaValidator | None] = {
    name: quick_check(get_args(LoadDocument.model_fields[name].annotation)[0]) for name in SECTION_NAMES
}
"""Each section's quick check (:mod:`ms_prcs.load.quick`): an entry it accepts, the models accept, so
an entry of a file that is only validated (not kept for loading) goes through the models only if not."""


def _streamed(path: Path, keep: bool) -> LoadDocument:
    """Read a JSON or YAML file an entry at a time, validating each (see :mod:`ms_prcs.load.streaming`)."""
    check = _Check(str(path), keep)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc})") from exc
    with handle:
        try:
            if path.suffix.lower() == ".json":
                items = json_items(path, handle)
            else:
                items = yaml_items(path, handle, _UniqueKeyLoader, MAX_DEPTH)
            for item in items:
                check.item(item)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: cannot be read ({exc})") from exc
    return check.document()


def check_file(path: Path) -> Callable[[], LoadDocument]:
    """Validate ``path`` whole, holding one entry at a time; returns how to get its document for loading
    (a file bigger than :data:`KEEP_BYTES`, and every JSON Lines file, is read again then)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        _validate_lines(path)
        return lambda: _document_of_lines(path)
    if suffix not in SUFFIXES:
        raise InvalidInput(f"{path}: a load file must end in .yaml, .yml or .json (or .jsonl: JSON Lines)")
    try:
        small = path.stat().st_size <= KEEP_BYTES
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc})") from exc
    document = _streamed(path, keep=small)
    if small:
        return lambda: document
    return lambda: _streamed(path, keep=True)
