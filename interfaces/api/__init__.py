"""The desk's HTTP API (FastAPI)."""

from interfaces.api.app import create_app

__all__ = ["create_app"]
