"""`quantdesk gateway ...`: the gate's limits and reason codes, and a gate walk-through."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from uuid import uuid4

import typer
from rich.console import Console
from rich.table import Table

from interfaces.cli import state_commands
from interfaces.cli.settings import get_settings

# The gate (and the store and pandas under it) loads when a command runs, not when the CLI
# starts.
if TYPE_CHECKING:
    from core.store import Store
    from gateway import GateDecision, GateLimits

app = typer.Typer(
    help="The pre-trade gate: limits, reason codes, trading state.", no_args_is_help=True
)
app.command("state")(state_commands.show_state)
app.command("rearm")(state_commands.rearm)
console = Console(width=None if Console().is_terminal else 120)


def configured_limits(path: str | None = None) -> GateLimits:
    """Limits from `path`, else QUANTDESK_LIMITS_PATH, else the packaged defaults; a bad
    file is a clear message and exit code 2."""
    from gateway import LimitsError, load_limits
    from gateway.limits import DEFAULT_LIMITS

    chosen = path or get_settings().limits_path or DEFAULT_LIMITS
    try:
        return load_limits(chosen)
    except LimitsError as exc:
        console.print(f"[red]limits refused:[/] {exc}")
        raise typer.Exit(2) from None


@app.command("limits")
def show_limits(
    file: Annotated[str | None, typer.Option(help="A TOML/YAML limits file to check.")] = None,
) -> None:
    """Validate a limits file (as the Rust gate will) and show it."""
    limits = configured_limits(file)
    account = Table(title=f"Limits {limits.limits_version}", title_justify="left")
    account.add_column("limit")
    account.add_column("value", justify="right")
    for name, value in limits.model_dump(exclude={"instruments", "strategies"}).items():
        account.add_row(name, str(value))
    console.print(account)
    instruments = Table(title="Instruments", title_justify="left")
    columns = ("id", "tick", "lot", "min_quantity", "max_quantity", "max_notional", "max_position")
    for column in (*columns, "tradable"):
        instruments.add_column(column, justify="left" if column == "id" else "right")
    for inst in limits.instruments:
        instruments.add_row(
            *(str(getattr(inst, c)) for c in columns), "yes" if inst.tradable else "no"
        )
    console.print(instruments)


@app.command("codes")
def show_codes() -> None:
    """Every reason code the gate can give (bit k of a batch mask is code k)."""
    from gateway import reason_codes

    table = Table(title="Gate reason codes", title_justify="left")
    table.add_column("bit", justify="right")
    table.add_column("code")
    for bit, code in enumerate(reason_codes()):
        table.add_row(str(bit), code)
    console.print(table)


def decisions_table(rows: list[tuple[str, GateDecision, str]]) -> Table:
    table = Table(title="Gate decisions", title_justify="left")
    for column in ("order", "verdict", "reason codes", "status"):
        table.add_column(column)
    for label, decision, status in rows:
        colour = {"ACCEPT": "green", "DENY": "red"}.get(decision.verdict.value, "yellow")
        table.add_row(
            label,
            f"[{colour}]{decision.verdict.value}[/]",
            ", ".join(decision.reason_codes) or "-",
            status,
        )
    return table


def gate_walkthrough(store: Store, venue: str = "bitstamp", symbol: str = "BTC/USD") -> None:
    """Replay the last real daily bars into the paper venue and send a few orders through
    the gate: an ordinary one, a fat finger, one that needs approval, one outside the collar."""
    import pandas as pd

    from core.models.market import Bar, Interval
    from core.models.trading import Order, OrderType, Side, TimeInForce
    from core.store import MarketDataStore
    from gateway import Gateway

    limits = configured_limits()
    bars = MarketDataStore(store).read_bars(venue, symbol, "1d").tail(5)
    if bars.empty:
        console.print(f"no {venue} {symbol} daily bars stored; load data first")
        return
    last: datetime = pd.Timestamp(bars["ts"].iloc[-1]).to_pydatetime()
    now = last + timedelta(days=1)
    gateway = Gateway(limits, store=store, clock=lambda: now)
    for record in bars.to_dict("records"):
        gateway.on_bar(
            Bar(venue_id=venue, symbol=symbol, interval=Interval.D1,
                ts=pd.Timestamp(record["ts"]).to_pydatetime(), open=record["open"],
                high=record["high"], low=record["low"], close=record["close"],
                volume=record["volume"])
        )  # fmt: skip
    close = float(bars["close"].iloc[-1])

    def order(quantity: float, price: float | None) -> Order:
        return Order(
            client_order_id=f"demo-{uuid4().hex[:10]}",
            strategy_id="manual",
            account_id=limits.account_id,
            venue_id=venue,
            symbol=symbol,
            side=Side.BUY,
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            quantity=quantity,
            limit_price=None if price is None else round(price, 2),
            time_in_force=TimeInForce.IOC if price is None else TimeInForce.GTC,
            created_at=now,
        )

    cases = [
        (f"buy 0.5 market @ ~{close:,.0f}", order(0.5, None)),
        ("buy 0.5 limit 1% below", order(0.5, close * 0.99)),
        ("buy 80 market (fat finger)", order(80, None)),
        (f"buy {60_000 / close:.3f} market (> approval)", order(round(60_000 / close, 5), None)),
        ("buy 0.5 limit 10% above (collar)", order(0.5, close * 1.10)),
    ]
    rows = []
    for label, o in cases:
        decision = gateway.submit(o)
        status = gateway.order_status(o.order_id)
        rows.append((label, decision, status[0] if status else "not taken"))
    console.print(
        f"{venue} {symbol}: last real close {close:,.2f} on {bars['ts'].iloc[-1]:%Y-%m-%d}"
    )
    console.print(decisions_table(rows))
    for position in gateway.positions():
        console.print(
            f"position {position.strategy_id} {position.symbol}: {position.quantity:g} @ "
            f"{position.average_price:,.2f}; cash {gateway.account().cash:,.2f}"
        )
    gateway.close()
