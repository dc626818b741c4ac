"""The strategy lifecycle: research proposes, the judge scores, risk reviews, the PM
promotes to paper within policy automatically; live needs a named human; a strategy whose
realised results decay against its backtest is demoted. Every step is a row in
`strategy_lifecycle`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from core.store import Store
from core.store.lifecycle_log import LifecycleLog
from gateway import GateLimits

Stage = Literal["proposed", "scored", "reviewed", "rejected", "paper", "live", "demoted"]
NEXT: dict[str, set[str]] = {
    "": {"proposed"},
    "proposed": {"scored", "rejected"},
    "scored": {"reviewed", "rejected"},
    "reviewed": {"paper", "rejected"},
    "paper": {"live", "demoted"},
    "live": {"demoted"},
    "demoted": {"proposed"},
    "rejected": {"proposed"},
}


class LifecycleError(ValueError):
    """A step the lifecycle does not allow (e.g. live before paper, live without a human)."""


def strategy_key(spec: dict[str, Any], instrument: str) -> str:
    text = json.dumps({"spec": spec, "instrument": instrument}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class NoRiskClassError(LifecycleError):
    """A strategy whose kind no risk class of the limits file lists: it is not traded."""


def risk_class(limits: GateLimits, spec: dict[str, Any]) -> str:
    """The risk class (a `[[strategies]]` entry of the limits) a strategy trades under: the
    one listing its kind, or, for an overlay (vol_target) no class lists, the one listing the
    kind of the signal it scales. A kind no class lists is refused, never guessed."""
    node: Any = spec
    while isinstance(node, dict):
        found = limits.risk_class_of(str(node.get("kind", "")))
        if found is not None:
            return found
        node = node.get("base")
    raise NoRiskClassError(
        f"no risk class in limits {limits.limits_version} lists strategy kind "
        f"{spec.get('kind')!r}: add it to the kinds of a [[strategies]] entry to trade it"
    )


class Lifecycle:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.log = LifecycleLog(store)

    def stage(self, key: str) -> str:
        return self.log.stage(key)

    def record(
        self, key: str, stage: Stage, actor: str, reason: str, payload: Mapping[str, Any]
    ) -> None:
        current = self.stage(key)
        if stage not in NEXT[current]:
            raise LifecycleError(f"{key}: {current or 'new'} -> {stage} is not allowed")
        self.log.append(key, stage, actor, reason, payload)

    def history(self, key: str) -> list[tuple[str, str, str]]:
        return [(s.stage, s.actor, s.reason) for s in self.log.steps(key)]

    def promote_live(self, key: str, approver: str, reason: str) -> None:
        """Live trading needs a named human; an agent or the scheduler cannot promote."""
        if not approver.startswith("human:") or len(approver) <= len("human:"):
            raise LifecycleError("promotion to live needs a human approver ('human:<name>')")
        self.record(key, "live", approver, reason, {})

    def review_decay(
        self, key: str, realised_sharpe: float, backtest_sharpe: float, tolerance: float = 0.5
    ) -> bool:
        """Demote when realised Sharpe falls below `tolerance` x the backtest's (or below
        zero). Returns whether it demoted."""
        if self.stage(key) not in ("paper", "live"):
            return False
        if realised_sharpe >= max(0.0, tolerance * backtest_sharpe):
            return False
        self.record(
            key, "demoted", "risk",
            f"realised Sharpe {realised_sharpe:.2f} vs backtest {backtest_sharpe:.2f}",
            {"realised_sharpe": realised_sharpe, "backtest_sharpe": backtest_sharpe},
        )  # fmt: skip
        return True
