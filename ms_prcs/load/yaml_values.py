"""Python values built straight from libyaml's events, with the rules of the load files' YAML loader.

PyYAML composes a graph of nodes and then constructs it, in Python, at several microseconds an event; a
50 MB load file has 8 million events. :class:`EventValues` builds each unit (an entry of a section, a
key, a section's value) as dicts, lists and scalars while it reads the events, and gives what
``yaml.load(text, Loader=loader)`` gives:

- an untagged plain scalar is resolved by the loader's implicit resolvers and built by its constructors
  (null, bool, int, float and str for the load files' loader, which leaves dates as text); what resolves
  to anything but text is remembered by its text, as keys and small values repeat in every entry;
- a key given twice in one mapping is refused with the loader's message and mark, a key that is a list or
  a mapping as the constructor refuses it, and nesting is counted (``max_depth``) before it is built;
- anchors and aliases hold for the whole document, across units: an anchored scalar is kept as its value
  and as its node.

What is rare in a load file is left to PyYAML's composer and the loader's constructor, so that its result
is theirs exactly: a collection with an anchor (it may hold an alias to itself), or tagged with anything
but ``!!map``/``!!seq`` (``!!set``, ``!!omap``, a tag of no constructor). The composer is handed the
collection's start event and reads the rest of it from the parser; its value goes where the collection
is. Either way one unit is read at a time, holding only that unit and what the document anchors.

Where a unit has more than one problem, the first one met in document order is reported (PyYAML, which
composes a whole document before constructing it, may report another one of them).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import Node, ScalarNode
from yaml.resolver import BaseResolver, Resolver

from contracts.errors import InvalidInput

_SCALAR = yaml.ScalarEvent
_MAPPING_START = yaml.MappingStartEvent
_SEQUENCE_START = yaml.SequenceStartEvent
_ALIAS = yaml.AliasEvent
_STR = BaseResolver.DEFAULT_SCALAR_TAG
_PLAIN_TAGS = {
    _MAPPING_START: (None, "!", BaseResolver.DEFAULT_MAPPING_TAG),
    _SEQUENCE_START: (None, "!", BaseResolver.DEFAULT_SEQUENCE_TAG),
}
_MISSING: Any = object()
_KEPT = (str, int, bool, float, type(None))
"""What a plain scalar's text may be remembered as (values, not objects anyone could change)."""
CACHE_SIZE = 20_000
"""Distinct plain scalars remembered (keys, numbers, dates, ``true``): the memory stays bounded."""


