"""The ``exportctl`` group: command discovery, exit codes, last-resort errors.

Commands live one per module and are imported only when run, so ``exportctl
--help`` stays fast and a command's dependencies load only when needed.

Exit codes follow Terraform: 0 success, 1 any error (usage errors included:
click's default of 2 would collide with "changes present"), 2 only from
``plan --detailed-exitcode`` and ``drift``.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from reconciler.cli.deadline import misplaced_timeout, start_deadline

__all__ = ["cli"]

# name -> (module, attribute, one-line help shown by `exportctl --help`)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("reconciler.cli.validate_cmd", "validate", "Check manifests offline."),
    "plan": ("reconciler.cli.plan_cmd", "plan", "Show what apply would change."),
    "apply": ("reconciler.cli.apply_cmd", "apply", "Make the platform match the manifest."),
    "drift": ("reconciler.cli.drift_cmd", "drift", "Report what changed outside exportctl."),
    "get": ("reconciler.cli.get_cmd", "get", "List the live resources, managed or not."),
    "import": ("reconciler.cli.import_cmd", "import_", "Write a manifest from live resources."),
    "schema": ("reconciler.cli.schema_cmd", "schema", "Print the manifest JSON Schema."),
    "show": ("reconciler.cli.show_cmd", "show", "Render a saved plan file."),
    "sandbox": ("reconciler.cli.sandbox_cmd", "sandbox", "Run local sandboxes of the APIs."),
    "completion": (
        "reconciler.cli.completion_cmd",
        "completion",
        "Print the shell completion script (bash, zsh, fish).",
    ),
}


class ExportctlGroup(click.Group):
    """A group that loads commands lazily and never exits 2 on a usage error.

    A subcommand given the group's own ``--timeout`` is told where it goes
    (``deadline.misplaced_timeout``), not offered a lookalike of its options.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in _COMMANDS if _module_exists(_COMMANDS[name][0])]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None or not _module_exists(entry[0]):
            return None
        command: click.Command = getattr(importlib.import_module(entry[0]), entry[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Use the short help from the table so --help imports no command module.
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> None:
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as error:
            given = sys.argv[1:] if args is None else list(args)
            misplaced_timeout(error, given).show()
            sys.exit(1)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except Exception as error:  # last resort: never a traceback unless asked for
            _report_internal_error(error)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _module_exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _report_internal_error(error: Exception) -> None:
    if os.environ.get("EXPORTCTL_DEBUG"):
        traceback.print_exception(error)
    click.echo(
        f"Error: internal error ({type(error).__name__}). This is a bug in exportctl; "
        "rerun with EXPORTCTL_DEBUG=1 for details and report it.",
        err=True,
    )


@click.group(
    cls=ExportctlGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="exportctl", prog_name="exportctl")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    envvar="EXPORTCTL_TIMEOUT",
    metavar="SECONDS",
    help="End the whole command after this long, with exit 1 (env EXPORTCTL_TIMEOUT). "
    "Each request has its own deadline too; this bounds a cron or CI step.",
)
def cli(timeout: float | None) -> None:
    """Manage data exports as code, on every platform a provider speaks to.

    Keep the exports you want in YAML, review `exportctl plan` in a pull
    request, let CI run `exportctl apply`, and catch hand-made changes or
    stale snapshots with `exportctl drift`. Each platform is a section of
    the manifest (Mammoth: dataviews).

    \b
    Try it with no account, against the embedded sandbox:
      exportctl plan --sandbox -f examples/exports.yaml

    \b
    Against the real APIs, each provider reads its own variables, e.g.
    MAMMOTH_API_KEY and MAMMOTH_API_SECRET (see docs/providers/).
    """
    if timeout is not None:
        start_deadline(timeout)


def run() -> None:
    """The ``exportctl`` program: ``cli``, then an exit that frees no object one by one.

    Trick (speed): a normal exit frees every object the command made, about
    0.17 s after a 10,000-export plan, for a process about to vanish. So the
    program flushes its output, runs the ``atexit`` handlers (temporary
    files, worker threads) and ends with ``os._exit``, as mypy does. Tests
    calling ``cli`` directly (click's runner) exit as usual. A reader that
    closed the pipe early (``exportctl plan | head``) ends it with status 1
    and no complaint about the unflushed rest. SIGTERM stops it as Ctrl-C does.
    """
    signal.signal(signal.SIGTERM, _terminated)
    try:
        cli(prog_name="exportctl")
        status = 0
    except SystemExit as exit_:
        status = _exit_status(exit_.code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        status = status or 1
    atexit._run_exitfuncs()
    os._exit(status)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM, how a CI runner or a scheduler cancels a job, ends a command as Ctrl-C
    does (plan and drift: "nothing was changed", and ``--format json`` still gets its
    document; apply installs its own graceful stop while it writes), not at once with
    nothing said."""
    raise KeyboardInterrupt


def _exit_status(code: object) -> int:
    """What ``sys.exit(code)`` would end the process with."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
