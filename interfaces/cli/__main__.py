"""`python -m interfaces.cli ...` runs the `quantdesk` command."""

from interfaces.cli import main

main()
