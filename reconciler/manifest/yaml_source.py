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
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Positions:
    """Line and column (from 1) of each value and each mapping key, by path."""

    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def of_value(self, path: Path) -> tuple[int, int]:
        """Where the value at ``path`` starts, or its nearest recorded ancestor."""
        return _nearest(self.values, path)

    def of_key(self, path: Path) -> tuple[int, int]:
        """Where the key naming ``path`` is written; the value's place otherwise."""
        if path in self.keys:
            return self.keys[path]
        return self.of_value(path)


def _nearest(table: dict[Path, tuple[int, int]], path: Path) -> tuple[int, int]:
    for end in range(len(path), -1, -1):
        found = table.get(path[:end])
        if found is not None:
            return found
    return (1, 1)


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
    positions = Positions()
    problem = _check_text(file, raw)
    if isinstance(problem, list):
        return YamlDocument(file, None, positions, problem)
    builder = _Builder(file, positions)
    try:
        for event in yaml.parse(problem, Loader=_Loader):
            if builder.feed(event):
                break
    except yaml.YAMLError as error:
        builder.diagnostics.append(_yaml_error(file, problem, error))
    value = builder.result if not builder.diagnostics else None
    return YamlDocument(file, value, positions, builder.diagnostics)


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


@dataclass
class _Frame:
    """A mapping or sequence being built, with what is needed to attach its children."""

    path: Path
    value: dict[str, Any] | list[Any]
    anchor: str | None
    size: int = 1
    pending_key: str | None = None
    key_expected: bool = True
    skip_value: bool = False
    merges: list[Any] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


