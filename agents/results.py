"""The PM graph's state, typed: the routed intent, what each agent leaves under `results`,
the portfolio snapshot risk took, and the approval records.

They are TypedDicts over plain dicts, not pydantic models in the state. The SQLite
checkpointer's serializer (langgraph-checkpoint 4.3, serde/jsonplus.py) stores a pydantic
model as its class path and revives it as an "unregistered type": loading it logs
"Deserializing unregistered type ... This will be blocked in a future version", and under
LANGGRAPH_STRICT_MSGPACK=true it comes back as a bare dict. Plain dicts round-trip silently,
are the very JSON the API, the evals and the tests read, and mypy checks every key read.

Where a dict comes from a pydantic model or a dataclass (`model_dump()`, `asdict()`), a
`Check` validates it into its TypedDict; every one forbids unknown keys, so a model and its
mirror here cannot drift apart unnoticed. The interfaces' read of a turn's results goes
through `check_results` too."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Final, Generic, Literal, NotRequired, TypeVar, final

from pydantic import ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic validates only this one on Python 3.11

from core.models.enums import RouterName
from core.models.intent import IntentKind, RefusedPart

T = TypeVar("T")
RESET: Final = "__reset__"
"""A `results` update carrying it starts the turn's results afresh (see agents/state.py)."""
_STRICT = with_config(ConfigDict(extra="forbid"))


# The routed intent: `core.models.intent.Intent.model_dump()`.


@final
@_STRICT
class RefusalRecord(TypedDict):
    subject: RefusedPart
    given: str
    reason: str


@final
@_STRICT
class IntentRecord(TypedDict):
    kind: IntentKind
    symbol: str | None
    side: Literal["buy", "sell"] | None
    quantity: float | None
    limit_price: float | None
    fraction: float | None
    strategy: str | None
    stage: Literal["paper", "live"] | None
    paper_trade: bool
    dataset: str | None
    router: RouterName
    router_note: str | None
    refusal: RefusalRecord | None
    question: str | None


# What several agents answer when they cannot do what was asked.


@final
@_STRICT
class ErrorResult(TypedDict):
    error: str


@final
@_STRICT
class PmResult(TypedDict):
    """The PM refused the request as unreadable; interfaces answer this one line."""

    refused: str


# research -> judge -> risk -> execution


@final
@_STRICT
class Target(TypedDict):
    """What research proposes to trade on paper, once the judge and risk agree."""

    key: str
    side: Literal["buy", "sell"]
    quantity: float
    symbol: str
    """`venue:SYMBOL`."""
    strategy_id: str
    risk_class: str
    retire: NotRequired[list[str]]
    """Strategies chosen before for this instrument whose positions close first, so one
    strategy at a time holds it."""


@final
@_STRICT
class Proposal(TypedDict):
    instrument: str
    strategy: dict[str, Any]
    """The strategy's `model_dump()` (tools.research.strategies): its `kind` and parameters."""
    in_sample_sharpe: float
    oos_sharpe: float
    expected_sharpe: float
    expected_max_drawdown: float
    expected_volatility: float
    trades: int
    folds: int
    latest_weight: float
    risk_class: NotRequired[str]
    not_tradable: NotRequired[str]
    """Why no risk class takes the strategy: then there is no target."""
    target: NotRequired[Target]
    key: NotRequired[str]
    memory: NotRequired[list[str]]
    """Earlier research notes on the instrument."""


ResearchResult = Proposal | ErrorResult


@final
@_STRICT
class JudgeVerdict(TypedDict):
    score: float
    checks: dict[str, bool]
    passed: bool


# risk: `tools.risk.PortfolioRisk.model_dump()` and what risk adds to it.


@final
@_STRICT
class PositionView(TypedDict):
    strategy: str
    instrument: str
    quantity: float
    average_price: float
    realized_pnl: float
    unrealized_pnl: float


@final
@_STRICT
class ExposureBreachView(TypedDict):
    gross: float
    limit: float
    fraction: float
    use: float
    breached: bool


@final
@_STRICT
class PortfolioView(TypedDict):
    """The risk engine's view of the book; also the state's `portfolio` snapshot."""

    positions: list[PositionView]
    cash: float
    equity: float
    gross_exposure: float
    net_exposure: float
    annual_volatility: float
    var_95: float
    expected_shortfall_95: float
    correlations: dict[str, dict[str, float]]
    trading_state: str
    limits_version: str
    max_gross_exposure: float
    exposure_breach: ExposureBreachView


@final
@_STRICT
class FillAnomalies(TypedDict):
    checked: int
    flagged: list[str]
    """Fill ids."""
    note: NotRequired[str]


@final
@_STRICT
class DecayRecord(TypedDict):
    """`tools.decay.DecayCheck`, as `asdict()` writes it."""

    key: str
    stage: str
    days: int
    realised_sharpe: float | None
    backtest_sharpe: float
    demoted: bool


