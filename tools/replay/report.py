"""The replay's report: the desk against its baselines under the same costs, with bootstrap
intervals, the bull/bear split, what the LLM cost and every decision and gate verdict, and
a verdict in plain words at the top. `report.html` is one self-contained file (plotly's
JavaScript is embedded from the installed package, never fetched), so it opens offline and
as an MLflow artifact; `summary.json` holds the same numbers."""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from tools.replay.baselines import Baselines, Curve, baselines, close_panel, replay_days
from tools.replay.metrics import (
    REGIMES,
    Bootstrap,
    BootstrapConfig,
    Interval,
    RegimeMetrics,
    SeriesMetrics,
    equal_weight_index,
    regime_labels,
)
from tools.replay.models import LlmUsage, ReplayCosts, ReplayRun

LABELS = {
    "desk": "Desk",
    "buy_and_hold": "Buy and hold (equal weight)",
    "random_median": "Random entries (median seed)",
}


def label(name: str) -> str:
    if name.startswith("sma_"):
        return f"Long above the {name.removeprefix('sma_')}-day mean"
    return LABELS.get(name, name)


PERCENT = {"total_return", "annual_return", "max_drawdown"}


class ReportConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    periods_per_year: float = 365.0
    resamples: int = 1_000
    block: float = 20.0
    sma_window: int = 50
    regime_window: int = 200
    random_seeds: int = 50
    random_every: int = 7
    """Days between the random baseline's coin tosses."""


class SeriesSummary(BaseModel):
    name: str
    label: str
    final_equity: float
    metrics: SeriesMetrics
    regimes: dict[str, RegimeMetrics]


class RandomBand(BaseModel):
    seeds: int
    every_days: int
    q05: float
    median: float
    q95: float
    """Quantiles of the seeds' total returns."""
    desk_beat: float
    """Share of the seeds whose total return the desk's exceeded."""


class ReplaySummary(BaseModel):
    start: str
    end: str
    days: int
    universe: list[str]
    router: str
    approvals: str
    cash: float
    costs: ReplayCosts
    seed: int
    config: ReportConfig
    series: list[SeriesSummary]
    """The desk first, then buy-and-hold, the moving-average rule and the random median."""
    random: RandomBand
    excess_vs_buy_and_hold: Interval
    """Desk total return minus buy-and-hold's, with a paired bootstrap 95% interval."""
    beat_buy_and_hold: bool
    difference_is_noise: bool
    """The interval of the difference includes zero."""
    regime_days: dict[str, int]
    llm: LlmUsage
    decisions: int
    fills: int
    verdicts: dict[str, int]
    approvals_answered: dict[str, int]
    notes: list[str]
    verdict: str

    def get(self, name: str) -> SeriesSummary:
        return next(s for s in self.series if s.name == name)


def desk_curve(run: ReplayRun) -> Curve:
    days = replay_days(run)
    equity = pd.Series([m.equity for m in run.marks], index=days, name="desk")
    traded = pd.Series([m.traded_notional for m in run.marks], index=days)
    return Curve("desk", equity, traded)


def _pct(x: float) -> str:
    return f"{x:+.1%}"


def _verdict(summary: ReplaySummary, sma_window: int) -> str:
    desk, hold = summary.get("desk").metrics, summary.get("buy_and_hold").metrics
    d, h = desk.total_return.value, hold.total_return.value
    gap, excess = (d - h) * 100, summary.excess_vs_buy_and_hold
    if d < h:
        head = "The desk did worse than buy-and-hold"
    elif d == h:
        head = "The desk did no better than buy-and-hold"
    else:
        head = "The desk beat buy-and-hold"
    text = [
        f"{head}: it returned {_pct(d)} against {_pct(h)} for holding the universe in equal "
        f"weight under the same costs, {gap:+.1f} percentage points over {summary.days} days."
    ]
    interval = f"[{excess.low * 100:+.1f}, {excess.high * 100:+.1f}] points"
    if summary.difference_is_noise:
        text.append(
            f"The difference is inside the bootstrap 95% interval of the difference, {interval},"
            " which includes zero: over this history it cannot be told apart from luck."
        )
    else:
        side = "below" if excess.high < 0 else "above"
        text.append(
            f"The bootstrap 95% interval of the difference, {interval}, lies wholly {side} "
            "zero: the difference is unlikely to be luck."
        )
    inside = "inside" if hold.total_return.contains(d) else "outside"
    text.append(
        f"The desk's return is {inside} buy-and-hold's own 95% interval "
        f"[{_pct(hold.total_return.low)}, {_pct(hold.total_return.high)}]."
    )
    text.append(
        f"Sharpe {desk.sharpe.value:.2f} against {hold.sharpe.value:.2f}; worst drawdown "
        f"{desk.max_drawdown.value:.1%} against {hold.max_drawdown.value:.1%}."
    )
    sma = summary.get(f"sma_{sma_window}").metrics.total_return.value
    band = summary.random
    text.append(
        f"The {sma_window}-day moving-average rule returned {_pct(sma)}; {band.seeds} random "
        f"long/flat entries returned {_pct(band.q05)} to {_pct(band.q95)} (5-95%, median "
        f"{_pct(band.median)}), and the desk beat {band.desk_beat:.0%} of them."
    )
    return " ".join(text)