class _Builder:
    """Turns parser events into values; returns True from ``feed`` to stop early."""

    def __init__(self, file: str, positions: Positions) -> None:
        self.file = file
        self.positions = positions
        self.diagnostics: list[Diagnostic] = []
        self.result: Any = None
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.alias_values = 0
        self.documents = 0
        self.constructor = yaml.constructor.SafeConstructor()
        # Dispatch on the event's class: the builder sees ~20 events per export.
        self._handlers: dict[type, Callable[[Any], bool]] = {
            yaml.DocumentStartEvent: self._start_document,
            yaml.ScalarEvent: self._scalar,
            yaml.AliasEvent: self._alias,
            yaml.MappingStartEvent: self._start_collection,
            yaml.SequenceStartEvent: self._start_collection,
            yaml.MappingEndEvent: self._end_collection,
            yaml.SequenceEndEvent: self._end_collection,
            yaml.StreamEndEvent: self._end_stream,
        }

    def feed(self, event: yaml.Event) -> bool:
        handler = self._handlers.get(type(event))
        return handler(event) if handler is not None else False

    def _end_stream(self, event: yaml.Event) -> bool:
        if self.documents == 0:
            message = "the file is empty; a manifest starts with 'version: 1'"
            self.diagnostics.append(Diagnostic(message, SourceLocation(self.file, 1, 1)))
        return False

    def _start_document(self, event: yaml.Event) -> bool:
        self.documents += 1
        if self.documents > 1:
            message = "a second YAML document ('---'); put each manifest in its own file"
            return self._error(event, (), message)
        return False

    def _error(self, event: yaml.Event, path: Path, message: str) -> bool:
        location = SourceLocation(self.file, *_where(event))
        self.diagnostics.append(Diagnostic(message, location, format_path(path)))
        return True

    def _next_path(self) -> Path:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        if top.key_expected:
            return top.path
        return (*top.path, top.pending_key or "")

    def _scalar(self, event: yaml.ScalarEvent) -> bool:
        path = self._next_path()
        if self.stack and self.stack[-1].key_expected and isinstance(self.stack[-1].value, dict):
            return self._key(event, path)
        value = self._scalar_value(event, path)
        if isinstance(value, _Stop):
            return True
        self._remember(event, path)
        return self._attach(event, value, 1)

    def _key(self, event: yaml.ScalarEvent, parent: Path) -> bool:
        frame = self.stack[-1]
        frame.key_expected = False
        if event.implicit[0] and event.value == "<<" and event.tag is None:
            frame.pending_key, frame.skip_value = _MERGE, False
            return False
        key = self._scalar_value(event, parent)
        if isinstance(key, _Stop):
            return True
        if not isinstance(key, str):
            shown = _describe_key(key)
            message = f"keys must be strings, got {shown}; quote it: '{event.value}'"
            self._error(event, parent, message)
            frame.pending_key, frame.skip_value = None, True
            return False
        path = (*parent, key)
        if key in frame.seen:
            line, column = self.positions.keys[path]
            message = (
                f"duplicate key '{key}' (first at line {line}, column {column}); "
                "YAML would silently keep only the last one"
            )
            self._error(event, path, message)
            frame.pending_key, frame.skip_value = key, True
            return False
        self.positions.keys[path] = _where(event)
        frame.seen.add(key)
        frame.pending_key, frame.skip_value = key, False
        return False

    def _scalar_value(self, event: yaml.ScalarEvent, path: Path) -> Any:
        tag = event.tag
        if tag in (None, "!") or tag == _STR:
            if tag is None and event.implicit[0]:
                tag = self._resolve(event.value)
            else:
                return event.value
        if tag in (_STR, _TIMESTAMP):
            return event.value  # Decision: dates stay text; the API speaks JSON.
        if tag not in _SCALAR_TAGS:
            self._error(event, path, _unsupported(tag))
            return _Stop()
        node = yaml.ScalarNode(tag, event.value)
        try:
            return self.constructor.construct_object(node)
        except (ValueError, yaml.YAMLError):
            self._error(event, path, f"{event.value!r} is not a valid {tag.rsplit(':', 1)[-1]}")
            return _Stop()

    def _resolve(self, value: str) -> str:
        resolvers = _Loader.yaml_implicit_resolvers.get(value[:1] if value else "", [])
        for tag, regexp in resolvers:
            if regexp.match(value):
                return str(tag)
        return _STR

    def _alias(self, event: yaml.AliasEvent) -> bool:
        path = self._next_path()
        if self.stack and self.stack[-1].key_expected and isinstance(self.stack[-1].value, dict):
            return self._error(event, path, "an alias cannot be a key")
        found = self.anchors.get(event.anchor or "")
        if found is None:
            message = f"unknown anchor '{event.anchor}' (an alias must follow its complete anchor)"
            return self._error(event, path, message)
        value, size = found
        self.alias_values += size
        if self.alias_values > MAX_ALIAS_VALUES:
            message = (
                f"aliases expand to more than {MAX_ALIAS_VALUES} values; "
                "write the values out or use 'defaults'"
            )
            return self._error(event, path, message)
        self._remember(event, path)
        return self._attach(event, value, size)

    def _start_collection(self, event: yaml.CollectionStartEvent) -> bool:
        path = self._next_path()
        if self.stack and self.stack[-1].key_expected and isinstance(self.stack[-1].value, dict):
            return self._error(event, path, "keys must be strings, not lists or mappings")
        if event.tag not in _PLAIN_COLLECTION_TAGS:
            return self._error(event, path, _unsupported(event.tag))
        if len(self.stack) >= MAX_DEPTH:
            return self._error(event, path, f"nested deeper than {MAX_DEPTH} levels")
        self._remember(event, path)
        container: dict[str, Any] | list[Any] = (
            {} if isinstance(event, yaml.MappingStartEvent) else []
        )
        self.stack.append(_Frame(path, container, event.anchor))
        return False

    def _end_collection(self, event: yaml.Event) -> bool:
        frame = self.stack.pop()
        if frame.merges and isinstance(frame.value, dict):
            self._apply_merges(frame)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (frame.value, frame.size)
        if not self.stack:
            self.result = frame.value
            return False
        top = self.stack[-1]
        return self._store(top, frame.value, frame.size)

    def _apply_merges(self, frame: _Frame) -> None:
        """``<<: *base`` fills in keys the mapping does not set itself."""
        assert isinstance(frame.value, dict)
        sources = [m for merge in frame.merges for m in _as_list(merge)]
        for source in sources:
            if isinstance(source, dict):
                for key, value in source.items():
                    frame.value.setdefault(key, value)

    def _remember(self, event: yaml.Event, path: Path) -> None:
        self.positions.values[path] = _where(event)

    def _attach(self, event: yaml.Event, value: Any, size: int) -> bool:
        if isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        if not self.stack:
            self.result = value
            return False
        return self._store(self.stack[-1], value, size)

    def _store(self, top: _Frame, value: Any, size: int) -> bool:
        top.size += size
        if isinstance(top.value, list):
            top.value.append(value)
            return False
        top.key_expected = True
        if top.skip_value:
            top.skip_value = False
        elif top.pending_key == _MERGE:
            top.merges.append(value)
        elif top.pending_key is not None:
            top.value[top.pending_key] = value
        return False


class _Stop:
    """Marks a scalar that produced a diagnostic; parsing stops there."""


def _unsupported(tag: str | None) -> str:
    shown = str(tag).replace("tag:yaml.org,2002:", "!!")
    return f"unsupported YAML tag {shown}; write plain values"


def _where(event: yaml.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _describe_key(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return f"the boolean {str(key).lower()}"
    return f"the number {key}"
