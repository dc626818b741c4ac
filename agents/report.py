"""Report: the desk report in Markdown and HTML with a plot, from what risk, monitor,
research and execution found, opened by a summary: the LLM's when one is configured and its
text is grounded in the figures, a template's otherwise (agents/narrative.py)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from langgraph.types import Command

from agents.desk import Desk
from agents.judge import performance_view
from agents.narrative import facts, summary
from agents.results import ReportFiles, Results, proposal_of
from agents.state import DeskState, Node, finish
from tools.research.report import use_agg

NAME = "report"


def write(desk: Desk, results: Results, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    view = results.get("risk", {}).get("view", {})
    health = results.get("monitor", {})
    positions = [p for p in view.get("positions", []) if p["quantity"]]
    use_agg()
    import matplotlib.pyplot as plt  # loaded when a report is drawn, not when the desk starts

    fig, ax = plt.subplots(figsize=(8, 3))
    labels = [f"{p['strategy']}\n{p['instrument']}" for p in positions] or ["(none)"]
    values = [p["quantity"] * p["average_price"] for p in positions] or [0.0]
    ax.bar(labels, values, color=["tab:green" if v >= 0 else "tab:red" for v in values])
    ax.set_title("Positions at cost")
    fig.tight_layout()
    fig.savefig(folder / "positions.png", dpi=110)
    plt.close(fig)
    performance = performance_view(desk)
    text, author = summary(desk.settings, facts(results, performance))
    lines = [
        f"# Desk report, {desk.now:%Y-%m-%d %H:%M} UTC (desk time)",
        "",
        "## Summary",
        "",
        f"{text} (written by: {author})",
        "",
        f"Equity {view.get('equity', 0):,.2f}; cash {view.get('cash', 0):,.2f}; gross exposure "
        f"{view.get('gross_exposure', 0):,.2f}; net {view.get('net_exposure', 0):,.2f}; "
        f"VaR95 {view.get('var_95', 0):,.2f}; ES95 {view.get('expected_shortfall_95', 0):,.2f}; "
        f"trading state {view.get('trading_state', '?')} "
        f"(limits {view.get('limits_version', '?')}).",
        "",
        "## Positions",
        "",
        "| strategy | instrument | quantity | avg price | realised | unrealised |",
        "|---|---|---|---|---|---|",
        *(
            f"| {p['strategy']} | {p['instrument']} | {p['quantity']:g} | "
            f"{p['average_price']:,.2f} | "
            f"{p['realized_pnl']:,.2f} | {p['unrealized_pnl']:,.2f} |"
            for p in positions
        ),
        "",
        "## Health",
        "",
        f"Gateway {health.get('gateway_state', '?')}, {health.get('open_orders', 0)} open orders; "
        f"stale traded series: {', '.join(health.get('stale_traded_series', [])) or 'none'}.",
        "",
        "![positions](positions.png)",
    ]
    if performance:
        lines += ["", "## Performance by strategy (judge)", "",
                  "| strategy | PnL | ROI | capital efficiency |", "|---|---|---|---|",
                  *(f"| {r['strategy']} | {r['pnl']:,.2f} | {r['roi']:.2%} | "
                    f"{r['capital_efficiency']:.2%} |" for r in performance)]  # fmt: skip
    r = proposal_of(results)
    if r:
        lines += [
            "",
            "## Research",
            "",
            f"{r.get('instrument')} {r.get('strategy', {}).get('kind')}: "
            f"out-of-sample Sharpe {r.get('oos_sharpe', 0):.2f}.",
        ]
    markdown = "\n".join(lines) + "\n"
    md_path = folder / "report.md"
    md_path.write_text(markdown, encoding="utf-8")
    body = "".join(
        f"<p>{html.escape(line)}</p>" for line in lines if line and not line.startswith("!")
    )
    html_path = folder / "report.html"
    html_path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Desk report</title></head>"
        f"<body>{body}<img src='positions.png' alt='positions'></body></html>",
        encoding="utf-8",
    )
    return md_path, html_path


def node(desk: Desk) -> Node:
    def report(state: DeskState) -> Command[Literal["__end__"]]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        folder = desk.settings.data_dir / "reports" / f"desk-{stamp}"
        md, page = write(desk, state.get("results", {}), folder)
        files: ReportFiles = {"markdown": str(md), "html": str(page)}
        return finish(NAME, files, f"report written: {md}")

    return report
