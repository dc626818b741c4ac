"""`quantdesk research ...`: backtests, sweeps, walk-forward and model training on stored bars."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from interfaces.cli.data_commands import open_store
from interfaces.cli.settings import get_settings

# The research tools (pandas, the store, numba, matplotlib, MLflow, torch) load when a
# research command runs, not when the CLI starts.
if TYPE_CHECKING:
    from tools.research.fill_model import Costs
    from tools.research.metrics import Metrics

app = typer.Typer(
    help="Strategy research: backtest, sweep, walk-forward, train.", no_args_is_help=True
)
console = Console(width=None if Console().is_terminal else 120)

Venue = Annotated[str, typer.Option(help="Venue of the stored series.")]
Symbol = Annotated[str, typer.Option(help="Symbol of the stored series.")]
Params = Annotated[list[str] | None, typer.Option("--param", help="name=value, repeatable.")]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            console.print(f"[red]{what} must look like name=value, got {item!r}[/]")
            raise typer.Exit(2)
        out[name] = value
    return out


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]refused:[/] {exc}")
    return typer.Exit(2)


def metrics_table(metrics: Metrics, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.model_dump().items():
        table.add_row(name, f"{value:,.4f}" if isinstance(value, float) else str(value))
    return table


def _costs(commission: float, slippage_bps: float, lot: float) -> Costs:
    from pydantic import ValidationError

    from tools.research.fill_model import Costs

    try:
        return Costs(commission=commission, slippage_bps=slippage_bps, lot=lot)
    except ValidationError as exc:
        raise _fail(exc) from None


@app.command()
def backtest(
    venue: Venue,
    symbol: Symbol,
    strategy: Annotated[str, typer.Option(help="sma_cross, ts_momentum, mean_reversion, donchian")],
    param: Params = None,
    interval: str = "1d",
    start: str | None = None,
    end: str | None = None,
    engine: Annotated[str, typer.Option(help="event_driven or vectorised")] = "event_driven",
    commission: float = 0.001,
    slippage_bps: float = 0.0,
    lot: float = 1e-8,
    cash: float = 100_000.0,
) -> None:
    """Backtest one strategy; writes an HTML report and logs the run to MLflow."""
    from pydantic import TypeAdapter, ValidationError

    from tools.research.agent_tools import BacktestRequest, ResearchTools
    from tools.research.bars import ResearchDataError
    from tools.research.strategies import Strategy

    spec = {"kind": strategy, **{k: _value(v) for k, v in _pairs(param, "--param").items()}}
    try:
        request = BacktestRequest(
            venue=venue, symbol=symbol, interval=interval, start=start, end=end,
            strategy=TypeAdapter(Strategy).validate_python(spec),
            engine=engine,
            costs=_costs(commission, slippage_bps, lot), cash=cash,
        )  # fmt: skip
    except ValidationError as exc:
        raise _fail(exc) from None
    with open_store() as store:
        try:
            summary = ResearchTools(store, get_settings()).backtest(request)
        except ResearchDataError as exc:
            raise _fail(exc) from None
    console.print(metrics_table(summary.metrics, f"{venue}:{symbol} {strategy} ({summary.engine})"))
    if summary.gate_denied:
        console.print(
            f"gate denied {summary.gate_denied}: {', '.join(summary.gate_denial_reasons)}"
        )
    console.print(f"report: {summary.report}\nmlflow run: {summary.run_id}")


@app.command()
def sweep(
    venue: Venue,
    symbol: Symbol,
    strategy: str,
    grid: Annotated[list[str], typer.Option("--grid", help="name=v1,v2,... repeatable.")],
    interval: str = "1d",
    start: str | None = None,
    end: str | None = None,
    executor: Annotated[
        str,
        typer.Option(
            help="local (this machine's processes) or slurm (a job array on the cluster: "
            "`quantdesk services up slurm`, or QUANTDESK_SLURM_CONF)"
        ),
    ] = "local",
    backend: Annotated[
        str, typer.Option(help="with --executor local: processes, serial or submitit")
    ] = "processes",
    commission: float = 0.001,
    lot: float = 1e-8,
    cash: float = 100_000.0,
    top: int = 10,
) -> None:
    """Sweep a parameter grid in parallel; the best row carries its deflated Sharpe."""
    from pydantic import ValidationError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tools.research.agent_tools import ResearchTools
    from tools.research.bars import ResearchDataError, load_bars
    from tools.research.cluster import (
        ClusterError,
        ClusterRun,
        SweepCancelledError,
        cluster_config,
    )
    from tools.research.sweep import ParamGrid, run_sweep

    params = {k: [_value(v) for v in vs.split(",")] for k, vs in _pairs(grid, "--grid").items()}
    try:
        strategies, refused = ParamGrid(kind=strategy, params=params).expand()
    except (ValidationError, ValueError) as exc:
        raise _fail(exc) from None
    costs = _costs(commission, 0.0, lot)
    with open_store() as store:
        try:
            bars = load_bars(store, venue, symbol, interval, start, end)
        except ResearchDataError as exc:
            raise _fail(exc) from None
        if executor not in ("local", "slurm"):
            raise _fail(ValueError(f"--executor is local or slurm, not {executor!r}"))
        cluster = cluster_config(get_settings()) if executor == "slurm" else None
        cluster_run = ClusterRun(cluster.shared_dir) if cluster else None
        columns = (TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("sweep", total=None)
            try:
                frame = run_sweep(
                    bars, strategies, costs, cash,
                    backend="slurm" if cluster else backend,  # type: ignore[arg-type]
                    submitit_folder=get_settings().data_dir / "submitit", cluster=cluster,
                    cluster_run=cluster_run,
                    on_progress=lambda done, total: progress.update(
                        task, completed=done, total=total
                    ),
                    on_retry=lambda retry: progress.console.print(f"[yellow]slurm:[/] {retry}"),
                )  # fmt: skip
            except (ClusterError, SweepCancelledError) as exc:
                raise _fail(exc) from None
        tools = ResearchTools(store, get_settings())
        run_id = tools.tracker.log_sweep(
            frame, bars, strategy, get_settings().data_dir / "tmp", cluster_run
        )
    table = Table(title=f"{len(frame)} tried, {refused} refused; best first", title_justify="left")
    for column in ("params", "sharpe", "total_return", "max_drawdown", "trades"):
        table.add_column(column, justify="left" if column == "params" else "right")
    for _, row in frame.head(top).iterrows():
        shown = {k: v for k, v in row["params"].items() if k not in ("kind", "allow_short")}
        table.add_row(json.dumps(shown), f"{row['sharpe']:.3f}", f"{row['total_return']:.2%}",
                      f"{row['max_drawdown']:.2%}", str(row["trades"]))  # fmt: skip
    console.print(table)
    console.print(f"deflated Sharpe of the best: {frame['deflated_sharpe'].iloc[0]:.3f}")
    console.print(f"mlflow run: {run_id}")


@app.command("walk-forward")
def walk_forward_command(
    venue: Venue,
    symbol: Symbol,
    strategy: str,
    grid: Annotated[list[str], typer.Option("--grid", help="name=v1,v2,... repeatable.")],
    train_bars: int = 500,
    test_bars: int = 250,
    interval: str = "1d",
    commission: float = 0.001,
    lot: float = 1e-8,
    executor: Annotated[
        str, typer.Option(help="auto, local, or slurm (the in-sample scores as a job array)")
    ] = "auto",
) -> None:
    """Pick the best of a grid on each training window; trade it on the next test window."""
    from pydantic import ValidationError

    from tools.research.agent_tools import ResearchTools, WalkForwardRequest
    from tools.research.bars import ResearchDataError
    from tools.research.sweep import ParamGrid

    params = {k: [_value(v) for v in vs.split(",")] for k, vs in _pairs(grid, "--grid").items()}
    try:
        request = WalkForwardRequest(
            venue=venue, symbol=symbol, interval=interval, costs=_costs(commission, 0.0, lot),
            grid=ParamGrid(kind=strategy, params=params), train_bars=train_bars,
            test_bars=test_bars, executor=executor,
        )  # fmt: skip
    except ValidationError as exc:
        raise _fail(exc) from None
    from tools.research.cluster import ClusterError

    with open_store() as store:
        try:
            summary = ResearchTools(store, get_settings()).walk_forward(request)
        except (ResearchDataError, ValueError, ClusterError) as exc:
            raise _fail(exc) from None
    console.print(
        f"{summary.folds} folds ({summary.executor}); in-sample mean Sharpe "
        f"{summary.in_sample_mean_sharpe:.3f}"
    )
    console.print(metrics_table(summary.out_of_sample, "Out of sample (test windows chained)"))


@app.command()
def train(
    venue: Venue,
    symbol: Symbol,
    interval: str = "1d",
    epochs: int = 40,
    train_bars: int = 750,
    test_bars: int = 250,
    executor: Annotated[str, typer.Option(help="local, or slurm (one job on the cluster)")] = (
        "local"
    ),
) -> None:
    """Train the MLP signal: purged k-fold CV, walk-forward out-of-sample, then save it."""
    from pydantic import ValidationError

    from tools.research.agent_tools import ResearchTools, TrainModelRequest
    from tools.research.bars import ResearchDataError
    from tools.research.cluster import ClusterError
    from tools.research.ml_config import MlpConfig

    try:
        request = TrainModelRequest(
            venue=venue, symbol=symbol, interval=interval,
            config=MlpConfig(epochs=epochs), train_bars=train_bars, test_bars=test_bars,
            executor=executor,
        )  # fmt: skip
    except ValidationError as exc:
        raise _fail(exc) from None
    with open_store() as store:
        try:
            summary = ResearchTools(store, get_settings()).train_model(request)
        except (ResearchDataError, ValueError, ClusterError) as exc:
            raise _fail(exc) from None
    for k, fold in enumerate(summary.cv):
        console.print(f"fold {k}: accuracy {fold['accuracy']:.3f}, log loss {fold['log_loss']:.4f}")
    console.print(
        metrics_table(summary.walk_forward_oos, f"Walk-forward out of sample ({summary.device})")
    )
    console.print(f"model: {summary.model_dir}")
    name = summary.registered.split("/")[1]
    console.print(
        f"registered: {summary.registered} (alias candidate: models:/{name}@candidate; "
        f"`quantdesk research alias {name} champion <version>` promotes a version)"
    )


@app.command("models")
def models_command(
    name: Annotated[str, typer.Argument(help="A registered model.")] = "mlp",
) -> None:
    """The versions of a registered model, with their aliases and data versions."""
    from tools.research.model_registry import ModelRegistry

    table = Table(title=f"models:/{name}", title_justify="left")
    for column in ("version", "aliases", "data version", "run"):
        table.add_column(column)
    for ref in ModelRegistry(get_settings()).versions(name):
        table.add_row(ref.version, ", ".join(ref.aliases), ref.data_version or "", ref.run_id)
    console.print(table)


@app.command("alias")
def alias_command(
    name: Annotated[str, typer.Argument(help="A registered model.")],
    alias: Annotated[str, typer.Argument(help="champion, paper, live, ...")],
    version: Annotated[str, typer.Argument(help="The version the alias names from now.")],
) -> None:
    """Point an alias of a registered model at a version: strategies that load
    models:/<name>@<alias> use it from their next run."""
    from tools.research.model_registry import ModelRegistry, ModelRegistryError

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", alias) or alias.isdigit():
        raise _fail(ValueError(f"an alias is letters, digits, _ or -, not all digits: {alias!r}"))
    try:
        ref = ModelRegistry(get_settings()).set_alias(name, alias, version)
    except ModelRegistryError as exc:
        raise _fail(exc) from None
    console.print(
        f"models:/{name}@{alias} -> version {ref.version} (aliases: {', '.join(ref.aliases)})"
    )