def too_deep(max_depth: int, event: Any) -> InvalidInput:
    mark = getattr(event, "start_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    return InvalidInput(f"nested deeper than {max_depth} levels{where}")


class _NodePath(Composer, SafeConstructor, Resolver):
    """PyYAML's composer and the loader's constructor on the parser's events (the first one handed back
    by the fast path, which read it); nesting is counted where collections are composed."""

    max_depth = 32

    def __init__(self, parser: Any, anchors: dict[str, Node]) -> None:
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.parser = parser
        self.anchors = anchors
        self.pending: deque[Any] = deque()
        self.depth = 0

    def get_event(self) -> Any:
        return self.pending.popleft() if self.pending else self.parser.get_event()

    def peek_event(self) -> Any:
        return self.pending[0] if self.pending else self.parser.peek_event()

    def check_event(self, *choices: type) -> bool:
        event = self.peek_event()
        return event is not None and (not choices or isinstance(event, choices))

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise too_deep(self.max_depth, self.peek_event())

    def compose_sequence_node(self, anchor: Any) -> Any:
        self._deeper()
        node = super().compose_sequence_node(anchor)
        self.depth -= 1
        return node

    def compose_mapping_node(self, anchor: Any) -> Any:
        self._deeper()
        node = super().compose_mapping_node(anchor)
        self.depth -= 1
        return node

    def construct(self, node: Node) -> Any:
        """The node's value; a constructor's own error (``!!int abc``, ``0b_``) is refused at the node."""
        try:
            return self.construct_document(node)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise ConstructorError(
                None, None, f"cannot read this as {node.tag} ({exc})", node.start_mark
            ) from None


class EventValues:
    """The values of a YAML document's units, read from ``parser`` (libyaml's ``CParser``) one unit at a
    time with ``loader``'s resolvers and constructors (see the module's docstring)."""

    def __init__(self, parser: Any, loader: type[Any], max_depth: int) -> None:
        self.parser = parser
        self.max_depth = max_depth
        self.resolvers: dict[Any, list[tuple[str, Any]]] = loader.yaml_implicit_resolvers
        self.wildcard = self.resolvers.get(None, [])
        self.nodes: dict[str, Node] = {}
        """Every anchor of the document so far, as PyYAML's composer keeps them (shared with it)."""
        self.values: dict[str, Any] = {}
        """The anchors' values, built when an alias first needs one."""
        node_path = type(
            "LoadFileNodePath",
            (_NodePath,),
            {
                "max_depth": max_depth,
                "yaml_constructors": loader.yaml_constructors,
                "yaml_multi_constructors": loader.yaml_multi_constructors,
                "yaml_implicit_resolvers": loader.yaml_implicit_resolvers,
                "yaml_path_resolvers": loader.yaml_path_resolvers,
            },
        )
        self.node_path: Any = node_path(parser, self.nodes)
        self.cache: dict[str, Any] = {}
        self.mark: Any = None
        """Where the last unit built starts (for an alias: where its anchor's node starts)."""

    # --- scalars ---------------------------------------------------------------------------------------

    def _construct(self, tag: str, event: Any) -> Any:
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        return self.node_path.construct(node)

    def _plain(self, event: Any) -> Any:
        """An untagged plain scalar: resolved and constructed as the loader does, and remembered by its
        text (keys are, from the first entry on)."""
        text = event.value
        resolvers = self.resolvers.get(text[0] if text else "")
        if not resolvers and not self.wildcard:
            value = text
        else:
            tag = self._implicit_tag(text, [*(resolvers or ()), *self.wildcard])
            value = text if tag == _STR else self._construct(tag, event)
        if type(value) in _KEPT and value == value and len(self.cache) < CACHE_SIZE:  # not NaN
            self.cache[text] = value
        return value

    @staticmethod
    def _implicit_tag(text: str, resolvers: list[tuple[str, Any]]) -> str:
        for tag, regexp in resolvers:
            if regexp.match(text):
                return tag
        return _STR

    def _scalar(self, event: Any) -> Any:
        """A tagged scalar (``!`` is no tag: a plain scalar is resolved all the same)."""
        tag = event.tag
        if tag == "!" and event.implicit[0]:
            return self._plain(event)
        if tag == "!" or tag == _STR:
            return event.value
        return self._construct(tag, event)

    def _anchor(self, event: Any, value: Any) -> None:
        """Keep an anchored scalar as its value and, for the composer, as its node."""
        anchor = event.anchor
        if anchor in self.nodes:
            raise ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                self.nodes[anchor].start_mark,
                "second occurrence",
                event.start_mark,
            )
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.node_path.resolve(ScalarNode, event.value, event.implicit)
        self.nodes[anchor] = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        self.values[anchor] = value

    def _alias(self, event: Any) -> tuple[Any, Node]:
        """An alias's value, and the node of its anchor (where a key given twice is shown)."""
        anchor = event.anchor
        node = self.nodes.get(anchor)
        if node is None:
            raise ComposerError(None, None, f"found undefined alias {anchor!r}", event.start_mark)
        value = self.values.get(anchor, _MISSING)
        if value is _MISSING:
            value = self.values[anchor] = self.node_path.construct(node)
        return value, node

    # --- units -----------------------------------------------------------------------------------------

    def build(self, depth: int) -> Any:
        """The value of the node that starts at the parser's next event, inside ``depth`` collections;
        :attr:`mark` is then where it starts."""
        get = self.parser.get_event
        cache_get = self.cache.get
        max_depth = self.max_depth
        stack: list[tuple[Any, Any, Any]] = []
        container: Any = None  # the innermost open collection: a dict or a list
        start: Any = None  # its start event
        key: Any = _MISSING  # the mapping's key waiting for its value
        while True:
            event = get()
            kind = event.__class__
            if kind is _SCALAR:
                if event.tag is None:
                    if event.implicit[0]:
                        value = cache_get(event.value, _MISSING)
                        if value is _MISSING:
                            value = self._plain(event)
                    else:
                        value = event.value
                else:
                    value = self._scalar(event)
                if event.anchor is not None:
                    self._anchor(event, value)
                at = event
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                if event.anchor is not None or event.tag not in _PLAIN_TAGS[kind]:
                    value, at = self._node(event, depth)
                else:
                    depth += 1
                    if depth > max_depth:
                        raise too_deep(max_depth, event)
                    stack.append((container, start, key))
                    container = {} if kind is _MAPPING_START else []
                    start = event
                    key = _MISSING
                    continue
            elif kind is _ALIAS:
                value, at = self._alias(event)
            else:  # the end of the innermost collection (the parser checks that it is)
                value = container
                at = start
                depth -= 1
                container, start, key = stack.pop()
            if container is None:
                self.mark = at.start_mark
                return value
            if container.__class__ is list:
                container.append(value)
            elif key is _MISSING:
                try:
                    twice = value in container
                except TypeError:
                    raise ConstructorError(
                        "while constructing a mapping",
                        start.start_mark,
                        "found unhashable key",
                        at.start_mark,
                    ) from None
                if twice:
                    raise ConstructorError(None, None, f"key {value!r} is given twice", at.start_mark)
                key = value
            else:
                container[key] = value
                key = _MISSING

    def _node(self, event: Any, depth: int) -> tuple[Any, Node]:
        """A collection with an anchor or a tag of its own (``event`` starts it, inside ``depth``
        collections): composed and constructed by PyYAML, its anchors kept for the rest of the document."""
        node_path = self.node_path
        node_path.pending.append(event)
        node_path.depth = depth
        node = node_path.compose_node(None, None)
        return node_path.construct(node), node
