"""Risk: reports what the desk holds as the risk engine (tools.risk) measures it (exposures,
PnL, volatility, historical VaR and expected shortfall, correlations, the breach verdict);
reviews research proposals; on a breach it instructs execution to reduce or halt."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Final, Literal

import pandas as pd
from langchain_core.messages import AIMessage
from langgraph.types import Command

from agents.desk import Desk
from agents.knowledge import correlated_exposure
from agents.results import (
    FillAnomalies,
    PortfolioView,
    Proposal,
    Results,
    RiskResult,
    check_decay,
    check_portfolio,
    proposal_of,
)
from agents.state import DeskState, Node
from core.models.trading import TradingState
from core.store import MarketDataStore, TradeLog
from tools.decay import review_all
from tools.lifecycle import Lifecycle
from tools.risk import measure_portfolio
from tools.risk.anomaly import MIN_HISTORY, detect, fill_features

NAME: Final = "risk"
MAX_PROPOSAL_VOL = 1.0
MAX_PROPOSAL_DRAWDOWN = -0.6


def portfolio_view(desk: Desk) -> PortfolioView:
    """The risk engine's view of the book (tools.risk), as plain data for the graph state."""
    return check_portfolio(
        measure_portfolio(
            desk.gateway, MarketDataStore(desk.store), desk.settings.risk_breach_fraction
        ).model_dump()
    )


def market_correlations(desk: Desk, days: int = 250) -> dict[str, dict[str, float]]:
    """Correlations of daily returns between the desk's instruments over the last `days`
    shared dates (held or not: "are BTC and ETH correlated?" asks about the market)."""
    market = MarketDataStore(desk.store)
    closes = {}
    for inst in desk.book.instruments:
        frame = market.read_bars(inst.venue, inst.symbol, "1d").tail(days + 1)
        if len(frame) > 2:
            closes[inst.id] = pd.Series(frame["close"].to_numpy(), index=frame["ts"].dt.normalize())
    if len(closes) < 2:
        return {}
    returns = pd.DataFrame(closes).dropna().pct_change().dropna().tail(days)
    if len(returns) <= 20:
        return {}
    table = returns.corr().round(3)
    return {str(a): {str(b): float(table.loc[a, b]) for b in table.columns} for a in table.index}


def _pairs(corr: dict[str, dict[str, float]]) -> list[str]:
    names = sorted(corr)
    return [f"{a} / {b} {corr[a][b]:+.2f}" for i, a in enumerate(names) for b in names[i + 1 :]]


def fill_anomalies(desk: Desk) -> FillAnomalies:
    """Fills the autoencoder finds unusual (size, price against the day's close, fee rate)."""
    fills = pd.DataFrame(TradeLog(desk.store).fills())
    if len(fills) < MIN_HISTORY:
        return {"checked": len(fills), "flagged": [], "note": f"fewer than {MIN_HISTORY} fills"}
    market = MarketDataStore(desk.store)
    parts = []
    for (venue, symbol), group in fills.groupby(["venue", "symbol"]):
        closes = market.read_bars(str(venue), str(symbol), "1d")[["ts", "close"]]
        group = group.assign(ts=pd.to_datetime(group["ts"], utc=True).astype("datetime64[ms, UTC]"))
        group = group.sort_values("ts")
        parts.append(pd.merge_asof(group, closes.sort_values("ts"), on="ts"))
    joined = pd.concat(parts, ignore_index=True)
    joined["close"] = joined["close"].fillna(joined["price"])
    features = fill_features(
        joined["quantity"].to_numpy(float), joined["price"].to_numpy(float),
        joined["close"].to_numpy(float), joined["fee"].to_numpy(float),
    )  # fmt: skip
    report = detect(features)
    return {"checked": len(joined), "flagged": [str(joined["fill_id"][i]) for i in report.flagged]}


def review(proposal: Proposal) -> tuple[bool, list[str]]:
    """Whether a research proposal fits the desk's risk appetite, and why not."""
    concerns = []
    if proposal.get("expected_volatility", 0.0) > MAX_PROPOSAL_VOL:
        concerns.append(
            f"expected volatility {proposal['expected_volatility']:.0%} > {MAX_PROPOSAL_VOL:.0%}"
        )
    if proposal.get("expected_max_drawdown", 0.0) < MAX_PROPOSAL_DRAWDOWN:
        concerns.append(
            f"expected drawdown {proposal['expected_max_drawdown']:.0%} is deeper than "
            f"{MAX_PROPOSAL_DRAWDOWN:.0%}"
        )
    return not concerns, concerns


