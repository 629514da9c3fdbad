"""Reading a JSON or YAML load file one section entry at a time, in memory that does not grow with the file.

A load file is a mapping of sections to lists of entries; the lists are what grows. Both readers walk the
top-level mapping themselves and hand out each entry of a list as soon as it is parsed, so a 50 MB file
is never held whole: what is held is one entry and the read buffer.

- JSON: the standard library's C scanner (``JSONDecoder.raw_decode``) decodes one entry at a time out of
  a buffer refilled from the file, with the same duplicate-key refusal and exact decimals as
  :func:`ms_prcs.load.reading.parse_json`; a syntax error says the same as ``json.loads`` would, with the
  line and column in the whole file.
- YAML: libyaml's event parser (read incrementally from the file), each entry's values built straight
  from its events with the load files' loader's rules (:mod:`ms_prcs.load.yaml_values`). Anchors stay
  known for the whole document (an alias may point at an earlier entry), so a file that anchors much holds
  what it anchors. Nesting is counted while building and refused past ``MAX_DEPTH``.

What the readers yield (:data:`Item`): ``("key", name)`` for each top-level key, ``("entry", name, index,
entry)`` for each entry of a list, ``("value", name, value)`` for a section that is not a plain list (read
whole: it is refused or small), and ``("document", value)`` when the document is not a mapping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import yaml
from yaml.constructor import ConstructorError
from yaml.resolver import BaseResolver

from contracts.errors import InvalidInput
from ms_prcs.load.yaml_values import EventValues

Item = tuple[Any, ...]
"""``("key", name)``, ``("entry", name, index, entry)``, ``("value", name, value)`` or ``("document", value)``."""

CHUNK = 1 << 20
"""Characters read at a time; a value longer than the buffer makes the next read as long as the buffer."""
_CParser: Any = getattr(yaml.cyaml, "CParser")  # noqa: B009 - the stubs do not export it
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_TAIL = 16
"""A decoding error this close to the end of the buffer may be a token cut by the read (``tru``,
``\\u12``, ``-``): the buffer is refilled and the value decoded again before it is called an error."""


def unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, refusing a key given twice (``ValueError``); the dict is built in C
    and the pairs looked through only when it came out shorter."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"key {key!r} is given twice")
            seen.add(key)
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=unique_pairs, parse_float=Decimal)


class _JsonReader:
    """A window on a JSON file: ``buf[pos:]`` is what is not consumed yet; ``base`` characters and ``lines``
    newlines came before ``buf``, the last line starting at character ``line_start``."""

    def __init__(self, handle: IO[str], path: Path) -> None:
        self.handle = handle
        self.path = path
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.base = 0
        self.lines = 0
        self.line_start = 0

    def _more(self) -> bool:
        """Drop what is consumed and read more; False at the end of the file."""
        if self.eof:
            return False
        chunk = self.handle.read(max(CHUNK, len(self.buf) - self.pos))
        if not chunk:
            self.eof = True
            return False
        consumed = self.buf[: self.pos]
        if newlines := consumed.count("\n"):
            self.lines += newlines
            self.line_start = self.base + consumed.rindex("\n") + 1
        self.base += self.pos
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def error(self, message: str, pos: int) -> InvalidInput:
        """``message`` at ``pos`` of the buffer, located in the whole file as ``json.loads`` would say it."""
        line = self.lines + self.buf.count("\n", 0, pos) + 1
        last = self.buf.rfind("\n", 0, pos)
        column = pos - last if last >= 0 else self.base + pos - self.line_start + 1
        where = f"line {line} column {column} (char {self.base + pos})"
        return InvalidInput(f"{self.path}: not valid JSON: {message}: {where}")

    def peek(self) -> str:
        """The next character that is not white space (not consumed), or ``""`` at the end of the file."""
        while True:
            match = _WHITESPACE.match(self.buf, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def value(self) -> Any:
        """Decode the value at the window's start, reading on while it may have been cut by the read."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.msg.startswith("Unterminated string") or len(self.buf) - exc.pos <= _TAIL
                if cut and self._more():
                    continue
                raise self.error(exc.msg, exc.pos) from None
            except ValueError as exc:  # a key given twice, a number of too many digits
                raise InvalidInput(f"{self.path}: not valid JSON: {exc}") from None
            if end == len(self.buf) and self._more():
                continue  # a number at the end of the buffer may go on
            self.pos = end
            return value

    def expect(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self.error(message, self.pos)
        self.pos += 1

    def at_end(self) -> None:
        if self.peek():
            raise self.error("Extra data", self.pos)


def json_items(path: Path, handle: IO[str]) -> Iterator[Item]:
    """The items of a JSON load file (see the module's docstring)."""
    reader = _JsonReader(handle, path)
    try:
        if reader.peek() == "\ufeff":
            raise reader.error("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0)
        if reader.peek() != "{":
            document = reader.value()
            reader.at_end()
            yield ("document", document)
            return
        reader.pos += 1
        seen: set[str] = set()
        twice: str | None = None
        if reader.peek() == "}":
            reader.pos += 1
        else:
            while True:
                if reader.peek() != '"':
                    raise reader.error("Expecting property name enclosed in double quotes", reader.pos)
                name = reader.value()
                if name in seen and twice is None:
                    twice = name
                seen.add(name)
                reader.expect(":", "Expecting ':' delimiter")
                yield ("key", name)
                if reader.peek() == "[":
                    reader.pos += 1
                    yield from _json_entries(reader, name)
                else:
                    yield ("value", name, reader.value())
                if reader.peek() == "}":
                    reader.pos += 1
                    break
                reader.expect(",", "Expecting ',' delimiter")
        reader.at_end()
        if twice is not None:
            raise InvalidInput(f"{path}: not valid JSON: key {twice!r} is given twice")
    except RecursionError:
        raise InvalidInput(f"{path}: nested too deeply to be a load file") from None


def _json_entries(reader: _JsonReader, name: str) -> Iterator[Item]:
    if reader.peek() == "]":
        reader.pos += 1
        return
    index = 0
    while True:
        yield ("entry", name, index, reader.value())
        index += 1
        if reader.peek() == "]":
            reader.pos += 1
            return
        reader.expect(",", "Expecting ',' delimiter")


# --- YAML -------------------------------------------------------------------------------------------------


def yaml_items(path: Path, handle: IO[str], loader: type[Any], max_depth: int) -> Iterator[Item]:
    """The items of a YAML load file (see the module's docstring); ``loader`` is the load files' loader
    class, whose resolvers and constructors give each entry's values (:mod:`ms_prcs.load.yaml_values`)."""
    parser: Any = _CParser(handle)
    try:
        try:
            yield from _yaml_document(parser, EventValues(parser, loader, max_depth))
        finally:
            parser.dispose()
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {exc}") from exc
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from exc
    except RecursionError:
        raise InvalidInput(f"{path}: nested too deeply to be a load file") from None


def _plain(event: Any, kind: str) -> bool:
    """A collection without anchor or tag: one the reader may walk itself instead of building it whole."""
    return event.anchor is None and event.tag in (None, "!", getattr(BaseResolver, kind))


def _yaml_document(parser: Any, values: EventValues) -> Iterator[Item]:
    parser.get_event()  # stream start
    if parser.check_event(yaml.StreamEndEvent):
        yield ("document", None)
        return
    document = parser.get_event()
    if parser.check_event(yaml.MappingStartEvent) and _plain(parser.peek_event(), "DEFAULT_MAPPING_TAG"):
        parser.get_event()
        seen: set[Any] = set()
        while not parser.check_event(yaml.MappingEndEvent):
            name = values.build(1)
            if not isinstance(name, Hashable):
                raise ConstructorError(
                    "while constructing a mapping", document.start_mark, "found unhashable key", values.mark
                )
            if name in seen:
                raise ConstructorError(None, None, f"key {name!r} is given twice", values.mark)
            seen.add(name)
            yield ("key", name)
            if parser.check_event(yaml.SequenceStartEvent) and _plain(
                parser.peek_event(), "DEFAULT_SEQUENCE_TAG"
            ):
                parser.get_event()
                index = 0
                while not parser.check_event(yaml.SequenceEndEvent):
                    yield ("entry", name, index, values.build(2))
                    index += 1
                parser.get_event()
            else:
                yield ("value", name, values.build(1))
        parser.get_event()
    else:
        yield ("document", values.build(0))
    parser.get_event()  # document end
    if not parser.check_event(yaml.StreamEndEvent):
        event = parser.get_event()
        raise yaml.composer.ComposerError(
            "expected a single document in the stream",
            document.start_mark,
            "but found another document",
            event.start_mark,
        )