@final
@_STRICT
class RiskResult(TypedDict):
    view: PortfolioView
    decay: list[DecayRecord]
    anomalies: NotRequired[FillAnomalies]
    instruction: NotRequired[Literal["reduce", "halt"]]
    """What execution must do; risk instructs "reduce" on a breach, execution obeys both."""
    market_correlations: NotRequired[dict[str, dict[str, float]]]
    proposal_ok: NotRequired[bool]
    concerns: NotRequired[list[str]]
    correlated_exposure: NotRequired[list[str]]
    custody: NotRequired[dict[str, Any]]
    """The vault against the ledger (tools/custody/reconcile.py), when Fireblocks is set up."""


# data


@final
@_STRICT
class Loaded(TypedDict):
    """One bundled dataset through quality control."""

    stored: int
    quarantined: int
    already_held: int


@final
@_STRICT
class ResearchIngest(TypedDict):
    """The dataset research asked the data agent for, when it had no bars."""

    dataset: str
    stored: int
    quarantined: int
    already_held: int


@final
@_STRICT
class LastClose(TypedDict):
    close: float
    at: str
    """The bar's date, ISO."""


@final
@_STRICT
class Prices(TypedDict):
    prices: dict[str, LastClose | None]
    """Per instrument id; None when it has no bars."""


DataResult = dict[str, Loaded] | Prices | ResearchIngest | ErrorResult
"""Datasets loaded (by name), a price request's last closes, or research's ingest."""


# monitor, report


@final
@_STRICT
class Health(TypedDict):
    store_rows: dict[str, int]
    series: int
    stale_traded_series: list[str]
    gateway_state: str
    open_orders: int
    desk_time: str
    healthy: bool


@final
@_STRICT
class ReportFiles(TypedDict):
    markdown: str
    html: str


# execution and the approval step: the order tools' results' `model_dump()`.


@final
@_STRICT
class ExecutionReportRecord(TypedDict):
    order_id: str
    symbol: str
    """`venue:symbol`."""
    side: str
    quantity: float
    verdict: str
    reasons: list[str]
    status: str
    filled: float


@final
@_STRICT
class Reduced(TypedDict):
    """A reduce, close or flatten: one report per reduce-only order sent."""

    reduced: list[ExecutionReportRecord]


@final
@_STRICT
class Canceled(TypedDict):
    canceled: list[str]
    """Order ids."""


@final
@_STRICT
class Halted(TypedDict):
    halted: Literal[True]
    canceled: list[str]


ExecutionResult = ExecutionReportRecord | Reduced | Canceled | Halted | ErrorResult


@final
@_STRICT
class PendingOrder(TypedDict):
    """The order the gate parked for approval, until the approval step answers it."""

    order: dict[str, Any]
    """`core.models.trading.Order` as JSON; the approval step validates it back."""
    target_key: str | None
    """The strategy research proposed, when the order is its first."""
    requested_at: NotRequired[str]
    """ISO, when execution parked it (older versions did not write it: it counts expired)."""


@final
@_STRICT
class ApprovalRecord(TypedDict):
    """One human answer to an approval, as the audit log also records it."""

    order_id: str
    decision: Literal["approve", "edit", "reject", "repeat"]
    """"repeat": the same person approving twice where two distinct approvers are needed."""
    approver: str
    reason: str
    at: str
    """ISO."""
    expired: bool


@_STRICT
class Results(TypedDict, total=False):
    """Each agent's output this turn, keyed by agent (the approval step writes `execution`).
    `target` and `pending_order` are handed from one node to the next."""

    __reset__: bool
    """Only in an update: the turn's results start afresh (agents.state.merge)."""
    pm: PmResult
    research: ResearchResult
    judge: JudgeVerdict
    risk: RiskResult
    target: Target
    data: DataResult
    monitor: Health
    report: ReportFiles
    execution: ExecutionResult
    pending_order: PendingOrder


AgentResult = (
    PmResult
    | ResearchResult
    | JudgeVerdict
    | RiskResult
    | DataResult
    | Health
    | ReportFiles
    | ExecutionResult
)
"""What one agent leaves under its name."""


def proposal_of(results: Results) -> Proposal | None:
    """This turn's research proposal; None when research did not run or could not."""
    found = results.get("research")
    return None if found is None or "error" in found else found


class Check(Generic[T]):
    """Validates a dict into its TypedDict `T`. The schema is built on first use, so
    importing the graph pays nothing for it."""

    def __init__(self, kind: Any) -> None:
        self._kind = kind

    @cached_property
    def _adapter(self) -> TypeAdapter[T]:
        return TypeAdapter(self._kind)

    def __call__(self, value: object) -> T:
        return self._adapter.validate_python(value)


check_intent: Check[IntentRecord] = Check(IntentRecord)
check_portfolio: Check[PortfolioView] = Check(PortfolioView)
check_decay: Check[list[DecayRecord]] = Check(list[DecayRecord])
check_execution: Check[ExecutionResult] = Check(ExecutionResult)
"""For the order tools' results: `check_execution(result.model_dump())`."""
check_results: Check[Results] = Check(Results)
"""For whoever reads a turn's results out of the graph (graph/session.py)."""
