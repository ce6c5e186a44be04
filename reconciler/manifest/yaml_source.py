"""Read one YAML file into plain values, remembering where every value came from.

PyYAML's loaders lose positions, silently keep the last of two equal keys, and
expand aliases without bound. This module builds plain JSON-like values
directly from the parser's event stream (libyaml's when available: it is fast
and keeps no recursion of its own, so absurd nesting cannot crash it), and
meanwhile records the line and column of every value and every mapping key.

Safety limits, each reported as a diagnostic rather than raised:

- a file may not be larger than ``MAX_FILE_BYTES``;
- tabs may not indent (YAML forbids it; the parser's own message is cryptic);
- aliases may add at most ``MAX_ALIAS_VALUES`` values in total, so a "billion
  laughs" document is refused before anything walks the expanded tree;
- nesting deeper than ``MAX_DEPTH`` is refused, so later recursive walks are safe;
- one document per file; keys must be strings and unique within their mapping.

Values reached through an alias are shared, not copied: callers must treat the
result as read-only (the loader only ever builds new values from it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

import yaml

from reconciler.diagnostics import Diagnostic, SourceLocation
from reconciler.manifest.paths import Path, format_path

__all__ = [
    "MAX_ALIAS_VALUES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "Positions",
    "YamlDocument",
    "parse_yaml",
]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ALIAS_VALUES = 100_000
MAX_DEPTH = 64

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_PLAIN_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}
_LEADING_TAB = re.compile(r"^ *\t", re.MULTILINE)


class Mark(Protocol):
    """A place in the text as the parser reports it (pure-Python or libyaml), from 0."""

    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...


class Positions:
    """Line and column (from 1) of each value and each mapping key.

    Trick (speed): positions are kept as a tree shaped like the document (see
    ``_Place``), holding the parser's marks as they come. No path tuple is
    built per value; a path is only walked when a diagnostic needs a place.
    """

    def __init__(self, root: _Node = None) -> None:
        self._root = root

    def has(self, path: Path) -> bool:
        """Whether the value at ``path`` itself was written (not reached via an alias)."""
        return self._walk(path)[1] == len(path)

    def of_value(self, path: Path) -> tuple[int, int]:
        """Where the value at ``path`` starts, or its nearest recorded ancestor."""
        node, _ = self._walk(path)
        return _line_column(node.mark if isinstance(node, _Place) else node)

    def of_key(self, path: Path) -> tuple[int, int]:
        """Where the key naming ``path`` is written; the value's place otherwise."""
        if path:
            parent, depth = self._walk(path[:-1])
            if depth == len(path) - 1 and isinstance(parent, _Place):
                name = path[-1]
                if isinstance(name, str) and name in parent.keys:
                    return _line_column(parent.keys[name])
        return self.of_value(path)

    def _walk(self, path: Path) -> tuple[_Node, int]:
        """The deepest recorded node along ``path`` and how many parts it matched."""
        node = self._root
        for depth, part in enumerate(path):
            if not isinstance(node, _Place):
                return node, depth  # a scalar, or a value reached through an alias
            try:
                # By key or by index. Limitation: paths never hold negative indexes.
                node = node.children[part]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                return node, depth
        return node, len(path)


class _Place:
    """Where a mapping or list is written, and where its keys and children are.

    A scalar's or alias's place is just its mark (no object per value).
    """

    __slots__ = ("children", "keys", "mark")

    def __init__(self, mark: Mark | None, is_map: bool) -> None:
        self.mark = mark
        self.keys: dict[str, Mark | None] = {}
        self.children: dict[str, _Node] | list[_Node] = {} if is_map else []


# A place: a collection's ``_Place`` or a scalar's mark (the stubs allow a missing mark).
_Node: TypeAlias = "_Place | Mark | None"


@dataclass
class YamlDocument:
    """The values of one file (``None`` when unreadable) and their positions."""

    file: str
    value: Any
    positions: Positions
    diagnostics: list[Diagnostic]

    def at(self, path: Path, *, key: bool = False) -> SourceLocation:
        line, column = self.positions.of_key(path) if key else self.positions.of_value(path)
        return SourceLocation(self.file, line, column)


def parse_yaml(file: str, raw: bytes) -> YamlDocument:
    """Parse one manifest file's bytes; problems come back as diagnostics."""
    problem = _check_text(file, raw)
    if isinstance(problem, list):
        return YamlDocument(file, None, Positions(), problem)
    builder = _Builder(file)
    # Trick (speed): pull events from the parser directly; ``yaml.parse`` wraps
    # each one in a generator step and an extra ``check_event`` call.
    parser = _Loader(problem)
    try:
        builder.run(parser.get_event)
    except yaml.YAMLError as error:
        builder.diagnostics.append(_yaml_error(file, problem, error))
    finally:
        parser.dispose()
    if builder.diagnostics:
        return YamlDocument(file, None, Positions(), builder.diagnostics)
    return YamlDocument(file, builder.result, Positions(builder.place), [])


