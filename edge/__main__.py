"""``python -m edge`` runs the ``kakou`` command."""

from edge.cli import main

main()
