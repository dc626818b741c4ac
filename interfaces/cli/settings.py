"""The desk's settings, read when a command runs. pydantic-settings takes about a tenth of a
second to import, which `quantdesk --help` does without; tests that change the environment
clear `core.settings.get_settings`'s cache as before."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings


def get_settings() -> Settings:
    from core.settings import get_settings as cached

    return cached()
