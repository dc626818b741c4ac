"""Runs one scenario on a desk of its own: a copy of the prepared store, the starting
portfolio and trading state, the request (or the scheduled objective's requests), the
approval answer; then observes what the desk did — the agents, the tools and their
arguments, the gate's decisions, approvals, answers, tokens and steps."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.models.market import SessionCalendar
from core.models.trading import TradingState
from core.settings import Settings
from core.store import Store
from core.store.lifecycle_log import LifecycleLog
from evals.scenario import Scenario
from graph.session import DeskSession, Turn
from graph.supervisor import Router
from tools.ingest.pipeline import ingest_bars
from tools.ingest.real_datasets import DATASETS
from tools.research.tracking import Tracker

STALE_DAYS = 5
RESULT_TOOLS = {"research": "research", "data": "ingest", "risk": "risk_view",
                "monitor": "health", "report": "report", "judge": "judge_score"}  # fmt: skip


@dataclass
class ToolCall:
    name: str
    args: dict[str, Any]


@dataclass
class RoutedTurn:
    """Who decided one PM turn's request."""

    request: str
    router: str
    """"llm" or "rules"."""
    note: str | None = None
    """Why the model did not decide (the intent's router_note)."""

    @property
    def routed_by(self) -> str:
        return self.router + (f" ({self.note})" if self.note else "")


@dataclass
class Observation:
    trace: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    tools: list[ToolCall] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    approval_requested: bool = False
    actions: set[str] = field(default_factory=set)
    results: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    routing: list[RoutedTurn] = field(default_factory=list)
    """Every PM turn the scenario asked (setup, history and the requests under test)."""
    tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None

    @property
    def steps(self) -> int:
        return len(self.trace)


def prepare_store(folder: Path) -> Path:
    """The real datasets (crypto and GOOG) loaded once through quality control; each scenario
    starts from a copy."""
    path = folder / "template-store"
    with Store(f"chdb://{path}") as store:
        store.migrate()
        ingest_bars(store, DATASETS["crypto"].read(), source="crypto",
                    calendar=SessionCalendar.CONTINUOUS)  # fmt: skip
        ingest_bars(store, DATASETS["goog"].read(), source="goog",
                    calendar=SessionCalendar.WEEKDAYS)  # fmt: skip
    return path


def copy_store(template: Path, path: Path) -> None:
    """A store of its own for a scenario, made from the template in milliseconds: directories
    are made anew and each of the engine's files under `store/` is a hard link. ClickHouse
    never changes a written file in place (a part is immutable: inserts, merges and mutations
    write new parts; metadata is replaced by a rename), which its own FREEZE relies on, so
    the scenario's writes never reach the template. Copying the files instead cost ~0.2 s a
    scenario on a busy disk. Other files (the desk's lock, written in place) are copied; the
    engine's relative symlinks (metadata -> store) stay links."""

    def link_or_copy(source: str, target: str) -> None:
        if Path(source).relative_to(template).parts[0] == "store":
            try:
                os.link(source, target)
                return
            except OSError:  # another file system, or one without hard links
                pass
        shutil.copy2(source, target)

    shutil.copytree(template, path, symlinks=True, copy_function=link_or_copy)


def prepare_tracking(folder: Path, settings: Settings) -> Settings:
    """`settings` with one MLflow store for the whole suite. A fresh SQLite tracking store
    runs MLflow's schema migrations when it opens (3-4 s), which was most of each scenario's
    time while every desk made its own. The desks only log runs there and never read them
    back, so sharing the store leaves the scenarios isolated. The experiment is made here so
    that its artifacts live in the suite's folder, not in the first scenario's (removed when
    that scenario ends). A configured tracking URI is shared as it is."""
    if settings.mlflow_tracking_uri is not None:
        return settings
    home = folder / "mlflow"
    uri = f"sqlite:///{(home / 'mlflow.db').resolve()}"
    Tracker(settings.model_copy(update={"data_dir": home, "mlflow_tracking_uri": uri}))
    return settings.model_copy(update={"mlflow_tracking_uri": uri})


def _gate_calls(session: DeskSession, events: list[dict[str, Any]], obs: Observation) -> None:
    gateway = session.desk.gateway
    last: dict[str, str] = {}
    for event in events:
        if event["kind"] == "gate.decision":
            # The approval step re-sends the same order on every resume; one order's repeated
            # verdict is one decision.
            if last.get(event["order_id"]) == event["verdict"]:
                continue
            last[event["order_id"]] = event["verdict"]
            order = gateway.order(event["order_id"])
            args: dict[str, Any] = {"verdict": event["verdict"],
                                    "reasons": list(event["reason_codes"])}  # fmt: skip
            if order is not None:
                price = order.limit_price or session.desk.reference_price(
                    order.venue_id, order.symbol
                )
                args |= {
                    "symbol": order.symbol, "venue": order.venue_id, "side": order.side.value,
                    "quantity": order.quantity, "strategy": order.strategy_id,
                    "reduce_only": order.reduce_only,
                    "notional": order.quantity * price if price else None,
                }  # fmt: skip
            obs.tools.append(ToolCall("submit_order", args))
            obs.verdicts.append(str(event["verdict"]))
            obs.reasons += list(event["reason_codes"])
            obs.actions.add("order_submitted")
        elif event["kind"] == "order.fill":
            obs.actions.add("order_filled")
        elif event["kind"] == "gate.trading_state" and event.get("state") == "halted":
            obs.tools.append(ToolCall("kill_switch", {"actor": event.get("actor")}))
            obs.actions.add("trading_halted")