def node(desk: Desk) -> Node:
    def risk(state: DeskState) -> Command[Literal["execution", "report", "__end__"]]:
        intent = state.get("intent", {})
        view = portfolio_view(desk)
        out: RiskResult = {"view": view, "decay": []}
        if intent.get("kind") in ("risk", "report"):
            out["anomalies"] = fill_anomalies(desk)
        if view["exposure_breach"]["breached"] or view["trading_state"] == "reducing":
            out["instruction"] = "reduce"
        decay = review_all(desk.store)
        out["decay"] = check_decay([asdict(c) for c in decay])
        custody = desk.custody
        if custody is not None:
            from tools.custody.reconcile import review_custody

            out["custody"] = review_custody(desk.gateway, custody, desk.now).model_dump()
        for check in decay:
            # A demoted strategy opens nothing more at the gate; what it holds may be cut.
            if (
                check.demoted
                and desk.gateway.has_strategy(check.key)
                and desk.gateway.strategy_state(check.key) is TradingState.ACTIVE
            ):
                desk.gateway.set_trading_state(
                    TradingState.REDUCING,
                    NAME,
                    f"demoted: realised Sharpe {check.realised_sharpe:.2f} "
                    f"vs backtest {check.backtest_sharpe:.2f}",
                    strategy_id=check.key,
                    at=desk.now,
                )
        results: Results = state.get("results", {})
        proposal = proposal_of(results)
        goto: Literal["execution", "report", "__end__"] = "__end__"
        lines = [
            f"equity {view['equity']:,.0f}, gross {view['gross_exposure']:,.0f}, "
            f"net {view['net_exposure']:,.0f}, VaR95 {view['var_95']:,.0f}, "
            f"ES95 {view['expected_shortfall_95']:,.0f}, state {view['trading_state']}"
        ]
        if "custody" in out:
            held = out["custody"]
            lines.append(
                f"custody unreadable ({held['error']})" if held["error"] else
                "custody matches the ledger" if not held["mismatches"] else
                "custody differs from the ledger: " + ", ".join(
                    f"{m['asset']} vault {m['vault']:g} vs ledger {m['ledger']:g}"
                    for m in held["mismatches"]
                )
            )  # fmt: skip
        if intent.get("kind") == "correlation":
            out["market_correlations"] = market_correlations(desk)
            lines.append(
                "correlation of daily returns (last 250 shared days): "
                + (", ".join(_pairs(out["market_correlations"])) or "not enough shared history")
            )
        if intent.get("kind") == "tracking":
            lines.extend(
                f"strategy {c.key}: realised Sharpe {c.realised_sharpe:.2f} over {c.days} days "
                f"vs backtest {c.backtest_sharpe:.2f}" + (" (demoted)" if c.demoted else "")
                for c in decay
            )
            if not decay:
                lines.append("no strategy has traded on paper or live yet: nothing to compare")
        for check in decay:
            if check.demoted and intent.get("kind") != "tracking":
                lines.append(
                    f"strategy {check.key} demoted: realised Sharpe {check.realised_sharpe:.2f} "
                    f"over {check.days} days vs backtest {check.backtest_sharpe:.2f}"
                )
        if proposal is not None:
            ok, concerns = review(proposal)
            key = proposal.get("key")
            if key and Lifecycle(desk.store).stage(key) == "scored":
                Lifecycle(desk.store).record(
                    key, "reviewed" if ok else "rejected", NAME, "; ".join(concerns) or "fits", {}
                )
            out["proposal_ok"] = ok
            out["concerns"] = concerns
            judged = results.get("judge", {}).get("passed", False)
            lines.append("proposal " + ("accepted" if ok else "refused: " + "; ".join(concerns)))
            correlated = correlated_exposure(desk, proposal["instrument"])
            out["correlated_exposure"] = correlated
            if correlated:
                lines.append("adds to correlated exposure: " + ", ".join(correlated))
            target = proposal.get("target")
            if ok and judged and intent.get("paper_trade") and target:
                goto = "execution"
        if out.get("instruction") == "reduce" and intent.get("kind") in (
            "risk",
            "exposure",
            "positions",
        ):
            lines.append("breach: execution told to reduce every position by half")
            goto = "execution"
        if intent.get("kind") == "report":
            goto = "report"
        update: dict[str, Any] = {
            "results": {NAME: out},
            "portfolio": view,
            "trace": [NAME],
            "messages": [AIMessage("; ".join(lines), name=NAME)],
        }
        if goto == "execution" and proposal is not None and "target" in proposal:
            # Execution trades research's target, which the judge and risk both passed.
            handed: Results = {NAME: out, "target": proposal["target"]}
            update["results"] = handed
        return Command(goto=goto, update=update)

    return risk
