"""The `quantdesk` command line (Typer + Rich)."""

from interfaces.cli.app import app, main

__all__ = ["app", "main"]