def _notes(run: ReplayRun, bars: Mapping[str, pd.DataFrame], days: pd.DatetimeIndex) -> list[str]:
    notes = []
    first = run.marks[0].equity
    if abs(first - run.cash) > 1e-9 * max(run.cash, 1.0):
        notes.append(
            f"The desk's first mark ({first:,.2f}) is not its starting cash ({run.cash:,.2f}): "
            "its returns are measured from that mark, the baselines' from the cash."
        )
    invested = [m.gross / m.equity for m in run.marks if m.equity > 0]
    if invested:
        notes.append(
            f"The desk held {sum(invested) / len(invested):.1%} of its equity in positions on "
            f"average (at most {max(invested):.1%}); buy-and-hold holds all of it. Its returns "
            "are small beside the market's by design as much as by its decisions."
        )
    days_in: dict[str, int] = {}
    for m in run.marks:
        days_in[m.trading_state] = days_in.get(m.trading_state, 0) + 1
    if set(days_in) - {"active"}:
        spent = ", ".join(f"{state} {n}" for state, n in days_in.items())
        moves = "; ".join(
            f"{c.at:%Y-%m-%d} {c.scope} {c.state} by {c.actor} ({c.reason})" for c in run.states[:6]
        )
        notes.append(
            f"The gate's trading state, in days: {spent}. A replay re-arms nothing (only a "
            f"human does), so a desk sent to reducing or halted stays so. Moves: {moves}"
            + (f"; and {len(run.states) - 6} more." if len(run.states) > 6 else ".")
        )
    for instrument in run.universe:
        ts = pd.to_datetime(bars[instrument]["ts"], utc=True).dt.tz_localize(None).dt.normalize()
        missing = int((~days.isin(ts)).sum())
        if missing:
            notes.append(
                f"{instrument}: no bar on {missing} of the {len(days)} replay days (the "
                "baselines cannot trade it then; its slot waits in cash)."
            )
    return notes


def summarise(
    run: ReplayRun,
    bars: Mapping[str, pd.DataFrame],
    seed: int = 0,
    config: ReportConfig | None = None,
) -> tuple[ReplaySummary, list[Curve], Baselines]:
    """The numbers of the report, and the curves they were made from."""
    config = config or ReportConfig()
    if len(run.marks) < 2:
        raise ValueError("a replay needs at least two marked days to be reported")
    base = baselines(
        run, bars, sma_window=config.sma_window, seeds=config.random_seeds,
        every=config.random_every, seed=seed,
    )  # fmt: skip
    desk = desk_curve(run)
    days = replay_days(run)
    curves = [desk, base.buy_and_hold, base.sma, base.random.median]
    boot = Bootstrap(
        BootstrapConfig(periods_per_year=config.periods_per_year, resamples=config.resamples,
                        block=config.block, seed=seed)
    )  # fmt: skip
    index = equal_weight_index(close_panel(bars, run.universe))
    labels = regime_labels(index, days, config.regime_window)
    series = [
        SeriesSummary(
            name=c.name,
            label=label(c.name),
            final_equity=float(c.equity.iloc[-1]),
            metrics=boot.metrics(c.equity, c.traded),
            regimes=boot.regimes(c.equity, c.traded, labels),
        )
        for c in curves
    ]
    excess = boot.difference(desk.equity, base.buy_and_hold.equity)
    final = base.random.final_returns
    desk_return = series[0].metrics.total_return.value
    q05, q50, q95 = np.quantile(final, [0.05, 0.5, 0.95])
    summary = ReplaySummary(
        start=run.start.isoformat(),
        end=run.end.isoformat(),
        days=len(run.marks),
        universe=run.universe,
        router=run.router,
        approvals=run.approvals,
        cash=run.cash,
        costs=run.costs,
        seed=seed,
        config=config,
        series=series,
        random=RandomBand(
            seeds=len(final),
            every_days=config.random_every,
            q05=float(q05),
            median=float(q50),
            q95=float(q95),
            desk_beat=float((desk_return > final).mean()),
        ),
        excess_vs_buy_and_hold=excess,
        beat_buy_and_hold=desk_return > series[1].metrics.total_return.value,
        difference_is_noise=excess.contains(0.0),
        regime_days={r: series[0].regimes[r].days for r in REGIMES},
        llm=run.llm,
        decisions=len(run.decisions),
        fills=len(run.fills),
        verdicts=dict(Counter(v.verdict for v in run.verdicts)),
        approvals_answered=dict(Counter(v.approval for v in run.verdicts if v.approval)),
        notes=_notes(run, bars, days),
        verdict="",
    )
    summary = summary.model_copy(update={"verdict": _verdict(summary, config.sma_window)})
    return summary, curves, base


