"""The `quantdesk` command line (Typer + Rich)."""

from interfaces.cli.startup import collector_paused

with collector_paused():  # the CLI's imports (interfaces/cli/startup.py)
    from interfaces.cli.app import app, main

__all__ = ["app", "main"]
