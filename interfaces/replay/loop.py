"""The replay's loop: each simulated midnight the clock moves on, the day's bars reach the
store's readers and the paper venue (which fills yesterday's orders at today's open), the
jobs due then run through the PM graph, an approval is answered by the declared policy, and
the desk is marked. Every fill and gate verdict is taken from the gateway's own events."""

from __future__ import annotations

import time as wall
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from croniter import croniter

from core.llm.local_server import with_local_model
from core.models.approval import ApprovalCard
from core.models.market import Bar, Interval
from core.schedule import load_schedule
from core.settings import Settings
from graph.routers import pick_router
from graph.session import DeskSession
from interfaces.replay.policy import ApprovalPolicy
from interfaces.replay.setup import (
    ReplayConfig,
    ReplayConfigError,
    costs_of,
    expand,
    midnight_after,
    prepare,
)
from tools.replay.models import (
    DayMark,
    DecisionRecord,
    FillRecord,
    LlmUsage,
    ReplayRun,
    StateChange,
    VerdictRecord,
)


@dataclass(frozen=True)
class Replayed:
    run: ReplayRun
    bars: dict[str, pd.DataFrame]
    """The universe's whole daily history, keyed "venue:SYMBOL" (for the baselines)."""


DayListener = Callable[[DayMark, int], None]
"""Called after each simulated day with its mark and the orders sent so far."""