def _drawdown(equity: pd.Series) -> pd.Series:
    return equity / equity.cummax() - 1


_COLOURS = ("#1f3b99", "#d62728", "#2ca02c", "#9467bd")


def _plotly_charts(curves: Sequence[Curve], band: pd.DataFrame) -> list[str]:
    import plotly.graph_objects as go

    days = band.index.to_numpy()  # arrays, not lists: plotly validates lists item by item
    equity = go.Figure()
    band_colour = "rgba(150, 150, 150, 0.25)"
    equity.add_scatter(x=days, y=band["q05"], line={"width": 0}, showlegend=False)
    equity.add_scatter(
        x=days, y=band["q95"], fill="tonexty", fillcolor=band_colour, line={"width": 0},
        name="Random entries, 5-95%",
    )  # fmt: skip
    drawdown = go.Figure()
    for i, c in enumerate(curves):
        # One colour per series in both charts; the desk drawn first in the legend, thickest.
        line = {"width": 2.5 if c.name == "desk" else 1.2, "color": _COLOURS[i % len(_COLOURS)]}
        name = label(c.name)
        equity.add_scatter(x=days, y=c.equity.to_numpy(), name=name, line=line)
        drawdown.add_scatter(x=days, y=_drawdown(c.equity).to_numpy() * 100, name=name, line=line)
    # Log scale: a desk that holds a few percent of its equity stays visible beside a market
    # that went up tenfold.
    equity.update_layout(title="Equity (log scale)", height=420, margin={"t": 40})
    equity.update_yaxes(type="log")
    drawdown.update_layout(title="Drawdown (%)", height=320, margin={"t": 40})
    return [
        equity.to_html(full_html=False, include_plotlyjs=True),  # embedded once, offline
        drawdown.to_html(full_html=False, include_plotlyjs=False),
    ]


