"""``python -m reconciler`` runs the ``exportctl`` command line."""

from reconciler.cli.main import run

run()
