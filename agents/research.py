"""Research: runs the research tools on the requested market, proposes the best strategy
with its expected Sharpe, drawdown and volatility (out of sample), and hands it to the
judge and risk. Proposes a paper target when the PM asked to trade it."""

from __future__ import annotations

import math
from typing import Any, Final, Literal

from langgraph.types import Command

from agents.data import ingest
from agents.desk import Desk
from agents.knowledge import remember_proposal
from agents.results import Proposal, ResearchIngest, Results
from agents.risk import MAX_PROPOSAL_DRAWDOWN
from agents.state import DeskState, Node, finish
from tools.instruments import NoInstrument
from tools.lifecycle import Lifecycle, NoRiskClassError, risk_class, strategy_key
from tools.research.backtesters import run_vectorised
from tools.research.bars import ResearchDataError, load_bars
from tools.research.fill_model import Costs
from tools.research.strategies import Strategy, VolatilityTarget
from tools.research.sweep import ParamGrid
from tools.research.walk_forward import WalkForwardConfig, walk_forward

NAME: Final = "research"
# Where the desk's tradable instruments' bars come from, for asking the data agent.
DATASET_FOR = {"BTC": "crypto", "ETH": "crypto", "GOOG": "goog"}
GRIDS: dict[str, dict[str, list[Any]]] = {
    "ts_momentum": {"lookback": [20, 60, 120]},
    "sma_cross": {"fast": [10, 20, 50], "slow": [60, 100, 200]},
    "mean_reversion": {"window": [10, 20, 40]},
    "donchian": {"window": [20, 55]},
}
PAPER_ALLOCATION = 0.05  # of equity, per researched instrument
REBALANCE_BAND = 0.2  # of the allocation: smaller moves toward the goal are not traded


def _better(row: Proposal, best: Proposal) -> bool:
    """Prefer proposals within the drawdown risk accepts, then the higher out-of-sample Sharpe."""
    fits, best_fits = (r["expected_max_drawdown"] > MAX_PROPOSAL_DRAWDOWN for r in (row, best))
    if fits != best_fits:
        return bool(fits)
    return bool(row["oos_sharpe"] > best["oos_sharpe"])


