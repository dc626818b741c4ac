"""The Strategy Research agent's tools: typed requests in, typed summaries out. Each opens
the bars from the store; bad parameters, unknown symbols and empty ranges are clear errors."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.settings import Settings
from core.store import Store
from tools.research.backtesters import run_event_driven, run_vectorised
from tools.research.bars import BarSeries, load_bars
from tools.research.fill_model import Costs
from tools.research.metrics import Metrics
from tools.research.ml_config import MlpConfig
from tools.research.report import write_report
from tools.research.strategies import Strategy
from tools.research.sweep import ParamGrid, run_sweep
from tools.research.tracking import Tracker
from tools.research.walk_forward import WalkForwardConfig, walk_forward


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    interval: str = "1d"
    start: str | None = None
    end: str | None = None
    costs: Costs = Costs()
    cash: float = Field(default=100_000.0, gt=0, allow_inf_nan=False)


class BacktestRequest(_Request):
    strategy: Strategy
    engine: Literal["vectorised", "event_driven"] = "event_driven"
    report: bool = True


class BacktestSummary(BaseModel):
    metrics: Metrics
    engine: str
    trades: int
    gate_denied: int | None
    gate_denial_reasons: tuple[str, ...]
    run_id: str
    report: str | None


class SweepRequest(_Request):
    grid: ParamGrid
    backend: Literal["auto", "serial", "processes", "submitit", "slurm"] = Field(
        default="auto",
        description="auto: the SLURM cluster for a sweep of research_cluster_points or more "
        "when one is configured, else this machine's processes.",
    )
    top: int = Field(default=10, ge=1, le=1000)


class SweepSummary(BaseModel):
    executor: str
    """Where it ran: serial, processes, submitit or slurm."""
    trials: int
    refused: int
    best: list[dict[str, object]]
    deflated_sharpe: float
    run_id: str


class WalkForwardRequest(_Request):
    grid: ParamGrid
    train_bars: int = Field(ge=20)
    test_bars: int = Field(ge=5)
    executor: Literal["auto", "local", "slurm"] = Field(
        default="auto",
        description="Where the in-sample scores are computed; auto: the SLURM cluster when "
        "candidates x folds reaches research_cluster_points and one is configured.",
    )


class WalkForwardSummary(BaseModel):
    executor: str
    folds: int
    in_sample_mean_sharpe: float
    out_of_sample: Metrics
    chosen: list[dict[str, object]]


class TrainModelRequest(_Request):
    config: MlpConfig = MlpConfig()
    train_bars: int = Field(default=750, ge=100)
    test_bars: int = Field(default=250, ge=20)
    folds: int = Field(default=5, ge=2, le=20)
    embargo: int = Field(default=10, ge=0)
    name: str = Field(default="mlp", pattern=r"^[A-Za-z0-9_.-]+$")
    executor: Literal["local", "slurm"] = "local"


class TrainModelSummary(BaseModel):
    model_dir: str
    cv: list[dict[str, float]]
    walk_forward_oos: Metrics
    device: str
    executor: str
    registered: str
    """The new version in MLflow's model registry (models:/<name>/<version>); its alias
    `candidate` points at it (models:/<name>@candidate)."""


class CompareRequest(_Request):
    strategies: list[Strategy] = Field(min_length=2, max_length=50)

    @model_validator(mode="after")
    def _distinct(self) -> CompareRequest:
        dumps = [s.model_dump_json() for s in self.strategies]
        if len(set(dumps)) != len(dumps):
            raise ValueError("the strategies to compare must differ")
        return self


class ResearchTools:
    """What the research agent may call; every run is tracked in MLflow."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    @cached_property
    def tracker(self) -> Tracker:
        # Opening MLflow's store takes seconds; a desk that only trades never needs it.
        return Tracker(self.settings)

    def _bars(self, r: _Request) -> BarSeries:
        return load_bars(self.store, r.venue, r.symbol, r.interval, r.start, r.end)

    def backtest(self, request: BacktestRequest) -> BacktestSummary:
        bars = self._bars(request)
        run = run_event_driven if request.engine == "event_driven" else run_vectorised
        result = run(bars, request.strategy, request.costs, request.cash)
        report = None
        if request.report:
            folder = (
                self.settings.data_dir / "reports" / f"{request.strategy.kind}-{bars.data_version}"
            )
            report = write_report(result, f"{bars.instrument_id} {request.strategy.kind}", folder)
        run_id = self.tracker.log_backtest(result, bars, report=report.parent if report else None)
        return BacktestSummary(
            metrics=result.metrics,
            engine=result.engine,
            trades=result.metrics.trades,
            gate_denied=result.gate.denied if result.gate else None,
            gate_denial_reasons=result.gate.denial_reasons if result.gate else (),
            run_id=run_id,
            report=str(report) if report else None,
        )

    def sweep(self, request: SweepRequest) -> SweepSummary:
        from tools.research.cluster import ClusterRun, cluster_config, cluster_configured

        bars = self._bars(request)
        strategies, refused = request.grid.expand()
        backend = request.backend
        if backend == "auto":
            large = len(strategies) >= self.settings.research_cluster_points
            backend = "slurm" if large and cluster_configured(self.settings) else "processes"
        cluster = cluster_config(self.settings) if backend == "slurm" else None
        cluster_run = ClusterRun(cluster.shared_dir) if cluster else None
        frame = run_sweep(
            bars, strategies, request.costs, request.cash, backend=backend,
            submitit_folder=self.settings.data_dir / "submitit", cluster=cluster,
            cluster_run=cluster_run,
        )  # fmt: skip
        run_id = self.tracker.log_sweep(
            frame, bars, request.grid.kind, self.settings.data_dir / "tmp", cluster_run
        )
        top = frame.head(request.top)
        return SweepSummary(
            executor=backend,
            trials=len(frame),
            refused=refused,
            best=[
                {
                    "params": row["params"],
                    "sharpe": row["sharpe"],
                    "total_return": row["total_return"],
                }
                for _, row in top.iterrows()
            ],
            deflated_sharpe=float(frame["deflated_sharpe"].iloc[0]),
            run_id=run_id,
        )

    def walk_forward(self, request: WalkForwardRequest) -> WalkForwardSummary:
        bars = self._bars(request)
        from tools.research.cluster import cluster_config, cluster_configured, scores_on_cluster
        from tools.research.walk_forward import folds_of

        strategies, _ = request.grid.expand()
        config = WalkForwardConfig(train_bars=request.train_bars, test_bars=request.test_bars)
        executor = request.executor
        if executor == "auto":
            work = len(strategies) * len(folds_of(len(bars), config))
            large = work >= self.settings.research_cluster_points
            executor = "slurm" if large and cluster_configured(self.settings) else "local"
        scores = None
        if executor == "slurm":
            scores = scores_on_cluster(
                bars, strategies, request.costs, config, request.cash,
                cluster_config(self.settings),
            )  # fmt: skip
        result = walk_forward(bars, strategies, request.costs, config, request.cash, scores)
        return WalkForwardSummary(
            executor=executor,
            folds=len(result.folds),
            in_sample_mean_sharpe=result.in_sample_mean_sharpe,
            out_of_sample=result.out_of_sample,
            chosen=list(result.folds["chosen"]),
        )

    def train_model(self, request: TrainModelRequest) -> TrainModelSummary:
        from tools.research.training import train_and_save

        bars = self._bars(request)
        name = f"{request.name}-{bars.data_version}"
        args = (request.config, request.folds, request.embargo, request.train_bars,
                request.test_bars, request.costs, request.cash)  # fmt: skip
        if request.executor == "slurm":
            from tools.research.cluster import cluster_config, train_on_cluster

            cluster = cluster_config(self.settings)
            # The node writes the model on the shared directory; the registry copies it.
            folder = cluster.shared_dir / "models" / name
            trained = train_on_cluster(bars, args, folder, cluster)
        else:
            folder = self.settings.data_dir / "models" / name
            trained = train_and_save(bars, *args, folder)
        cv, oos = trained["cv"], Metrics.model_validate(trained["oos"])
        from tools.research.model_registry import ModelRegistry
        from tools.research.tracking import code_version

        ref = ModelRegistry(self.settings).register(
            folder, request.name,
            {"data_version": bars.data_version, "instrument": bars.instrument_id,
             "interval": bars.interval, "code_version": code_version(),
             "oos_sharpe": f"{oos.sharpe:.4f}", "executor": request.executor},
        )  # fmt: skip
        return TrainModelSummary(
            model_dir=str(folder),
            cv=cv,
            walk_forward_oos=oos,
            device=str(trained["device"]),
            registered=ref.uri,
            executor=request.executor,
        )

    def compare(self, request: CompareRequest) -> list[dict[str, object]]:
        bars = self._bars(request)
        rows = []
        for strategy in request.strategies:
            result = run_vectorised(bars, strategy, request.costs, request.cash)
            rows.append({"strategy": strategy.model_dump(), **result.metrics.model_dump()})
        return sorted(rows, key=lambda r: float(str(r["sharpe"])), reverse=True)


__all__ = [
    "BacktestRequest",
    "CompareRequest",
    "ResearchTools",
    "SweepRequest",
    "TrainModelRequest",
    "WalkForwardRequest",
]  # fmt: skip
