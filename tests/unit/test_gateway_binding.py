"""The compiled Rust gateway, called from Python."""

from __future__ import annotations

import math

import pytest

import gateway


def test_the_extension_is_the_compiled_module():
    assert gateway.__version__ == "0.1.0"
    assert gateway._core.__file__ is not None
    assert gateway._core.__file__.endswith((".so", ".pyd"))


@pytest.mark.parametrize(
    ("value", "increment", "on_grid"),
    [
        (0.3, 0.1, True),
        (101.25, 0.25, True),
        (101.26, 0.25, False),
        (65432.1, 0.1, True),
        (0.015, 0.01, False),
    ],
)
def test_values_are_checked_against_the_grid(value: float, increment: float, on_grid: bool):
    assert gateway.is_on_increment(value, increment) is on_grid


@pytest.mark.parametrize(
    ("value", "increment", "code"),
    [
        (math.nan, 0.1, "VALUE_NOT_FINITE"),
        (math.inf, 0.1, "VALUE_NOT_FINITE"),
        (1.0, 0.0, "INCREMENT_NOT_POSITIVE"),
        (1.0, -1.0, "INCREMENT_NOT_POSITIVE"),
    ],
)
def test_bad_numbers_raise_with_a_reason_code(value: float, increment: float, code: str):
    with pytest.raises(ValueError, match=code):
        gateway.is_on_increment(value, increment)


def test_wrong_types_raise_type_errors():
    with pytest.raises(TypeError):
        gateway.is_on_increment("1.0", 0.1)  # type: ignore[arg-type]
