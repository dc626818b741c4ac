"""HTML reports with PNG plots: equity curve, drawdown, monthly returns heatmap, the trade
list and the metrics table."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tools.research.metrics import drawdown
from tools.research.results import BacktestResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def use_agg() -> None:
    """Selects matplotlib's Agg backend (files only; no display on servers or in CI). Called
    just before `import matplotlib.pyplot` where a plot is drawn: matplotlib takes a large
    share of a second to import, so it is not imported when the desk or the CLI starts."""
    import matplotlib

    matplotlib.use("Agg")


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Year x month table of returns."""
    month_end = equity.resample("ME").last()
    returns = month_end.pct_change()
    returns.iloc[0] = month_end.iloc[0] / equity.iloc[0] - 1
    index = pd.DatetimeIndex(returns.index)
    table = pd.DataFrame({"year": index.year, "month": index.month, "r": returns.to_numpy()})
    return table.pivot(index="year", columns="month", values="r")


def _save(fig: Figure, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def write_report(result: BacktestResult, title: str, out_dir: Path) -> Path:
    """Write `index.html` and its PNGs into `out_dir`; returns the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    use_agg()
    import matplotlib.pyplot as plt

    equity = result.equity
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot(equity.index, equity.to_numpy(), lw=1.2)
    ax.set_title("Equity")
    ax.grid(alpha=0.3)
    equity_png = _save(fig, out_dir / "equity.png")

    fig, ax = plt.subplots(figsize=(10, 2.5))
    dd = drawdown(equity.to_numpy())
    ax.fill_between(equity.index, dd * 100, 0, color="tab:red", alpha=0.4)
    ax.set_title("Drawdown (%)")
    ax.grid(alpha=0.3)
    drawdown_png = _save(fig, out_dir / "drawdown.png")

    table = monthly_returns(equity)
    fig, ax = plt.subplots(figsize=(10, max(2.0, 0.35 * len(table) + 1)))
    values = table.to_numpy() * 100
    limit = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
    image = ax.imshow(values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(len(table.columns)), [f"{m:02d}" for m in table.columns])
    ax.set_yticks(range(len(table.index)), [str(y) for y in table.index])
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label="%")
    ax.set_title("Monthly returns (%)")
    monthly_png = _save(fig, out_dir / "monthly_returns.png")

    metrics = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{v:,.4f}</td></tr>"
        if isinstance(v, float)
        else f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>"
        for k, v in result.metrics.model_dump().items()
    )
    gate = ""
    if result.gate is not None:
        gate = (
            f"<p>Gate: {result.gate.orders} orders, {result.gate.denied} denied "
            f"({html.escape(', '.join(result.gate.denial_reasons)) or 'none'}), "
            f"{result.gate.needs_approval} waiting for approval.</p>"
        )
    trades = result.trades.to_html(index=False, float_format=lambda x: f"{x:,.4f}", max_rows=500)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p>Engine: {html.escape(result.engine)}.
Parameters: <code>{html.escape(str(result.params))}</code></p>
{gate}
<h2>Metrics</h2><table>{metrics}</table>
<h2>Equity</h2><img src="{equity_png}" alt="equity curve">
<img src="{drawdown_png}" alt="drawdown">
<h2>Monthly returns</h2><img src="{monthly_png}" alt="monthly returns heatmap">
<h2>Trades</h2>{trades}
</body></html>"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
