"""Gate limits from TOML and YAML: validated twice (pydantic, then Rust), errors name the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gateway import LimitsError, load_limits, parse_limits
from gateway._core import Engine, validate_config
from tests.gateway_fixtures import limits_dict


def test_the_packaged_default_limits_load():
    limits = load_limits()
    assert limits.limits_version.startswith("default-")
    assert {i.id for i in limits.instruments} >= {"bitstamp:BTC/USD", "nasdaq:GOOG"}


def _toml(data: dict) -> str:
    lines = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    for key, value in data.items():
        if key not in tables and key not in arrays:
            lines.append(f"{key} = {json.dumps(value)}")
    for key, table in tables.items():
        lines.append(f"[{key}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    for key, items in arrays.items():
        for item in items:
            lines.append(f"[[{key}]]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_files_load_and_bad_fields_are_named(tmp_path: Path, suffix: str):
    def write(data: dict) -> Path:
        path = tmp_path / f"limits{suffix}"
        path.write_text(_toml(data) if suffix == ".toml" else yaml.safe_dump(data))
        return path

    assert load_limits(write(limits_dict())).limits_version == "test-7"
    bad_tick = limits_dict()
    bad_tick["instruments"][1]["tick"] = 0
    with pytest.raises(
        LimitsError, match=r"instruments\[1\]\.tick: Input should be greater than 0"
    ):
        load_limits(write(bad_tick))
    with pytest.raises(LimitsError, match=r"submit_rate\.max"):
        load_limits(write(limits_dict(submit_rate={"max": 0, "window_ms": 10})))
    with pytest.raises(LimitsError, match="max_drawdown"):
        load_limits(write(limits_dict(max_drawdown=2.0)))
    missing = limits_dict()
    del missing["collar_bps"]
    with pytest.raises(LimitsError, match="collar_bps: Field required"):
        load_limits(write(missing))
    with pytest.raises(LimitsError, match="surprise: Extra inputs are not permitted"):
        load_limits(write(limits_dict(surprise=1)))
    with pytest.raises(LimitsError, match="leverage must be 1 in cash mode"):
        load_limits(write(limits_dict(margin_mode="cash")))


def test_the_approval_policy_is_validated_once_against_the_gates_caps():
    """A policy the gate could not honour is refused when the file loads, not at the last
    step of an approval (a time limit above the cap used to fail every approval there)."""
    with pytest.raises(LimitsError, match="approval_ttl_ms must be <= approval_ttl_max_ms"):
        parse_limits(limits_dict(approval_ttl_ms=600_001))
    with pytest.raises(LimitsError, match="dual_approval_notional must be >= approval_notional"):
        parse_limits(limits_dict(dual_approval_notional=49_999.0))
    with pytest.raises(ValueError, match=r"approval_ttl_ms: must be in 1\.\.=approval_ttl_max_ms"):
        validate_config(json.dumps(limits_dict(approval_ttl_ms=600_001)))
    with pytest.raises(ValueError, match="dual_approval_notional: must be >= approval_notional"):
        validate_config(json.dumps(limits_dict(dual_approval_notional=1.0)))
    policy = parse_limits(limits_dict(approval_ttl_ms=600_000))
    assert (policy.approval_notional, policy.dual_approval_notional) == (50_000.0, 150_000.0)


def test_broken_and_missing_files_are_clear_errors(tmp_path: Path):
    broken = tmp_path / "limits.toml"
    broken.write_text("limits_version = \n")
    with pytest.raises(LimitsError, match="not valid TOML"):
        load_limits(broken)
    with pytest.raises(LimitsError, match="cannot read"):
        load_limits(tmp_path / "absent.toml")
    other = tmp_path / "limits.json"
    other.write_text("{}")
    with pytest.raises(LimitsError, match=r"\.toml, \.yaml or \.yml"):
        load_limits(other)
    with pytest.raises(LimitsError, match="<root>"):
        parse_limits(["not", "a", "mapping"])


def test_the_rust_side_validates_again_and_names_the_field():
    """Python is not trusted: JSON that skips pydantic is still refused, field by field."""
    data = limits_dict()
    data["instruments"][0]["lot"] = -1
    with pytest.raises(ValueError, match=r"instruments\[0\]\.lot: must be finite and > 0"):
        validate_config(json.dumps(data))
    data = limits_dict()
    data["strategies"].append({"id": "momentum", "max_position_notional": 1.0})
    with pytest.raises(ValueError, match=r"strategies\[2\]\.id: is listed twice"):
        Engine(json.dumps(data))
    with pytest.raises(ValueError, match="<json>"):
        Engine("{not json")
