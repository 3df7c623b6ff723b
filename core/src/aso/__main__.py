"""``python -m aso``: the same as the ``aso`` command."""

from aso.cli import main

main()