def _png_charts(curves: Sequence[Curve], band: pd.DataFrame) -> list[str]:
    """The same charts as embedded PNGs where plotly is not installed."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})  # fmt: skip
    top.fill_between(band.index, band["q05"], band["q95"], color="grey", alpha=0.25,
                     label="Random entries, 5-95%")  # fmt: skip
    for c in curves:
        width = 2.2 if c.name == "desk" else 1.0
        name = label(c.name)
        top.plot(c.equity.index, c.equity.to_numpy(), lw=width, label=name)
        bottom.plot(c.equity.index, _drawdown(c.equity).to_numpy() * 100, lw=width)
    top.set_title("Equity")
    top.legend(fontsize=8)
    bottom.set_title("Drawdown (%)")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return [f'<img alt="equity and drawdown" src="data:image/png;base64,{data}">']


def _cell(name: str, x: float) -> str:
    if name in PERCENT:
        return f"{x:.1%}"
    return f"{x:.2f}x" if name == "turnover" else f"{x:.2f}"


def _metric_cells(metrics: SeriesMetrics) -> str:
    cells = []
    for name, i in metrics:
        cells.append(
            f"<td>{_cell(name, i.value)}<br><small>[{_cell(name, i.low)}, "
            f"{_cell(name, i.high)}]</small></td>"
        )
    return "".join(cells)


def _table(head: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{th}</tr>{body}</table>"


def _metrics_tables(summary: ReplaySummary) -> str:
    names = list(SeriesMetrics.model_fields)
    th = "".join(f"<th>{n.replace('_', ' ')}</th>" for n in names)
    rows = "".join(
        f"<tr><th>{html.escape(s.label)}</th>{_metric_cells(s.metrics)}</tr>"
        for s in summary.series
    )
    regime_rows = []
    for s in summary.series:
        for regime, part in s.regimes.items():
            cells = _metric_cells(part.metrics) if part.metrics else f"<td colspan={len(names)}>"
            regime_rows.append(
                f"<tr><th>{html.escape(s.label)}</th><td>{regime}</td><td>{part.days}</td>{cells}"
                "</tr>"
            )
    return (
        f"<h2>Metrics (95% bootstrap intervals)</h2><table><tr><th></th>{th}</tr>{rows}</table>"
        f"<h2>By regime</h2><p>Bull: the equal-weight universe closes above its "
        f"{summary.config.regime_window}-day mean as known that day; bear: at or below it. A "
        "day's return counts under the regime known at the previous close.</p>"
        f"<table><tr><th></th><th>regime</th><th>days</th>{th}</tr>{''.join(regime_rows)}</table>"
    )


def _records(run: ReplayRun) -> str:
    decisions = _table(
        ["at", "job", "routed by", "request", "trace", "answers"],
        ([d.at, d.job, d.routed_by, d.request, " > ".join(d.trace), " | ".join(d.answers)]
         for d in run.decisions),
    )  # fmt: skip
    verdicts = _table(
        ["at", "order", "instrument", "side", "quantity", "verdict", "reasons", "approval"],
        ([v.at, v.order_id, v.instrument, v.side, v.quantity, v.verdict, ", ".join(v.reasons),
          v.approval or ""] for v in run.verdicts),
    )  # fmt: skip
    fills = _table(
        ["at", "order", "strategy", "instrument", "side", "quantity", "price", "fee"],
        ([f.at, f.order_id, f.strategy_id, f.instrument, f.side, f.quantity, f.price, f.fee]
         for f in run.fills),
    )  # fmt: skip
    return (
        f"<h2>Gate verdicts ({len(run.verdicts)})</h2>{verdicts}"
        f"<h2>Decisions ({len(run.decisions)})</h2>{decisions}"
        f"<h2>Fills ({len(run.fills)})</h2>{fills}"
    )


def render(run: ReplayRun, summary: ReplaySummary, curves: Sequence[Curve], base: Baselines) -> str:
    try:
        charts = _plotly_charts(curves, base.random.band)
    except ImportError:
        charts = _png_charts(curves, base.random.band)
    costs = run.costs
    llm = run.llm
    setup = _table(
        ["universe", "days", "cash", "router", "approvals", "costs (bps)", "leak probe reads",
         "wall (s)"],
        [[", ".join(run.universe), f"{summary.start} to {summary.end} ({summary.days})",
          f"{run.cash:,.2f}", run.router, run.approvals,
          f"fee {costs.taker_fee_bps}, slippage {costs.slippage_bps}, half spread "
          f"{costs.half_spread_bps}", run.probed_reads, f"{run.wall_s:,.1f}"]],
    )  # fmt: skip
    usage = _table(
        ["calls", "cached", "prompt tokens", "completion tokens", "cost (USD)"],
        [[llm.calls, llm.cached, llm.prompt_tokens, llm.completion_tokens, f"{llm.cost_usd:.4f}"]],
    )
    tallies = _table(
        ["verdicts", "approvals answered"],
        [[", ".join(f"{k}: {v}" for k, v in summary.verdicts.items()) or "none",
          ", ".join(f"{k}: {v}" for k, v in summary.approvals_answered.items()) or "none"]],
    )  # fmt: skip
    notes = "".join(f"<p class=note>{html.escape(n)}</p>" for n in summary.notes)
    band = summary.random
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Desk replay {summary.start} to {summary.end}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse;font-size:12px;margin-bottom:1em}}
td,th{{border:1px solid #ccc;padding:3px 6px;vertical-align:top}}
.verdict{{font-size:17px;border-left:5px solid #c33;padding:.5em 1em;background:#f8f8f8}}
.note{{color:#a60}}</style></head><body>
<h1>Desk replay, {summary.start} to {summary.end}</h1>
<p class="verdict">{html.escape(summary.verdict)}</p>{notes}
<h2>Setup</h2>{setup}
{"".join(charts)}
{_metrics_tables(summary)}
<h2>Random entries</h2><p>{band.seeds} seeds, each instrument long or flat by a coin
re-tossed every {band.every_days} days. Total return 5%: {band.q05:.1%}, median:
{band.median:.1%}, 95%: {band.q95:.1%}.</p>
<h2>LLM usage</h2>{usage}
<h2>Gate</h2>{tallies}
{_records(run)}
</body></html>"""


def write_report(
    run: ReplayRun,
    bars: Mapping[str, pd.DataFrame],
    out_dir: Path,
    seed: int = 0,
    *,
    config: ReportConfig | None = None,
) -> ReplaySummary:
    """Write `report.html` and `summary.json` into `out_dir` and return the summary. `seed`
    draws the random baseline and the bootstrap resamples."""
    summary, curves, base = summarise(run, bars, seed, config)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.html").write_text(render(run, summary, curves, base), encoding="utf-8")
    (out_dir / "summary.json").write_text(summary.model_dump_json(indent=2), encoding="utf-8")
    return summary
