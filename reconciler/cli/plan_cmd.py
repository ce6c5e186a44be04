"""``exportctl plan``: show what apply would change, and optionally save it.

A thin command: the shared session flow makes the plan, a renderer shows it
on stdout, ``--out`` saves it for ``exportctl apply FILE``. Exit 0; with
``--detailed-exitcode`` 0 no changes, 2 changes (Terraform's convention); 1 on
any error.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

import click

from reconciler.cli.options import STDIN, format_option, planning_options
from reconciler.cli.session import JsonErrorCommand, Planned, json_on_error, load_and_plan
from reconciler.errors import ApplyRefusedError, ConfigError
from reconciler.plan import Plan
from reconciler.plan_json import PlanJson, plan_error_to_json, plan_to_json
from reconciler.render.formats import render_plan
from reconciler.render.style import should_color

__all__ = ["plan"]

CHANGES_PRESENT = 2


def _error_document(message: str) -> str:
    return render_plan(plan_error_to_json(message), "json", color=False)


@click.command("plan", cls=JsonErrorCommand, error_document=_error_document)
@planning_options(
    format_option("text", "json", "markdown"),
    click.option(
        "--out",
        "out_path",
        type=click.Path(dir_okay=False, writable=True),
        metavar="FILE",
        help="Also save the plan to FILE for 'exportctl apply FILE'. The file holds "
        "one salted hash of the secrets, never their values.",
    ),
    click.option(
        "--preflight",
        is_flag=True,
        help="Also send every add and edit to the API as a dry run (validate_only), as "
        "apply does first, and show what the server would refuse; exit 1 if it refuses "
        "any. Changes nothing.",
    ),
    click.option(
        "--detailed-exitcode",
        is_flag=True,
        help="Exit 0 when there are no changes, 2 when there are (1 is always an error).",
    ),
)
def plan(
    files: tuple[str, ...],
    output_format: str,
    out_path: str | None,
    preflight: bool,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
    endpoint: str | None,
    sandbox_db: str | None,
    parallelism: int,
    color: bool | None,
) -> int:
    """Show what apply would change on the platform, without changing anything.

    \b
    Examples:
      exportctl plan --sandbox -f examples/exports.yaml     # try it, no account needed
      exportctl plan -f exports/ --out exportctl.plan       # save it for apply
      exportctl plan -f exports/ --format markdown > plan.md   # a PR comment
      exportctl plan -f exports/ --target dataview=456 --detailed-exitcode
      exportctl plan -f exports/ --preflight    # would the server accept every change?

    \b
    Symbols: + add, ~ edit, -/+ replace, - delete, <= adopt (write the marker).

    With -f - the manifest is read from standard input (not with --out: apply
    re-reads a saved plan's manifest files).

    \b
    Exit codes: 0 done; with --detailed-exitcode 0 no changes, 2 changes; 1 error,
    a change apply will refuse (protect), or one --preflight found the server
    would refuse.
    """
    if out_path is not None and STDIN in files:
        raise ConfigError(
            "--out cannot save a plan of a manifest read from standard input (-f -): "
            "'exportctl apply FILE' re-reads the manifest the plan was made from. Write the "
            "manifest to a file and pass -f FILE."
        )
    # A script reading stdout gets a document either way; stderr has the message.
    with json_on_error(output_format, _error_document):
        planned = load_and_plan(
            files,
            targets=targets,
            excludes=excludes,
            endpoint=endpoint,
            sandbox_db=sandbox_db,
            parallelism=parallelism,
            preflight=preflight,
        )
    made = planned.plan
    plan_json = plan_to_json(made)
    refused = None
    if planned.preflight is not None:
        # Trick (speed): the dry-run and plan-file machinery is imported only
        # when asked for; a plain plan does not wait for it before listing.
        from reconciler.cli.plan_preflight import refusal, with_verdict

        plan_json = with_verdict(plan_json, planned.preflight)
        refused = refusal(planned.preflight)
    refused = refused or _refused(made)
    if refused is not None:
        # Shown for the review, with the reason a script sees in ``error``; not
        # saved: apply would stop at it.
        _show({**plan_json, "error": refused.message}, output_format, color)
        raise refused
    _show(plan_json, output_format, color)
    if out_path is not None:
        _save(out_path, planned, files, sandbox_db)
    return CHANGES_PRESENT if detailed_exitcode and made.has_changes else 0


def _refused(made: Plan) -> ApplyRefusedError | None:
    """The error a plan with changes apply will refuse (``protect``) exits 1 with.

    As Terraform's plan fails on ``prevent_destroy``: a pull request's check
    must not pass a plan whose apply on merge would stop.
    """
    count = sum(1 for _, change in made.changes() if change.refused is not None)
    if not count:
        return None
    changes = "1 change" if count == 1 else f"{count} changes"
    return ApplyRefusedError(
        f'Apply would refuse {changes} marked "! refused" in the plan: do what each '
        "one's note says first, then plan again."
    )


def _show(plan_json: PlanJson, output_format: str, color: bool | None) -> None:
    sys.stdout.write(render_plan(plan_json, output_format, color=should_color(sys.stdout, color)))


def _save(path: str, planned: Planned, files: Sequence[str], sandbox_db: str | None) -> None:
    """Write the plan with a hash of its secrets only and the endpoints it was made
    against, and tell the user how to apply it (a sandbox plan's hint names the
    sandbox: without it, the suggested command asks for credentials).
    """
    from reconciler.apply.saved import current_secrets
    from reconciler.planfile import save_plan

    secrets = current_secrets(planned.desired)
    save_plan(path, planned.plan, secrets=secrets, sources=files, endpoints=planned.endpoints)
    command = ["exportctl", "apply", path]
    if sandbox_db is not None:
        command += ["--sandbox", sandbox_db]
    click.echo(
        f"Saved the plan to {path}. Apply exactly this plan with: {shlex.join(command)}",
        err=True,
    )
