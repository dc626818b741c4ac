"""The strategy lifecycle: research proposes, the judge scores, risk reviews, the PM
promotes to paper within policy automatically; live needs a named human; a strategy whose
realised results decay against its backtest is demoted. Every step is a row in
`strategy_lifecycle`."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from core.store import Store

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


class Lifecycle:
    def __init__(self, store: Store) -> None:
        self.store = store

    def stage(self, key: str) -> str:
        rows = self.store.client.query(
            "SELECT stage FROM strategy_lifecycle WHERE strategy_key = {k:String} "
            "ORDER BY ts DESC LIMIT 1",
            parameters={"k": key},
        ).result_rows
        return str(rows[0][0]) if rows else ""

    def record(
        self, key: str, stage: Stage, actor: str, reason: str, payload: dict[str, Any]
    ) -> None:
        current = self.stage(key)
        if stage not in NEXT[current]:
            raise LifecycleError(f"{key}: {current or 'new'} -> {stage} is not allowed")
        self.store.client.insert(
            "strategy_lifecycle",
            [[key, stage, actor, reason, json.dumps(payload, default=str), datetime.now(UTC)]],
            column_names=["strategy_key", "stage", "actor", "reason", "payload", "ts"],
        )

    def history(self, key: str) -> list[tuple[str, str, str]]:
        rows = self.store.client.query(
            "SELECT stage, actor, reason FROM strategy_lifecycle WHERE strategy_key = {k:String} "
            "ORDER BY ts",
            parameters={"k": key},
        ).result_rows
        return [(str(a), str(b), str(c)) for a, b, c in rows]

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