def _check_text(file: str, raw: bytes) -> str | list[Diagnostic]:
    """The decoded text, or the reasons it cannot be parsed at all."""
    if len(raw) > MAX_FILE_BYTES:
        message = f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; split it"
        return [Diagnostic(message, SourceLocation(file, 1, 1))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _line_col(raw[: error.start].decode("utf-8", "replace"), error.start)
        return [Diagnostic("the file is not valid UTF-8", SourceLocation(file, line, column))]
    tabs = [
        Diagnostic(
            "a tab indents this line; YAML indents with spaces only",
            SourceLocation(file, *_line_col(text, match.end() - 1)),
        )
        for match in _LEADING_TAB.finditer(text)
    ]
    return tabs or text


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _yaml_error(file: str, text: str, error: yaml.YAMLError) -> Diagnostic:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        problem = error.problem or "unreadable YAML"
        where = (mark.line + 1, mark.column + 1)
    else:  # a ReaderError: a character YAML does not allow
        offset = getattr(error, "position", 0)
        code = getattr(error, "character", 0)
        code = code if isinstance(code, int) else ord(code)
        problem = f"character U+{code:04X} is not allowed in YAML"
        where = _line_col(text, offset)
    return Diagnostic(f"invalid YAML: {problem}", SourceLocation(file, *where))


class _Frame:
    """A mapping or list being built, with what is needed to attach its children."""

    __slots__ = (
        "anchor",
        "is_map",
        "key_expected",
        "merges",
        "part",
        "pending_key",
        "place",
        "size",
        "skip_value",
        "value",
    )  # fmt: skip

    def __init__(self, event: yaml.CollectionStartEvent, is_map: bool, part: str | int) -> None:
        self.value: dict[str, Any] | list[Any] = {} if is_map else []
        self.is_map = is_map
        self.place = _Place(event.start_mark, is_map)
        self.anchor: str | None = event.anchor
        self.part = part  # its key or index in the parent: error paths are built from these
        self.size = 1
        self.pending_key: str | None = None
        self.key_expected = is_map  # only a mapping ever waits for a key
        self.skip_value = False
        self.merges: list[Any] = []


class _Builder:
    """Turns parser events into values and places; stops at the first fatal problem."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.result: Any = None
        self.place: _Node = None
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.alias_values = 0
        self.documents = 0
        self.constructor = yaml.constructor.SafeConstructor()
        # Trick (speed): a plain scalar's value depends on its text alone, and
        # manifests repeat the same texts (keys, handler names, booleans)
        # thousands of times; resolve and construct each text once per file.
        self.plain: dict[str, Any] = {}

    def run(self, next_event: Callable[[], Any]) -> None:
        """Consume events until the stream ends or a problem stops the parse.

        Trick (speed): the builder sees ~20 events per export; dispatching on
        the exact class with ``is`` costs less than a table of bound methods.
        """
        while (event := next_event()) is not None:
            kind = type(event)
            if kind is yaml.ScalarEvent:
                stop = self._scalar(event)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                stop = self._start_collection(event, kind is yaml.MappingStartEvent)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stop = self._end_collection()
            elif kind is yaml.AliasEvent:
                stop = self._alias(event)
            elif kind is yaml.DocumentStartEvent:
                stop = self._start_document(event)
            elif kind is yaml.StreamEndEvent:
                self._end_stream()
                stop = False
            else:
                stop = False
            if stop:
                return

    def _end_stream(self) -> None:
        if self.documents == 0:
            message = "the file is empty; a manifest starts with 'version: 1'"
            self.diagnostics.append(Diagnostic(message, SourceLocation(self.file, 1, 1)))

    def _start_document(self, event: yaml.Event) -> bool:
        self.documents += 1
        if self.documents > 1:
            message = "a second YAML document ('---'); put each manifest in its own file"
            return self._error(event, (), message)
        return False

    def _error(self, event: yaml.Event, path: Path, message: str) -> bool:
        location = SourceLocation(self.file, *_line_column(event.start_mark))
        self.diagnostics.append(Diagnostic(message, location, format_path(path)))
        return True

    def _next_path(self) -> Path:
        """The path the next value will have; built only when a diagnostic needs it."""
        if not self.stack:
            return ()
        parts = [frame.part for frame in self.stack[1:]]
        top = self.stack[-1]
        if not top.is_map:
            parts.append(len(top.value))
        elif not top.key_expected:
            parts.append(top.pending_key or "")
        return tuple(parts)

    def _scalar(self, event: yaml.ScalarEvent) -> bool:
        top = self.stack[-1] if self.stack else None
        plain = event.tag is None and event.implicit[0]
        if top is not None and top.key_expected and plain and event.value == "<<":
            top.key_expected, top.pending_key, top.skip_value = False, _MERGE, False
            return False
        value = self.plain.get(event.value, _UNSET) if plain else _UNSET
        if value is _UNSET:
            value = self._scalar_value(event)
            if value is _STOP:
                return True
            if plain:
                self.plain[event.value] = value
        if top is not None and top.key_expected:
            return self._key(event, top, value)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        return self._attach(value, 1, event.start_mark)

    def _key(self, event: yaml.ScalarEvent, top: _Frame, key: Any) -> bool:
        if not isinstance(key, str):
            shown = _describe_key(key)
            message = f"keys must be strings, got {shown}; quote it: '{event.value}'"
            self._error(event, self._next_path(), message)
            top.key_expected, top.pending_key, top.skip_value = False, None, True
            return False
        # The first place of each key doubles as the set of keys already seen.
        first = top.place.keys.get(key)
        if first is not None:
            line, column = _line_column(first)
            message = (
                f"duplicate key '{key}' (first at line {line}, column {column}); "
                "YAML would silently keep only the last one"
            )
            self._error(event, (*self._next_path(), key), message)
            top.key_expected, top.pending_key, top.skip_value = False, key, True
            return False
        top.place.keys[key] = event.start_mark
        top.key_expected, top.pending_key, top.skip_value = False, key, False
        return False

    def _scalar_value(self, event: yaml.ScalarEvent) -> Any:
        """The scalar's value, or ``_STOP`` after reporting why it has none."""
        tag = event.tag
        if tag in (None, "!") or tag == _STR:
            if tag is None and event.implicit[0]:
                tag = self._resolve(event.value)
            else:
                return event.value
        if tag in (_STR, _TIMESTAMP):
            return event.value  # Decision: dates stay text; the API speaks JSON.
        if tag not in _SCALAR_TAGS:
            self._error(event, self._next_path(), _unsupported(tag))
            return _STOP
        node = yaml.ScalarNode(tag, event.value)
        try:
            return self.constructor.construct_object(node)
        except (ValueError, yaml.YAMLError):
            message = f"{event.value!r} is not a valid {tag.rsplit(':', 1)[-1]}"
            self._error(event, self._next_path(), message)
            return _STOP

    def _resolve(self, value: str) -> str:
        resolvers = _Loader.yaml_implicit_resolvers.get(value[:1] if value else "", [])
        for tag, regexp in resolvers:
            if regexp.match(value):
                return str(tag)
        return _STR

    def _alias(self, event: yaml.AliasEvent) -> bool:
        if self.stack and self.stack[-1].key_expected:
            return self._error(event, self._next_path(), "an alias cannot be a key")
        found = self.anchors.get(event.anchor or "")
        if found is None:
            message = f"unknown anchor '{event.anchor}' (an alias must follow its complete anchor)"
            return self._error(event, self._next_path(), message)
        value, size = found
        self.alias_values += size
        if self.alias_values > MAX_ALIAS_VALUES:
            message = (
                f"aliases expand to more than {MAX_ALIAS_VALUES} values; "
                "write the values out or use 'defaults'"
            )
            return self._error(event, self._next_path(), message)
        return self._attach(value, size, event.start_mark)

    def _start_collection(self, event: yaml.CollectionStartEvent, is_map: bool) -> bool:
        stack = self.stack
        top = stack[-1] if stack else None
        if top is not None and top.key_expected:
            return self._error(
                event, self._next_path(), "keys must be strings, not lists or mappings"
            )
        if event.tag not in _PLAIN_COLLECTION_TAGS:
            return self._error(event, self._next_path(), _unsupported(event.tag))
        if len(stack) >= MAX_DEPTH:
            return self._error(event, self._next_path(), f"nested deeper than {MAX_DEPTH} levels")
        if top is None:
            part: str | int = ""  # the root: no frame's path includes it
        elif top.is_map:
            part = top.pending_key or ""
        else:
            part = len(top.value)
        stack.append(_Frame(event, is_map, part))
        return False

    def _end_collection(self) -> bool:
        frame = self.stack.pop()
        if frame.merges:
            _apply_merges(frame)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (frame.value, frame.size)
        return self._attach(frame.value, frame.size, frame.place)

    def _attach(self, value: Any, size: int, place: _Node) -> bool:
        """Put a finished value (and its place) into the collection being built."""
        if not self.stack:
            self.result, self.place = value, place
            return False
        top = self.stack[-1]
        top.size += size
        if not top.is_map:
            top.value.append(value)  # type: ignore[union-attr]
            top.place.children.append(place)  # type: ignore[union-attr]
            return False
        key = top.pending_key
        top.key_expected = True
        if key is not None:
            top.place.children[key] = place  # type: ignore[call-overload]
        if top.skip_value:
            top.skip_value = False
        elif key == _MERGE:
            top.merges.append(value)
        elif key is not None:
            top.value[key] = value  # type: ignore[call-overload]
        return False


def _apply_merges(frame: _Frame) -> None:
    """``<<: *base`` fills in keys the mapping does not set itself."""
    assert isinstance(frame.value, dict)
    sources = [m for merge in frame.merges for m in _as_list(merge)]
    for source in sources:
        if isinstance(source, dict):
            for key, value in source.items():
                frame.value.setdefault(key, value)


# Markers: a scalar that produced a diagnostic (parsing stops there), and a
# text not yet in the plain-scalar cache.
_STOP = object()
_UNSET = object()


def _unsupported(tag: str | None) -> str:
    shown = str(tag).replace("tag:yaml.org,2002:", "!!")
    return f"unsupported YAML tag {shown}; write plain values"


def _line_column(mark: Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _describe_key(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return f"the boolean {str(key).lower()}"
    return f"the number {key}"
