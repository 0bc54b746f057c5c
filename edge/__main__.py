"""``python -m edge`` runs the ``kakou`` command."""

from edge.app.cli import main

main()
