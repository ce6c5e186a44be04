"""What the manifest loader offers each provider's section, and what it asks back.

A manifest is ``version: 1`` plus top-level sections, each owned by one
provider (``dataviews:`` is Mammoth's, ``mailgun:`` Mailgun's, ...). The core
loader reads the files and checks the top level; every section is handed to
its provider's ``SectionLoader``, which checks it against its own schema and
rules, reports problems through the ``LoadContext`` (with the exact place in
the file) and, when the whole manifest is valid, returns its scopes. So a
provider adds a section without touching the loader.

The helpers here are what every section needs the same way: where a field of
an entry came from (``Entry.locate``), ``${env:...}`` resolution with each
problem reported where it was written (``LoadContext.resolve_env``), and
``defaults`` merged under an entry (``merge_defaults``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from reconciler.diagnostics import Diagnostic, Severity, SourceLocation
from reconciler.manifest import envsubst
from reconciler.manifest.paths import Path, format_path
from reconciler.manifest.yaml_source import YamlDocument
from reconciler.model import Scope, ScopeSpec

__all__ = [
    "Entry",
    "LoadContext",
    "ScopesAhead",
    "ScopesInText",
    "SectionLoader",
    "merge_defaults",
]

_DEFAULTS: Path = ("defaults",)


@dataclass
class Entry:
    """One entry of a section in one document: where it is, and where its defaults are."""

    doc: YamlDocument
    base: Path
    value: dict[str, Any]
    defaults_base: Path = _DEFAULTS

    def locate(self, relative: Path, *, key: bool = False) -> tuple[SourceLocation, str]:
        """The place a field of the merged entry came from: its own text or ``defaults``."""
        for base in (self.base, self.defaults_base):
            path = (*base, *relative)
            if self.doc.positions.has(path):
                return self.doc.at(path, key=key), format_path(path)
        path = (*self.base, *relative)
        return self.doc.at(path, key=key), format_path(path)

    @property
    def location(self) -> SourceLocation:
        return self.doc.at(self.base)


class LoadContext:
    """One load's shared state: the environment, every problem and warning found so far.

    A problem fails the load; a warning (something the server will accept but
    not do as written) is shown and lets the load go on.
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.diagnostics: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []

    @property
    def has_problems(self) -> bool:
        return bool(self.diagnostics)

    def warn(self, doc: YamlDocument, path: Path, message: str) -> None:
        """A warning at the key ``path`` ends in: valid, but not what it seems to ask for."""
        where = doc.at(path, key=True)
        self.warnings.append(Diagnostic(message, where, format_path(path), Severity.WARNING))

    def report(self, doc: YamlDocument, path: Path, message: str, *, key: bool = False) -> None:
        """A problem at ``path`` of ``doc`` (at the key rather than the value, if ``key``)."""
        self.diagnostics.append(Diagnostic(message, doc.at(path, key=key), format_path(path)))

    def report_at(self, entry: Entry, relative: Path, message: str, key: bool = False) -> None:
        """A problem at a field of an entry, where that field was written."""
        location, path = entry.locate(relative, key=key)
        self.diagnostics.append(Diagnostic(message, location, path))

    def resolve_env(self, entry: Entry) -> tuple[dict[str, Any], dict[str, str]]:
        """The entry with ``${env:...}`` resolved, and the templates by dotted path.

        Every problem (an unset variable, a malformed reference) is reported
        where it was written; the unresolved text is kept in its place.

        Trick (speed): most entries hold no reference at all, and the C repr of
        a plain YAML value (dicts, lists, strings, numbers) shows every string
        as written, so one substring test there skips the walk below: 1.6 us
        instead of ~15 us an entry.
        """
        if envsubst.REFERENCE_START not in repr(entry.value):
            return entry.value, {}
        env_refs: dict[str, str] = {}

        def text(value: str, relative: Path) -> str:
            result = envsubst.resolve(value, self.environ)
            if isinstance(result, list):
                for problem in result:
                    self.report_at(entry, relative, problem.message)
                return value
            if envsubst.names_variable(value):
                env_refs[".".join(map(str, relative))] = value
            return result

        def walk(value: Any, relative: Path) -> Any:
            """``value`` with references resolved.

            Trick (speed): most values hold no reference, so nothing is copied
            and no child's path is built unless a string needs resolving; a
            container comes back as it is when none of its parts changed.
            """
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            changed: dict[Any, Any] = {}
            for key, item in pairs:
                if isinstance(item, str):
                    new = text(item, (*relative, key)) if envsubst.has_reference(item) else item
                elif isinstance(item, dict | list):
                    new = walk(item, (*relative, key))
                else:
                    continue
                if new is not item:
                    changed[key] = new
            if not changed:
                return value
            if isinstance(value, dict):
                return {**value, **changed}
            return [changed.get(index, item) for index, item in enumerate(value)]

        resolved: dict[str, Any] = walk(entry.value, ())
        return resolved, env_refs


class SectionLoader(Protocol):
    """A provider's reader of its manifest sections (its factory's ``sections``),
    for one load of all the files."""

    def load(self, doc: YamlDocument, root: Mapping[str, Any], context: LoadContext) -> None:
        """Check this document's sections, report problems, gather what they ask for."""
        ...

    def scopes(self) -> tuple[ScopeSpec, ...]:
        """What every document asked for, in order; called only when nothing was reported."""
        ...


@runtime_checkable
class ScopesAhead(Protocol):
    """A ``SectionLoader`` that can name its scopes before it checks their entries.

    Checking thousands of entries takes far longer than reading a few
    addresses, so ``plan`` starts listing these scopes while the check runs
    (``reconciler.cli.ahead``). Offer it only when listing a scope needs
    nothing but its address: the listing is made before the entries are known.
    """

    def scopes_ahead(self, root: Mapping[str, Any]) -> list[Scope]:
        """The well-formed scope addresses of one document's sections, unchecked otherwise."""
        ...


@runtime_checkable
class ScopesInText(Protocol):
    """A ``SectionLoader`` that can guess its scopes from a file's raw text, unparsed.

    Parsing a large file takes a good part of a second; a regular expression
    over its bytes takes milliseconds, so ``plan`` lists these scopes while the
    file is still being parsed, as a browser's preload scanner fetches what a
    page names before the page is parsed. A guess may be wrong both ways: a
    scope guessed wrongly is listed for nothing (read-only, then unused), and
    one missed is listed once ``ScopesAhead`` or the load names it.
    """

    def scopes_in_text(self, raw: bytes) -> list[Scope]:
        """The scope addresses the text seems to name, in the order written."""
        ...


def merge_defaults(defaults: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` under ``entry``: mappings merge key by key, anything else is replaced."""
    merged = dict(defaults)
    for name, value in entry.items():
        base = merged.get(name)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[name] = merge_defaults(base, value)
        else:
            merged[name] = value
    return merged