class _Tape:
    """The gateway's events, kept as the replay's record."""

    def __init__(self, session: DeskSession) -> None:
        self.session = session
        self.fills: list[FillRecord] = []
        self.verdicts: list[VerdictRecord] = []
        self.states: list[StateChange] = []
        self.traded_today = 0.0

    def __call__(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            kind = event.get("kind")
            if kind == "order.fill":
                self._fill(event)
            elif kind == "gate.decision" and event.get("action") == "submit":
                self._verdict(event)
            elif kind == "gate.trading_state":
                self.states.append(
                    StateChange(
                        at=datetime.fromtimestamp(int(event["ts_ms"]) / 1000, UTC),
                        scope=str(event["scope"]), state=str(event["state"]),
                        actor=str(event["actor"]), reason=str(event["reason"]),
                    )
                )  # fmt: skip

    def _fill(self, event: dict[str, Any]) -> None:
        quantity, price = float(event["quantity"]), float(event["price"])
        self.traded_today += quantity * price
        self.fills.append(
            FillRecord(
                at=datetime.fromtimestamp(int(event["ts_ms"]) / 1000, UTC),
                order_id=str(event["order_id"]),
                strategy_id=str(event["strategy_id"]),
                instrument=str(event["instrument_id"]),
                side=event["side"],
                quantity=quantity,
                price=price,
                fee=float(event["fee"]),
            )
        )

    def _verdict(self, event: dict[str, Any]) -> None:
        order_id, verdict = str(event["order_id"]), str(event["verdict"])
        # The approval step re-submits the waiting order each time it resumes: one
        # NEEDS_APPROVAL row per order, then its final verdict.
        if any(v.order_id == order_id and v.verdict == verdict for v in self.verdicts[-4:]):
            return
        order = self.session.desk.gateway.recorder.order(order_id)
        self.verdicts.append(
            VerdictRecord(
                at=datetime.fromtimestamp(int(event["ts_ms"]) / 1000, UTC),
                order_id=order_id,
                instrument=f"{order.venue_id}:{order.symbol}" if order else "",
                side=str(order.side.value) if order else "",
                quantity=float(order.quantity) if order else 0.0,
                verdict=verdict,
                reasons=list(event.get("reason_codes") or []),
            )
        )

    def answered(self, order_id: str, label: str) -> None:
        """The policy's answer goes on the order's NEEDS_APPROVAL verdict."""
        for i in range(len(self.verdicts) - 1, -1, -1):
            v = self.verdicts[i]
            if v.order_id == order_id and v.verdict == "NEEDS_APPROVAL" and v.approval is None:
                self.verdicts[i] = v.model_copy(update={"approval": label})
                return


def _due(cron: str, now: datetime) -> bool:
    """Whether the job's cron fires in the simulated day that ends at `now`."""
    nxt: datetime = croniter(cron, now - timedelta(days=1)).get_next(datetime)
    return nxt <= now


def _bar(venue: str, symbol: str, row: Any) -> Bar:
    return Bar(
        venue_id=venue,
        symbol=symbol,
        interval=Interval.D1,
        ts=pd.Timestamp(row["ts"]).to_pydatetime(),
        open=float(row["open"]),
        high=float(row["high"]),
        low=float(row["low"]),
        close=float(row["close"]),
        volume=float(row["volume"]),
    )


def run_replay(
    settings: Settings,
    config: ReplayConfig,
    folder: Path,
    *,
    on_day: DayListener | None = None,
    ask: Callable[[ApprovalCard], bool] | None = None,
    usage: Callable[[], LlmUsage] = LlmUsage,
) -> Replayed:
    """Replay the desk over `config`'s days in `folder` (made afresh). Raises LeakageError
    when anything the desk read was stamped after the simulated now."""
    started = wall.perf_counter()
    policy = ApprovalPolicy.parse(config.approvals)
    days = config.days()
    jobs = expand(load_schedule(config.schedule), config.universe)
    if config.router == "llm":
        # The local model's server is recorded under the desk's own data dir, not the
        # replay's: find it before the replay moves there.
        settings = with_local_model(settings)
        try:
            pick_router("llm", settings)
        except ValueError as exc:
            raise ReplayConfigError(str(exc)) from None
    replay_settings, store, as_of = prepare(settings, config, folder)
    router = pick_router(config.router, replay_settings)
    session = DeskSession(replay_settings, store=store, router=router)
    try:
        tape = _Tape(session)
        desk = session.desk
        desk.gateway.listen(tape)
        bars = {
            (v, s): as_of.frames[(v, s, "1d")].set_index("ts", drop=False)
            for v, s, _i in as_of.frames
        }
        marks: list[DayMark] = []
        decisions: list[DecisionRecord] = []
        for day in days:
            now = midnight_after(day)
            as_of.move_to(now)
            desk.now = now
            stamp = pd.Timestamp(day, tz="UTC")
            tape.traded_today = 0.0
            for (venue, symbol), frame in bars.items():
                if stamp in frame.index:
                    desk.gateway.on_bar(_bar(venue, symbol, frame.loc[stamp]))
            desk.gateway.advance(now)
            for name, cron, requests in jobs:
                if not _due(cron, now):
                    continue
                for i, request in enumerate(requests):
                    thread = f"replay-{name}-{day.isoformat()}-{i}"
                    turn = session.ask(request, thread)
                    while turn.pending is not None:
                        answer = policy.answer(turn.pending, ask)
                        order_id = turn.pending.order.order_id
                        for approver in answer.approvers:
                            turn = session.answer(thread, answer.decision, approver, answer.reason)
                            if turn.pending is None or answer.decision == "reject":
                                break
                        tape.answered(order_id, answer.label)
                    decisions.append(
                        DecisionRecord(
                            at=now, job=name, request=request, trace=turn.trace,
                            answers=turn.answers, routed_by=turn.routed_by,
                        )
                    )  # fmt: skip
            # A leak stops the replay the day it happens: what follows would be tainted.
            as_of.assert_clean()
            marks.append(_mark(session, day, tape.traded_today))
            if on_day is not None:
                on_day(marks[-1], len(tape.verdicts))
        as_of.assert_clean()
        run = ReplayRun(
            start=config.start,
            end=config.end,
            universe=list(config.universe),
            cash=config.cash,
            router=config.router,
            approvals=policy.text,
            marks=marks,
            fills=tape.fills,
            verdicts=tape.verdicts,
            decisions=decisions,
            states=tape.states,
            costs=costs_of(folder / "limits.yaml"),
            llm=usage(),
            probed_reads=as_of.reads,
            wall_s=wall.perf_counter() - started,
        )
        history = {f"{v}:{s}": frame for (v, s, _i), frame in as_of.frames.items()}
        return Replayed(run, history)
    finally:
        session.close()
        store.close()


def _mark(session: DeskSession, day: date, traded: float) -> DayMark:
    gateway = session.desk.gateway
    positions = gateway.positions()
    values = [p.quantity * (p.average_price or 0.0) + p.unrealized_pnl for p in positions]
    return DayMark(
        day=day,
        equity=gateway.equity,
        cash=gateway.account().cash,
        gross=sum(abs(v) for v in values),
        net=sum(values),
        fees=gateway.fees(),
        traded_notional=traded,
        trading_state=str(gateway.trading_state),
    )
