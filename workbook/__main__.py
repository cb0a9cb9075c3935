"""``python -m workbook``: the same as the ``workbook`` command."""

from workbook.command.cli import main

main()
