"""``exportctl --timeout SECONDS``: the whole command ends by then, whatever a server does.

Each request already has its own deadline (``http.api``); this bounds the
command, so a cron job or CI step never hangs on a server that answers just
slowly enough, page after page. A timer thread is used rather than a
deadline inside the event loop because it also covers what runs outside it
(loading a manifest, waiting on a lock) and cannot be held up by a busy loop.

When it fires, the process exits at once with status 1. For plan, drift and
get nothing was changed; an apply stops as if the machine had stopped, which
apply is built to survive: a rerun plans only what is left and never
duplicates what was sent (see ``apply.verify``).
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["start_deadline"]


def start_deadline(seconds: float) -> None:
    """End the process with a clear message once ``seconds`` have passed."""
    timer = threading.Timer(seconds, _expire, args=(seconds,))
    timer.daemon = True  # a command that finishes in time exits as usual
    timer.start()


def _expire(seconds: float) -> None:
    sys.stderr.write(
        f"\nError: exportctl did not finish within {seconds:g} s (--timeout) and stopped. "
        "A plan, drift or get changed nothing; an apply may have sent part of its "
        "changes: run it again to finish them (it plans only what is left).\n"
    )
    sys.stderr.flush()
    os._exit(1)
