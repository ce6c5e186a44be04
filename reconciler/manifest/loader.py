"""From manifest files to a ``DesiredState``, collecting every problem on the way.

For each file, in load order: parse it with positions (``yaml_source``), check
its top level (``version: 1`` and sections some provider owns), then hand each
section to its provider's ``SectionLoader`` (``manifest.sections``), which
checks it and reports every problem with its place. A model is returned only
when no file had any problem; otherwise every diagnostic, sorted by file (in
load order) and position. The loader knows no provider by name: the registry
says who owns which section.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path as FsPath

from reconciler.diagnostics import Diagnostic
from reconciler.errors import ManifestError
from reconciler.manifest.files import ManifestText, Source, find_files
from reconciler.manifest.schema_check import SchemaChecker, check
from reconciler.manifest.sections import LoadContext, ScopesAhead, ScopesInText, SectionLoader
from reconciler.manifest.yaml_source import YamlDocument, parse_yaml
from reconciler.model import DesiredState, Scope, ScopeSpec
from reconciler.providers import section_loader, section_owners

__all__ = [
    "OnScopesAhead",
    "accept_checked",
    "check_manifest",
    "expand_paths",
    "guess_scopes",
    "load_manifest",
]

VERSION_FIELD = "version"

# Told, per document and before its entries are checked, the scope addresses
# its sections name (see ``ScopesAhead``); nothing is known to be valid yet.
OnScopesAhead = Callable[[list[Scope]], None]


def expand_paths(paths: Sequence[str | FsPath | ManifestText]) -> list[Source]:
    """The manifest files ``-f`` names, in load order; ``ManifestError`` if one is missing."""
    files, problems = find_files(paths)
    if problems:
        raise ManifestError(problems)
    return files


def load_manifest(
    paths: Sequence[str | FsPath | ManifestText],
    environ: Mapping[str, str] | None = None,
    on_warning: Callable[[Diagnostic], None] | None = None,
    on_scopes_ahead: OnScopesAhead | None = None,
) -> DesiredState:
    """The desired state the files describe; raises ``ManifestError`` listing every problem.

    A valid manifest's warnings go to ``on_warning`` (the CLI shows them on stderr).
    """
    return accept_checked(check_manifest(paths, environ, on_scopes_ahead), on_warning)


def accept_checked(
    checked: tuple[DesiredState | None, list[Diagnostic]],
    on_warning: Callable[[Diagnostic], None] | None = None,
) -> DesiredState:
    """``check_manifest``'s outcome as ``load_manifest`` gives it: the state, its
    warnings told to ``on_warning``; or ``ManifestError`` listing every problem."""
    state, diagnostics = checked
    if state is None:
        raise ManifestError(diagnostics)
    if on_warning is not None:
        for warning in diagnostics:
            on_warning(warning)
    return state


def guess_scopes(paths: Sequence[str | FsPath | ManifestText]) -> list[Scope]:
    """The scopes the files seem to name, from their raw text (``ScopesInText``).

    Milliseconds for a file that takes most of a second to parse: a caller
    lists these while the load runs. Only providers whose section name starts
    a line of the file are asked. Anything unreadable guesses nothing; the
    load reports it.
    """
    files, problems = find_files(paths)
    if problems:
        return []
    guessed: list[Scope] = []
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError:
            return guessed
        written = _top_level_keys(raw)
        owners = section_owners(written)
        named = [owners[section] for section in owners if section in written]
        for provider in dict.fromkeys(named):
            loader = section_loader(provider)
            if isinstance(loader, ScopesInText):
                guessed += loader.scopes_in_text(raw)
    return list(dict.fromkeys(guessed))


# A key at the start of a line: the top level of a block-style file. Trick
# (speed): the pattern starts with a literal, which the regex engine skips to.
_LINE_KEY = re.compile(rb"\n([A-Za-z_][\w.-]*)[ \t]*:")


def _top_level_keys(raw: bytes) -> frozenset[str]:
    """The sections a file seems to write at its top level (``version`` aside)."""
    keys = {match.decode() for match in _LINE_KEY.findall(b"\n" + raw)}
    return frozenset(keys - {VERSION_FIELD})


def check_manifest(
    paths: Sequence[str | FsPath | ManifestText],
    environ: Mapping[str, str] | None = None,
    on_scopes_ahead: OnScopesAhead | None = None,
) -> tuple[DesiredState | None, list[Diagnostic]]:
    """The desired state (None if anything is wrong) and every diagnostic found.

    Warnings are among the diagnostics but do not stop a state from being
    made. ``environ`` defaults to ``os.environ``; tests pass their own.
    ``on_scopes_ahead`` hears each document's scope addresses as soon as it
    is parsed, for a caller to start listing them while the rest is checked.
    """
    with _without_cyclic_gc():
        return _check_manifest(paths, os.environ if environ is None else environ, on_scopes_ahead)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Trick (speed): loading builds ~20 objects per export and no reference cycles,
    yet each allocation burst triggers collections that re-walk every object
    built so far: a quarter of a large manifest's load time. Plain reference
    counting frees everything as usual; the collector resumes afterwards.

    Resumed plainly, its first collection would walk everything the load made
    (~0.15 s for 10,000 exports) only to find it alive. Freezing and at once
    unfreezing moves those objects to the oldest generation unwalked, where
    the next full collection (if the process lives that long) sees them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _check_manifest(
    paths: Sequence[str | FsPath | ManifestText],
    environ: Mapping[str, str],
    on_scopes_ahead: OnScopesAhead | None,
) -> tuple[DesiredState | None, list[Diagnostic]]:
    files, problems = find_files(paths)
    run = _Run(environ, on_scopes_ahead)
    run.context.diagnostics.extend(problems)
    digest = hashlib.sha256()
    for path in files:
        raw = _read(path, run.context.diagnostics)
        if raw is not None:
            digest.update(raw)
            run.load(parse_yaml(str(path), raw))
    if not files and not problems:
        run.context.diagnostics.append(Diagnostic("no manifest files given"))
    order = [str(p) for p in files]
    diagnostics = _sorted(run.context.diagnostics, order)
    warnings = _sorted(run.context.warnings, order)
    if diagnostics:
        return None, _sorted([*diagnostics, *warnings], order)
    sources = tuple(str(p) for p in files)
    return DesiredState(run.scopes(), sources, digest.hexdigest()), warnings


def _read(path: Source, diagnostics: list[Diagnostic]) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as error:
        diagnostics.append(Diagnostic(f"{path}: cannot read: {error.strerror}"))
        return None


def _sorted(diagnostics: list[Diagnostic], order: list[str]) -> list[Diagnostic]:
    rank = {name: index for index, name in enumerate(order)}

    def key(d: Diagnostic) -> tuple[int, int, int, str, str]:
        loc = d.location
        if loc is None:
            return (-1, 0, 0, d.path, d.message)
        return (rank.get(loc.file, len(rank)), loc.line, loc.column, d.path, d.message)

    return sorted(dict.fromkeys(diagnostics), key=key)


class _Run:
    """The state of one load: the shared context and each provider's section loader."""

    def __init__(self, environ: Mapping[str, str], on_scopes_ahead: OnScopesAhead | None) -> None:
        self.context = LoadContext(environ)
        self.on_scopes_ahead = on_scopes_ahead
        self.loaders: dict[str, SectionLoader] = {}

    def scopes(self) -> tuple[ScopeSpec, ...]:
        return tuple(scope for loader in self.loaders.values() for scope in loader.scopes())

    def load(self, doc: YamlDocument) -> None:
        context = self.context
        context.diagnostics.extend(doc.diagnostics)
        root = doc.value
        if doc.diagnostics or root is None:
            return
        if not isinstance(root, dict):
            got = "a list" if isinstance(root, list) else "a single value"
            wanted = f"'version' and {_main_sections(section_owners())}"
            context.report(doc, (), f"expected a mapping with {wanted} at the top, got {got}")
            return
        owners = section_owners([key for key in root if key != VERSION_FIELD])
        for problem in check(_top_level_checker(tuple(owners)), root):
            context.report(doc, problem.path, problem.message, key=problem.at_key)
        used = [owners[name] for name in root if name in owners]
        if not used and VERSION_FIELD in root:
            context.report(doc, (), f"missing {_main_sections(owners)}; add one")
        loaders = []
        for provider in dict.fromkeys(used):
            if provider not in self.loaders:
                self.loaders[provider] = section_loader(provider)
            loaders.append(self.loaders[provider])
        if self.on_scopes_ahead is not None:
            ahead = [s for x in loaders if isinstance(x, ScopesAhead) for s in x.scopes_ahead(root)]
            if ahead:
                self.on_scopes_ahead(ahead)
        for loader in loaders:
            loader.load(doc, root, context)


def _main_sections(owners: Mapping[str, str]) -> str:
    """``a provider section ('dataviews', 'mailgun', ...)``: each provider's first one."""
    first: dict[str, str] = {}
    for section, provider in owners.items():
        first.setdefault(provider, f"'{section}'")
    return f"a provider section ({', '.join(first.values())})"


@cache
def _top_level_checker(sections: tuple[str, ...]) -> SchemaChecker:
    """``version: 1`` and nothing but the sections some provider owns."""
    schema = {
        "type": "object",
        "required": [VERSION_FIELD],
        "properties": {VERSION_FIELD: {"const": 1}, **{name: {} for name in sections}},
        "additionalProperties": False,
    }
    return SchemaChecker.of(schema)
