"""What one guess at a secret costs someone who can read a resource's marker.

Run by hand::

    .venv/bin/python bench/bench_marker_guess.py

A marker holds a digest of the resource's secrets with a salt, so that a
rotated secret shows in a plan although the API masks it (``identity``). The
figures say how fast an attacker with only the marker could test guesses, in
Python on this machine, for each way the digest has been made, and how long
planning 10,000 exports with secrets spends on digests:

- ``v1 sha256``: the old plain digest (a 4-character password in seconds);
- ``v2 s``: PBKDF2 at ``STRETCH_ITERATIONS``, when no key is set (each guess
  is a new text, so none is remembered); the 10,000-export figure is the
  worst case, every export with a secret of its own: a secret shared by
  many exports is stretched once per plan;
- ``v2 k``: keyed with ``EXPORTCTL_MARKER_KEY``: without the key no guess
  can be tested at all; the figure is the planner's own cost per export.
"""

from __future__ import annotations

import os
import string
import time
from collections.abc import Callable

from reconciler.identity import (
    MARKER_KEY_ENV,
    STRETCH_ITERATIONS,
    marker_for,
    parse_marker,
    secrets_unchanged,
)
from reconciler.normalize import Normalized, canonical_json, digest

SALT = "00ff00ff00ff00ff"
SPACE = len(string.printable.strip()) ** 4  # 4 printable characters


def _normalized(password: str) -> Normalized:
    return Normalized({"password": "(sensitive)"}, (("password", password),))


def _per_second(check: Callable[[Normalized], object], count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        check(_normalized(f"guess{i}"))
    return count / (time.perf_counter() - start)


def main() -> None:
    legacy = digest(SALT + canonical_json((("password", "abcd"),)))
    v1 = _per_second(lambda n: digest(SALT + canonical_json(n.secrets)) == legacy, 20_000)
    os.environ.pop(MARKER_KEY_ENV, None)
    stretched = parse_marker(marker_for("k", False, _normalized("abcd"), SALT))
    assert stretched is not None
    v2s = _per_second(lambda n: secrets_unchanged(n, stretched), 300)
    os.environ[MARKER_KEY_ENV] = "bench-key"
    keyed = parse_marker(marker_for("k", False, _normalized("abcd"), SALT))
    assert keyed is not None
    v2k = _per_second(lambda n: secrets_unchanged(n, keyed), 20_000)
    print(f"PBKDF2 iterations without a key: {STRETCH_ITERATIONS}")
    print(f"{'scheme':<14}{'guesses/s':>12}{'4-char space':>16}{'10k exports':>14}")
    for name, rate in (("v1 sha256", v1), ("v2 s (no key)", v2s), ("v2 k (key)", v2k)):
        space = "no key: none" if name.startswith("v2 k") else f"{SPACE / rate / 3600:.1f} h"
        print(f"{name:<14}{rate:>12,.0f}{space:>16}{10_000 / rate:>12.2f} s")


if __name__ == "__main__":
    main()
