"""``exportctl completion bash|zsh|fish``: print the shell's tab-completion script.

The script is click's own (it calls ``exportctl`` back with
``_EXPORTCTL_COMPLETE`` set), so commands, options and choices complete as
the installed version defines them, with no file to keep in step.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

__all__ = ["completion"]

_PROGRAM = "exportctl"
_VARIABLE = "_EXPORTCTL_COMPLETE"
_SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(_SHELLS), metavar="bash|zsh|fish")
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the tab-completion script for SHELL; load it in your shell's startup file.

    \b
    Examples:
      exportctl completion bash > ~/.local/share/bash-completion/completions/exportctl
      exportctl completion zsh > "${fpath[1]}/_exportctl"    # then: compinit
      exportctl completion fish > ~/.config/fish/completions/exportctl.fish
      eval "$(exportctl completion bash)"                   # this shell only
    """
    root = ctx.find_root().command
    found = get_completion_class(shell)
    assert found is not None  # every choice is one of click's built-in shells
    click.echo(found(root, {}, _PROGRAM, _VARIABLE).source())