def _result_calls(turn: Turn, obs: Observation) -> None:
    for agent, tool in RESULT_TOOLS.items():
        out = turn.results.get(agent)
        if isinstance(out, dict) and agent in turn.trace:
            args = {k: v for k, v in out.items() if isinstance(v, str | int | float | bool)}
            obs.tools.append(ToolCall(tool, args))


def _routed(turn: Turn, request: str, obs: Observation) -> None:
    # `Turn.routed_by` reads "llm", "rules" or "rules (<router_note>)"; it is "" when
    # nothing was routed (a message to a thread waiting for its approval).
    if turn.routed_by:
        router, _, note = turn.routed_by.partition(" (")
        obs.routing.append(RoutedTurn(request, router, note.removesuffix(")") or None))


def _holdings(session: DeskSession) -> dict[tuple[str, str, str], float]:
    return {
        (p.strategy_id, p.venue_id, p.symbol): p.quantity for p in session.desk.gateway.positions()
    }


def _promotions(session: DeskSession) -> int:
    return LifecycleLog(session.store).promotions()


def _setup(session: DeskSession, scenario: Scenario, thread: str, obs: Observation) -> None:
    desk = session.desk
    if scenario.setup.data == "stale":
        desk.now += timedelta(days=STALE_DAYS)
    for i, holding in enumerate(scenario.setup.positions):
        request = f"{holding.side} {holding.quantity:g} {holding.symbol}"
        turn = session.ask(request, f"setup-{i}")
        _routed(turn, request, obs)
        for approver in ("setup-1", "setup-2"):  # large holdings may need two approvers
            if session.pending_for(turn.thread_id) is not None:
                session.answer(turn.thread_id, "approve", approver, "scenario setup")
    for request in scenario.setup.history:
        _routed(session.ask(request, thread), request, obs)
    state = scenario.setup.trading_state
    if state != "active":
        desk.gateway.set_trading_state(TradingState(state), "eval-setup", "scenario start")


def run_scenario(
    scenario: Scenario, template: Path | None, router: Router | None, settings: Settings
) -> Observation:
    obs = Observation(requests=scenario.requests())
    with tempfile.TemporaryDirectory(prefix=f"eval-{scenario.id}-") as tmp:
        work = Path(tmp)
        store_path = work / "store"
        copied = scenario.setup.data != "none" and template is not None
        if template is not None and copied:
            copy_store(template, store_path)
        run_settings = settings.model_copy(update={"data_dir": work / "desk"})
        with Store(f"chdb://{store_path}") as store:
            if not copied:  # a copy of the template is migrated already
                store.migrate()
            with DeskSession(run_settings, store, router=router) as session:
                thread = f"eval-{scenario.id}"
                try:
                    _setup(session, scenario, thread, obs)
                    mark = len(session.desk.gateway.recent_events)
                    held_before = _holdings(session)
                    promoted_before = _promotions(session)
                    budget = getattr(session.router, "budget", None)
                    used_before = budget.used if budget else 0
                    cost_before = budget.cost_usd if budget else 0.0
                    for i, request in enumerate(obs.requests):
                        turn = session.ask(request, thread if i == 0 else f"{thread}-{i}")
                        _routed(turn, request, obs)
                        obs.approval_requested |= turn.pending is not None
                        if turn.pending is not None and scenario.answer is not None:
                            turn = session.answer(
                                turn.thread_id, scenario.answer.decision,
                                scenario.answer.approver, "eval answer",
                            )  # fmt: skip
                        obs.trace += turn.trace
                        obs.answers += turn.answers
                        obs.results[request] = json.loads(json.dumps(turn.results, default=str))
                        _result_calls(turn, obs)
                    _gate_calls(session, list(session.desk.gateway.recent_events)[mark:], obs)
                    held_after = _holdings(session)
                    if any(abs(q) > abs(held_before.get(k, 0.0)) + 1e-12
                           for k, q in held_after.items()):  # fmt: skip
                        obs.actions.add("position_opened")
                    if _promotions(session) > promoted_before:
                        obs.actions.add("strategy_promoted")
                    if budget:
                        obs.tokens = budget.used - used_before
                        obs.cost_usd = budget.cost_usd - cost_before
                except Exception as exc:  # a crash is an observation: the scenario fails
                    obs.error = f"{type(exc).__name__}: {exc}"
    return obs
