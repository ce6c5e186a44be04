"""``--target`` / ``--exclude`` selectors: narrow a plan to some entries.

Accepted forms (``NAME=VALUE``; several selectors may be given):

- ``key=monthly-sales``: entries with that key in every scope;
- ``provider=mammoth``: everything of one provider;
- ``type=s3``: entries of that type (either side of a replace);
- a provider's own scope and type selectors, e.g. Mammoth's
  ``dataview=456``, ``dataview=1/1/123/456``, ``dataview=456/monthly-sales``
  (one export of that dataview, by key) and ``handler=s3``.

A change is kept when it matches at least one target (or no target is given)
and no exclude. Unmanaged resources match by their label (``s3:legacy.csv``).

A selector naming a scope the manifest does not have is an error: a typo in a
cron job's ``--target`` would otherwise report "in sync" forever. So is a
``--target`` by key or type that matches no entry of the plan: keys and types
are checked once the scopes are listed, as a key may exist only live (a
resource to delete). Such a message names the closest key there is, so
``key=monthly-sale`` points at ``monthly-sales``.

An ``--exclude`` by key that matches nothing is refused only when a key of
the plan is one typo away: the exclude was meant for that entry, and the run
would otherwise change exactly what the user held back. One far from every
key is accepted, as a guard may name an entry that is not there (yet).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from reconciler.errors import ConfigError
from reconciler.manifest.schema_check import did_you_mean
from reconciler.model import DesiredState, LiveRun, Scope, common_noun
from reconciler.plan import Change, Plan
from reconciler.providers import factory
from reconciler.providers.base import ProviderFactory

__all__ = ["Selector", "parse_selector", "scope_filter", "select_plan", "select_scopes"]

_GENERIC_FORMS = ("key=KEY", "provider=NAME", "type=TYPE")


@dataclass(frozen=True)
class Selector:
    """One parsed selector; ``None`` fields match anything.

    ``scope`` is set by a provider's scope selector (``dataview=...``); it says
    which scopes it names, ``covers_scope`` whether it names them whole.
    """

    text: str
    key: str | None = None
    provider: str | None = None
    type: str | None = None
    scope: Callable[[Scope], bool] | None = None

    def matches_scope(self, scope: Scope) -> bool:
        """Whether some entry of ``scope`` may match."""
        if self.provider is not None and scope.provider != self.provider:
            return False
        return self.scope is None or self.scope(scope)

    def covers_scope(self, scope: Scope) -> bool:
        """Whether every entry of ``scope`` matches."""
        names_scope = self.scope is not None or self.provider is not None
        whole = names_scope and self.key is None and self.type is None
        return whole and self.matches_scope(scope)

    def matches(self, scope: Scope, change: Change) -> bool:
        if not self.matches_scope(scope):
            return False
        if self.key is not None and change.key != self.key:
            return False
        return self.type is None or self.type in _types(change)


def _types(change: Change) -> set[str]:
    found = {change.type}
    live = change.live
    if live is not None and not isinstance(live, LiveRun):
        found.add(live.type)
    return found


def parse_selector(text: str, providers: Sequence[str]) -> Selector:
    """Parse one selector for a manifest of these ``providers``; ``ConfigError`` lists forms."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    factories = [factory(p) for p in providers]
    if not sep or not value:
        raise _bad(text, "expected NAME=VALUE", factories)
    if name == "key":
        return Selector(text, key=value)
    if name == "provider":
        if value not in providers:
            problem = f"the manifest uses no provider {value!r}{_guess(value, providers)}"
            raise _bad(text, problem, factories)
        return Selector(text, provider=value)
    for owner in factories:
        if name == owner.scope_selector:
            try:
                match = owner.match_scope(value)
            except ValueError as error:
                raise _bad(text, str(error), factories) from None
            return Selector(text, key=match.key, provider=owner.name, scope=match.matches)
    if name == "type" or any(name == owner.type_selector for owner in factories):
        known = {t for owner in factories for t in owner.types}
        if known and value not in known:
            word = "type" if name == "type" else f"{name} type"
            raise _bad(text, f"unknown {word} {value!r}{_guess(value, known)}", factories)
        return Selector(text, type=value)
    names = ["key", "provider", "type"]
    names += [n for owner in factories for n in (owner.scope_selector, owner.type_selector) if n]
    raise _bad(text, f"unknown selector {name!r}{_guess(name, names)}", factories)