def propose(desk: Desk, symbol: str | None, kind: str | None) -> Proposal:
    # A named symbol must name one held instrument (never another); with none named the
    # desk researches its BTC instrument.
    found = desk.resolve(symbol or "BTC")
    if isinstance(found, NoInstrument):
        raise ValueError(found.message)
    venue, market = found.venue, found.symbol
    bars = load_bars(desk.store, venue, market, "1d")
    lot = next(i.lot for i in desk.limits.instruments if i.id == f"{venue}:{market}")
    costs = Costs(commission=0.001, lot=lot)
    kinds = [kind] if kind in GRIDS else list(GRIDS)
    best: Proposal | None = None
    for k in kinds:
        base, _ = ParamGrid(kind=k, params=GRIDS[k]).expand()
        # Each candidate also with a volatility-targeting overlay: same signal, smaller swings.
        candidates: list[Strategy] = [
            *base,
            *(VolatilityTarget(base=c, target_vol=0.25, periods_per_year=365) for c in base),
        ]
        test = max(60, min(250, len(bars) // 8))
        wf = walk_forward(
            bars, candidates, costs, WalkForwardConfig(train_bars=3 * test, test_bars=test)
        )
        chosen = wf.folds["chosen"].iloc[-1]
        strategy = next(c for c in candidates if c.model_dump() == chosen)
        full = run_vectorised(bars, strategy, costs)
        row: Proposal = {
            "instrument": f"{venue}:{market}",
            "strategy": strategy.model_dump(),
            "in_sample_sharpe": wf.in_sample_mean_sharpe,
            "oos_sharpe": wf.out_of_sample.sharpe,
            "expected_sharpe": wf.out_of_sample.sharpe,
            "expected_max_drawdown": wf.out_of_sample.max_drawdown,
            "expected_volatility": wf.out_of_sample.annual_volatility,
            "trades": full.metrics.trades,
            "folds": len(wf.folds),
            "latest_weight": float(strategy.weights(bars)[-1]),
        }
        if best is None or _better(row, best):
            best = row
    assert best is not None
    weight = best["latest_weight"]
    price = float(bars.close[-1])
    units = math.floor(PAPER_ALLOCATION * desk.gateway.equity / price / lot) * lot
    key = strategy_key(best["strategy"], best["instrument"])
    try:
        # The gate trades the strategy under its own id, with its risk class's limits.
        best["risk_class"] = risk_class(desk.limits, best["strategy"])
    except NoRiskClassError as exc:
        best["not_tradable"] = str(exc)
        return best
    # A rebalance: the instrument moves to the chosen strategy's goal, so a repeated cycle
    # adds nothing while the signal holds and closes it when the signal goes flat. Research
    # strategies chosen before for the instrument are retired (closed) first: one strategy
    # at a time holds it, so a reduce never meets offsetting positions.
    goal = math.copysign(units, weight) if weight != 0 else 0.0
    held = desk.gateway.positions()
    mine = [
        p
        for p in held
        if f"{p.venue_id}:{p.symbol}" == best["instrument"] and p.strategy_id != "manual"
    ]
    retire = sorted({p.strategy_id for p in mine if p.strategy_id != key and p.quantity != 0})
    delta = round(goal - sum(p.quantity for p in mine if p.strategy_id == key), 10)
    trade = abs(delta) >= lot and abs(delta) >= REBALANCE_BAND * units
    if trade or retire:
        best["target"] = {
            "key": key,
            "side": "buy" if delta > 0 else "sell",
            "quantity": abs(delta) if trade else 0.0,
            "symbol": best["instrument"],  # venue:SYMBOL, so execution trades this one
            "strategy_id": key,
            "risk_class": best["risk_class"],
        }
        if retire:
            best["target"]["retire"] = retire
    return best


def node(desk: Desk) -> Node:
    def research(state: DeskState) -> Command[Literal["judge", "__end__"]]:
        intent = state.get("intent", {})
        asked: list[str] = []
        ingested: ResearchIngest | None = None
        try:
            try:
                proposal = propose(desk, intent.get("symbol"), intent.get("strategy"))
            except ResearchDataError:
                # No bars to research on: ask the data agent for the instrument's dataset once.
                base = str(intent.get("symbol") or "BTC").upper().split(":")[-1].split("/")[0]
                dataset = DATASET_FOR.get(base)
                if dataset is None:
                    raise
                loaded = ingest(desk, [dataset])[dataset]
                ingested = {"dataset": dataset, **loaded}
                asked = [f"asked data for {dataset}: {loaded['stored']} bars stored"]
                proposal = propose(desk, intent.get("symbol"), intent.get("strategy"))
        except (ResearchDataError, ValueError) as exc:
            text = f"research could not run: {exc}"
            return finish(NAME, {"error": str(exc)}, text)
        proposal["key"] = strategy_key(proposal["strategy"], proposal["instrument"])
        lifecycle = Lifecycle(desk.store)
        if lifecycle.stage(proposal["key"]) in ("", "demoted", "rejected"):
            lifecycle.record(proposal["key"], "proposed", NAME, "best out-of-sample", proposal)
        proposal["memory"] = remember_proposal(desk, proposal)
        text = (
            f"{proposal['instrument']} {proposal['strategy']['kind']}: out-of-sample Sharpe "
            f"{proposal['oos_sharpe']:.2f} (in-sample {proposal['in_sample_sharpe']:.2f}), "
            f"drawdown {proposal['expected_max_drawdown']:.0%}, "
            f"vol {proposal['expected_volatility']:.0%}"
        )
        text = "; ".join([*asked, text])
        if proposal["memory"]:
            text += f"; memory holds {len(proposal['memory'])} earlier note(s) on this instrument"
        if ingested is not None:
            both: Results = {NAME: proposal, "data": ingested}
            more = {"results": both, "trace": [NAME, "data", NAME]}
            return finish(NAME, proposal, text, goto="judge", **more)
        return finish(NAME, proposal, text, goto="judge")

    return research
