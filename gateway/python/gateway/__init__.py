"""QuantDesk gateway: the only package that talks to venues (ARCHITECTURE.md, invariant 1)."""

from gateway._core import __version__, is_on_increment

__all__ = ["__version__", "is_on_increment"]