def _guess(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` (sorted, so the pick
    does not depend on set order), or ``""`` when none is close."""
    guess = did_you_mean(word, sorted(set(choices)))
    return f"; did you mean {guess!r}?" if guess is not None else ""


def _bad(text: str, problem: str, factories: Sequence[ProviderFactory]) -> ConfigError:
    forms = [*(form for owner in factories for form in owner.selector_forms), *_GENERIC_FORMS]
    end = "" if problem.endswith("?") else "."  # a "did you mean ...?" ends the sentence
    return ConfigError(
        f"invalid selector {text!r}: {problem}{end} Accepted forms: {', '.join(forms)}"
    )


def select_plan(plan: Plan, targets: Sequence[str], excludes: Sequence[str]) -> Plan:
    """The plan with only the changes the selectors keep; empty scopes dropped."""
    providers = list(dict.fromkeys(sp.scope.provider for sp in plan.scopes))
    wanted, unwanted = _parse_all(targets, providers), _parse_all(excludes, providers)
    _require_matches(wanted, plan)
    _refuse_misspelt_excludes(unwanted, plan)
    scopes = []
    for scope_plan in plan.scopes:
        changes = tuple(
            change
            for change in scope_plan.changes
            if _keeps(wanted, unwanted, scope_plan.scope, change)
        )
        if changes:
            scopes.append(replace(scope_plan, changes=changes))
    return replace(plan, scopes=tuple(scopes))


def select_scopes(
    desired: DesiredState, targets: Sequence[str], excludes: Sequence[str]
) -> DesiredState:
    """The scopes a selected plan can involve, so callers list only those."""
    providers = desired.providers()
    wanted, unwanted = _parse_all(targets, providers), _parse_all(excludes, providers)
    _require_known_scopes([*wanted, *unwanted], [spec.scope for spec in desired.scopes])
    kept = tuple(spec for spec in desired.scopes if _keeps_scope(wanted, unwanted, spec.scope))
    return replace(desired, scopes=kept)


def scope_filter(
    targets: Sequence[str], excludes: Sequence[str], providers: Sequence[str]
) -> Callable[[Scope], bool]:
    """Whether ``select_scopes`` would keep a scope of these ``providers``; ``ConfigError``
    when a selector does not parse for them."""
    wanted, unwanted = _parse_all(targets, providers), _parse_all(excludes, providers)
    return lambda scope: _keeps_scope(wanted, unwanted, scope)


def _keeps_scope(wanted: list[Selector], unwanted: list[Selector], scope: Scope) -> bool:
    if wanted and not any(s.matches_scope(scope) for s in wanted):
        return False
    return not any(s.covers_scope(scope) for s in unwanted)


def _require_known_scopes(selectors: Sequence[Selector], scopes: Sequence[Scope]) -> None:
    for selector in selectors:
        if selector.scope is not None and not any(selector.matches_scope(s) for s in scopes):
            named = [s for s in scopes if s.provider == selector.provider] or list(scopes)
            noun = named[0].noun if named else "scope"
            known = ", ".join(str(scope) for scope in named[:5]) or "none"
            more = f" and {len(named) - 5} more" if len(named) > 5 else ""
            raise ConfigError(
                f"{selector.text!r} names a {noun} the manifest does not have "
                f"(its {noun}s: {known}{more}). Check the id."
            )


def _require_matches(targets: Sequence[Selector], plan: Plan) -> None:
    """Refuse a key or type target that no entry, in the manifest or live, has."""
    for target in targets:
        if target.key is None and target.type is None:
            continue  # a scope selector, checked before listing
        if _matches_any(target, plan):
            continue
        what = f"key {target.key!r}" if target.key is not None else f"type {target.type!r}"
        raise _matches_nothing("--target", target, plan, what, _closest(target, plan))


def _refuse_misspelt_excludes(excludes: Sequence[Selector], plan: Plan) -> None:
    """Refuse an exclude by key that matches nothing but is one typo from a key there is."""
    for exclude in excludes:
        if exclude.key is None or _matches_any(exclude, plan):
            continue
        guess = _closest(exclude, plan)
        if guess:
            what = f"key {exclude.key!r}"
            raise _matches_nothing("--exclude", exclude, plan, what, guess)


def _matches_any(selector: Selector, plan: Plan) -> bool:
    return any(selector.matches(scope, change) for scope, change in plan.changes())


def _closest(selector: Selector, plan: Plan) -> str:
    """``"; did you mean 'KEY'?"`` for the key (or type) of the selector's scopes
    closest to the one it names, or ``""``."""
    changes = [c for scope, c in plan.changes() if selector.matches_scope(scope)]
    if selector.key is not None:
        return _guess(selector.key, (c.key for c in changes))
    assert selector.type is not None
    return _guess(selector.type, (t for c in changes for t in _types(c)))


def _matches_nothing(
    option: str, selector: Selector, plan: Plan, what: str, guess: str
) -> ConfigError:
    scopes = [sp.scope for sp in plan.scopes if selector.matches_scope(sp.scope)]
    noun = common_noun(scopes)
    return ConfigError(
        f"{option} {selector.text!r} matches nothing: no {noun} of the selected "
        f"{common_noun(scopes, of_resources=False)}s, in the manifest or live, has "
        f"{what}{guess or '.'} Check the spelling, or leave the {option} out."
    )


def _parse_all(texts: Iterable[str], providers: Sequence[str]) -> list[Selector]:
    return [parse_selector(text, providers) for text in texts]


def _keeps(wanted: list[Selector], unwanted: list[Selector], scope: Scope, change: Change) -> bool:
    if wanted and not any(s.matches(scope, change) for s in wanted):
        return False
    return not any(s.matches(scope, change) for s in unwanted)
