"""``python -m gridhedge``: the ``gridhedge`` command."""

from gridhedge.cli import main

main()
