"""The `strategy_lifecycle` table: every step of a strategy's life (proposed, scored, reviewed,
paper, live, demoted, rejected), one row per step, never rewritten. The only module that
writes or reads that table; the rules of which step may follow which live with the caller."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.store.connection import Store

COLUMNS = ["strategy_key", "stage", "actor", "reason", "payload", "ts"]


def _utc(ts: datetime) -> datetime:
    """The table holds UTC; the driver hands back naive datetimes."""
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _payload(text: str | None) -> dict[str, Any]:
    body = json.loads(text or "{}")
    return body if isinstance(body, dict) else {}


@dataclass(frozen=True)
class LifecycleStep:
    """One row: who moved which strategy to which stage, why, with what evidence, when."""

    strategy_key: str
    stage: str
    actor: str
    reason: str
    payload: dict[str, Any]
    ts: datetime


@dataclass(frozen=True)
class StrategyStatus:
    """A strategy's latest step."""

    strategy_key: str
    stage: str
    actor: str
    reason: str
    updated: datetime


@dataclass(frozen=True)
class TradingStrategy:
    """A strategy now on paper or live, with its latest paper and proposal payloads."""

    strategy_key: str
    stage: str
    paper: dict[str, Any]
    proposed: dict[str, Any]


class LifecycleLog:
    def __init__(self, store: Store) -> None:
        self._store = store

    def stage(self, key: str) -> str:
        """The strategy's latest stage; "" when it has none."""
        rows = self._store.client.query(
            "SELECT stage FROM strategy_lifecycle WHERE strategy_key = {k:String} "
            "ORDER BY ts DESC, seq DESC LIMIT 1",
            parameters={"k": key},
        ).result_rows
        return str(rows[0][0]) if rows else ""

    def append(
        self, key: str, stage: str, actor: str, reason: str, payload: Mapping[str, Any]
    ) -> None:
        row = [key, stage, actor, reason, json.dumps(payload, default=str), self._store.now()]
        # Wall nanoseconds order the steps written at one instant (a replay's midnight).
        self._store.client.insert(
            "strategy_lifecycle", [[*row, time.time_ns()]], column_names=[*COLUMNS, "seq"]
        )

    def steps(self, key: str | None = None) -> list[LifecycleStep]:
        """Every step, oldest first; one strategy's when `key` is given."""
        where = "WHERE strategy_key = {k:String} " if key is not None else ""
        rows = self._store.client.query(
            f"SELECT {', '.join(COLUMNS)} FROM strategy_lifecycle {where}ORDER BY ts, seq",
            parameters={"k": key} if key is not None else None,
        ).result_rows
        return [
            LifecycleStep(str(k), str(s), str(a), str(r), _payload(p), _utc(t))
            for k, s, a, r, p, t in rows
        ]

    def latest(self) -> list[StrategyStatus]:
        """Each strategy's latest step, the most recently moved first."""
        rows = self._store.client.query(
            "SELECT strategy_key, argMax(stage, (ts, seq)), argMax(actor, (ts, seq)), "
            "argMax(reason, (ts, seq)), max(ts) FROM strategy_lifecycle GROUP BY strategy_key "
            "ORDER BY max((ts, seq)) DESC"
        ).result_rows
        return [StrategyStatus(str(k), str(s), str(a), str(r), _utc(t)) for k, s, a, r, t in rows]

    def trading(self) -> list[TradingStrategy]:
        """Every strategy whose latest stage is paper or live."""
        rows = self._store.client.query(
            "SELECT strategy_key, argMax(stage, (ts, seq)) AS now_at, "
            "argMaxIf(payload, (ts, seq), stage = 'paper') AS paper, "
            "argMaxIf(payload, (ts, seq), stage = 'proposed') AS proposed "
            "FROM strategy_lifecycle GROUP BY strategy_key HAVING now_at IN ('paper', 'live') "
            "ORDER BY strategy_key"
        ).result_rows
        return [TradingStrategy(str(k), str(s), _payload(p), _payload(q)) for k, s, p, q in rows]

    def reviewed(self) -> list[TradingStrategy]:
        """Every strategy that ever passed risk review, whatever its stage now: those that
        trade, those about to (their first order waits for a human) and those demoted that
        may still hold positions."""
        rows = self._store.client.query(
            "SELECT strategy_key, argMax(stage, (ts, seq)) AS now_at, "
            "argMaxIf(payload, (ts, seq), stage = 'paper') AS paper, "
            "argMaxIf(payload, (ts, seq), stage = 'proposed') AS proposed "
            "FROM strategy_lifecycle GROUP BY strategy_key "
            "HAVING countIf(stage = 'reviewed') > 0 ORDER BY min((ts, seq))"
        ).result_rows
        return [TradingStrategy(str(k), str(s), _payload(p), _payload(q)) for k, s, p, q in rows]

    def promotions(self) -> int:
        """How many steps promoted a strategy to paper or live."""
        rows = self._store.client.query(
            "SELECT count() FROM strategy_lifecycle WHERE stage IN ('paper', 'live')"
        ).result_rows
        return int(rows[0][0])
