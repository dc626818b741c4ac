"""Exposure: what the positions are worth, summed (gross: every value counts; net: longs
less shorts), and the book's annualised dollar volatility."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def gross_exposure(values: Iterable[float]) -> float:
    return float(sum(abs(v) for v in values))


def net_exposure(values: Iterable[float]) -> float:
    return float(sum(values))


def dollar_volatility(values: Mapping[str, float], volatility: Mapping[str, float]) -> float:
    """Each instrument's value times its realised volatility, summed: as if every instrument
    moved together (the cautious bound); an instrument with no volatility yet counts 0."""
    return float(sum(abs(v) * volatility.get(inst, 0.0) for inst, v in values.items()))
