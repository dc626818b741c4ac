"""`core.models` loads each name with its module on first use; its three lists of names (the
type checker's imports, `__all__` and the loader's map) must agree."""

from __future__ import annotations

import importlib

import core.models as models


def test_every_exported_name_has_a_home_and_resolves_there():
    assert set(models.__all__) == set(models._HOMES)
    for name, home in models._HOMES.items():
        assert getattr(models, name) is getattr(importlib.import_module(home), name)
