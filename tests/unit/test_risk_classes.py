"""Risk classes: the limits' `[[strategies]]` entries list the strategy kinds that trade under
them; a kind is in one class at most (pydantic and Rust both check), and a kind no class lists
is refused, never guessed."""

from __future__ import annotations

import json

import pytest

from gateway import LimitsError, load_limits, parse_limits
from gateway._core import validate_config
from tests.gateway_fixtures import limits_dict
from tools.lifecycle import NoRiskClassError, risk_class

CLASSES = [
    {"id": "momentum", "max_position_notional": 300_000.0, "kinds": ["ts_momentum", "donchian"]},
    {"id": "mean_reversion", "max_position_notional": 100_000.0, "kinds": ["mean_reversion"]},
    {"id": "manual", "max_position_notional": 100_000.0},
]


def test_kinds_map_to_their_class_and_files_without_kinds_still_load():
    limits = parse_limits(limits_dict(strategies=CLASSES))
    assert limits.risk_class_of("donchian") == "momentum"
    assert limits.risk_class_of("mean_reversion") == "mean_reversion"
    assert limits.risk_class_of("sma_cross") is None
    assert parse_limits(limits_dict()).strategies[0].kinds == ()


def test_the_default_limits_give_every_researched_kind_a_class():
    from agents.research import GRIDS

    limits = load_limits()
    assert {kind: limits.risk_class_of(kind) for kind in GRIDS} == {
        "ts_momentum": "momentum",
        "sma_cross": "momentum",
        "donchian": "momentum",
        "mean_reversion": "mean_reversion",
    }
    assert limits.risk_class_of("manual") is None, "manual is a class, not a kind"


def test_a_kind_in_two_classes_is_refused_by_pydantic_and_by_rust():
    twice = [dict(CLASSES[0]), {**CLASSES[1], "kinds": ["mean_reversion", "donchian"]}]
    with pytest.raises(LimitsError, match=r"\['donchian'\] are in more than one risk class"):
        parse_limits(limits_dict(strategies=twice))
    # The engine does not trust its caller: the same file straight to Rust.
    with pytest.raises(ValueError, match=r"strategies\[1\]\.kinds\[1\]: is in more than one"):
        validate_config(json.dumps(limits_dict(strategies=twice)))
    empty = [{**CLASSES[0], "kinds": [""]}]
    with pytest.raises(LimitsError, match=r"strategies\[0\]\.kinds\[0\]"):
        parse_limits(limits_dict(strategies=empty))


def test_a_strategy_takes_its_kinds_class_or_its_signals_and_an_unlisted_kind_is_refused():
    limits = parse_limits(limits_dict(strategies=CLASSES))
    assert risk_class(limits, {"kind": "ts_momentum", "lookback": 20}) == "momentum"
    overlay = {"kind": "vol_target", "target_vol": 0.25, "base": {"kind": "donchian", "window": 20}}
    assert risk_class(limits, overlay) == "momentum"
    own = [*CLASSES[:2], {**CLASSES[2], "kinds": ["vol_target"]}]
    assert risk_class(parse_limits(limits_dict(strategies=own)), overlay) == "manual"
    with pytest.raises(NoRiskClassError, match="strategy kind 'sma_cross'"):
        risk_class(limits, {"kind": "sma_cross", "fast": 10, "slow": 60})
    with pytest.raises(NoRiskClassError, match="strategy kind 'vol_target'"):
        risk_class(limits, {**overlay, "base": {"kind": "sma_cross"}})
