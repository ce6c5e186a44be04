"""Check the manifest in a child process, on another core, while this one lists.

A large plan is CPU-bound in one interpreter: parsing and checking 10,000
exports (about 1 s) and working on 500 listed answers (about 1.3 s) take
turns on the interpreter lock while a second core sits idle. On Linux the
manifest is therefore checked in a forked child. It tells each file's scope
addresses as soon as the file is parsed, so the listings leave at once
(``cli.ahead``), and sends back the checked desired state, pickled: reading
it costs this process about 0.1 s instead of the whole check.

The child is a copy of this process (``fork``), so it reads the same files,
environment and standard input text with nothing passed along, and it only
computes: no request, no output, no file written; it ends with ``os._exit``.
Whatever goes wrong falls back to checking in a thread here, as before, with
the same result and the same messages:

- no ``fork`` (Windows) or not Linux (macOS system libraries are not
  fork-safe), or other threads running: forking a threaded process can leave
  the child waiting on a lock another thread held (``--timeout``'s timer is
  such a thread, so with it the check stays in this process);
- a child that dies, or whose result does not pickle (a plugin's objects).

Values resolved from ``${env:...}`` cross an anonymous pipe between the two
processes, never the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import io
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any

from reconciler.cli.options import manifest_sources
from reconciler.cli.session import load_desired, show_warning
from reconciler.diagnostics import Diagnostic
from reconciler.manifest.files import ManifestText
from reconciler.manifest.loader import accept_checked, check_manifest, guess_scopes
from reconciler.model import DesiredState, Scope, ScopeSpec
from reconciler.selectors import select_scopes

__all__ = ["load_aside"]

Heard = Callable[[list[Scope]], None]
Checked = tuple[DesiredState | None, list[Diagnostic]]


async def load_aside(
    files: Sequence[str], targets: Sequence[str], excludes: Sequence[str], heard: Heard
) -> DesiredState:
    """``load_desired``, the check done in a child process when that is safe.

    ``heard`` is told the scopes the files' text seems to name
    (``guess_scopes``), then those of each parsed file, as ``load_desired``'s
    ``on_scopes_ahead`` is, from any thread.
    """
    sources = manifest_sources(files)  # standard input is read once, here
    child = _fork_checker(sources) if _can_fork() else None
    try:
        guessed = guess_scopes(sources)  # while the child parses
    except Exception:  # a guess never stops the command: the load reports what is wrong
        guessed = []
    if guessed:
        heard(guessed)
    checked = await _checked_by(child, heard) if child else None
    if checked is None:
        return await asyncio.to_thread(load_desired, sources, targets, excludes, heard)
    return select_scopes(accept_checked(checked, show_warning), targets, excludes)


async def _checked_by(child: tuple[int, int], heard: Heard) -> Checked | None:
    """The child's outcome; on an interrupt the child is ended, not waited for."""
    try:
        return await asyncio.to_thread(_hear_child, *child, heard)
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):  # it may have just ended
            os.kill(child[0], signal.SIGTERM)
        raise


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _fork_checker(sources: list[str | ManifestText]) -> tuple[int, int]:
    """The child's pid and the end of the pipe its messages come through."""
    readable, writable = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(readable)
        _check_and_send(sources, writable)
    os.close(writable)
    return pid, readable


def _check_and_send(sources: list[str | ManifestText], writable: int) -> None:
    code = 1
    try:
        # A Ctrl-C reaches the whole process group, and the parent ends the child
        # with SIGTERM: either way the child just ends.
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with os.fdopen(writable, "wb") as pipe:

            def ahead(scopes: list[Scope]) -> None:
                _send(pipe, ("ahead", scopes))

            checked = check_manifest(sources, on_scopes_ahead=ahead)
            _send(pipe, ("checked", checked))
        code = 0
    finally:
        os._exit(code)  # no atexit handlers, no buffers of the parent flushed twice


def _hear_child(pid: int, readable: int, heard: Heard) -> Checked | None:
    """The child's outcome, ``heard`` told its scopes ahead; ``None`` if it failed."""
    try:
        with os.fdopen(readable, "rb") as pipe:
            while (message := _receive(pipe)) is not None:
                if message[0] == "ahead":
                    heard(message[1])
                else:
                    checked: Checked = message[1]
                    return checked
            return None
    finally:
        os.waitpid(pid, 0)


_FRAME = struct.Struct("!Q")  # the length of the pickle that follows


def _send(pipe: IO[bytes], message: tuple[str, Any]) -> None:
    """One message, whole or not at all (pickled before anything is written)."""
    data = _encode(message)
    pipe.write(_FRAME.pack(len(data)) + data)
    pipe.flush()


def _receive(pipe: IO[bytes]) -> tuple[str, Any] | None:
    """The next message, or ``None`` at the end or on anything unreadable."""
    header = pipe.read(_FRAME.size)
    if len(header) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(header)
    data = pipe.read(size)
    if len(data) < size:
        return None
    try:
        message: tuple[str, Any] = pickle.loads(data)
    except Exception:  # whatever it is, the fallback checks the manifest here
        return None
    return message


def _encode(message: tuple[str, Any]) -> bytes:
    """Pickled, each scope's kind by the name of the module global it is.

    Kinds are a provider's singletons, compared by identity (``scope.kind ==
    TEMPLATES``): a copy would not be the same kind. One that is no module
    global of its class's module cannot be named, and the pickling fails.
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {ScopeSpec: _reduce_scope_spec}
    pickler.dump(message)
    return buffer.getvalue()


def _reduce_scope_spec(spec: ScopeSpec) -> tuple[Any, ...]:
    values = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "kind"}
    return (_scope_spec, (values, _global_name(spec.kind)))


def _global_name(kind: object) -> tuple[str, str] | None:
    if kind is None:
        return None
    module = type(kind).__module__
    for name, value in vars(sys.modules[module]).items():
        if value is kind:
            return module, name
    raise pickle.PicklingError(f"{type(kind).__name__} is not a module global")


def _scope_spec(values: dict[str, Any], kind: tuple[str, str] | None) -> ScopeSpec:
    found = getattr(importlib.import_module(kind[0]), kind[1]) if kind else None
    return ScopeSpec(**values, kind=found)
