"""Judge: scores the other agents' outputs with deterministic metrics and a rubric; the PM
uses the scores. Also the Performance Evaluation view per strategy."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.types import Command

from agents.desk import Desk
from agents.results import JudgeVerdict, Proposal, proposal_of
from agents.state import DeskState, Node, finish
from tools.lifecycle import Lifecycle, Stage

NAME = "judge"


def _num(value: object, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) else default


def rubric(p: Proposal) -> dict[str, bool]:
    """Deterministic checks a proposal must pass; the score is the share passed."""
    oos, ins = _num(p.get("oos_sharpe")), _num(p.get("in_sample_sharpe"))
    return {
        "has out-of-sample evidence": p.get("oos_sharpe") is not None,
        "out-of-sample Sharpe > 0": oos > 0,
        "out-of-sample within half of in-sample": oos >= 0.5 * ins,
        "drawdown shallower than 50%": _num(p.get("expected_max_drawdown"), -1.0) > -0.5,
        "at least 10 trades": _num(p.get("trades")) >= 10,
    }


def score_proposal(proposal: Proposal | None) -> JudgeVerdict:
    """The rubric's verdict; with no proposal (research did not run) nothing passes."""
    checks = rubric(proposal) if proposal is not None else {}
    score = sum(checks.values()) / len(checks) if checks else 0.0
    return {"score": score, "checks": checks, "passed": score >= 0.8}


def performance_view(desk: Desk) -> list[dict[str, Any]]:
    """Performance Evaluation per strategy: PnL, ROI on the capital it holds, capital
    efficiency (PnL per unit of gross exposure), fees; from the gateway's ledger."""
    rows: dict[str, dict[str, float]] = {}
    for p in desk.gateway.positions():
        row = rows.setdefault(p.strategy_id, {"pnl": 0.0, "capital": 0.0, "gross": 0.0})
        row["pnl"] += p.realized_pnl + p.unrealized_pnl
        row["capital"] += abs(p.quantity * p.average_price)
        row["gross"] += abs(p.quantity) * (
            p.average_price + p.unrealized_pnl / p.quantity if p.quantity else 0.0
        )
    return [
        {
            "strategy": name, "pnl": r["pnl"],
            "roi": r["pnl"] / r["capital"] if r["capital"] else 0.0,
            "capital_efficiency": r["pnl"] / r["gross"] if r["gross"] else 0.0,
        }
        for name, r in sorted(rows.items())
    ]  # fmt: skip


def node(desk: Desk) -> Node:
    def judge(state: DeskState) -> Command[Literal["risk"]]:
        proposal = proposal_of(state.get("results", {}))
        verdict = score_proposal(proposal)
        key = proposal.get("key") if proposal else None
        if key and Lifecycle(desk.store).stage(key) == "proposed":
            stage: Stage = "scored" if verdict["passed"] else "rejected"
            Lifecycle(desk.store).record(key, stage, NAME, f"score {verdict['score']:.2f}", verdict)
        failed = [name for name, ok in verdict["checks"].items() if not ok]
        text = f"score {verdict['score']:.2f}" + (
            f"; failed: {', '.join(failed)}" if failed else ""
        )
        return finish(NAME, verdict, text, goto="risk")

    return judge
