"""``python -m reconciler`` runs the ``exportctl`` command line."""

from reconciler.cli.main import cli

cli(prog_name="exportctl")
