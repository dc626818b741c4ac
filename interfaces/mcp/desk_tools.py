"""The desk as MCP tools (the `mcp` package's MCPServer): what other agents and assistants may
read and propose. Nothing here acts on its own: an order, a halt or a research run is a
request to the PM graph, exactly as a chat turn (`DeskHost.ask`), so the gate, the approval
flow and the audit log treat it as they treat the API's. Each call names the least role it
needs (the API's key roles) and leaves an `mcp.call` audit row, refused or not.

Who calls: over streamable HTTP, the `X-API-Key` header of each request (the app refuses a
request without a known key before any tool runs); over stdio, the key the process was
started with (`QUANTDESK_MCP_API_KEY`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar, cast

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from agents.desk import Desk
from graph.session import NotWaitingError
from graph.supervisor import refused
from interfaces import views
from interfaces.api.keys import Caller, KeyRing, Role
from interfaces.api.models import PendingOut, TurnOut
from interfaces.desk_host import DeskHost, ThreadBusyError
from interfaces.panels import limits_use, market
from knowledge.memory.store import Collection

T = TypeVar("T")
ThreadId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="Conversation id; one per request")
]
Symbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9/:._-]{1,40}$", description="BTC, BTC/USD")]
Quantity = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
ACTOR_PREFIX = "mcp:"


class Gatekeeper:
    """Who is calling, whether their role may, and the audit row for every call."""

    def __init__(self, host: DeskHost, keys: KeyRing, stdio_caller: Caller | None) -> None:
        self.host = host
        self.keys = keys
        self.stdio_caller = stdio_caller

    def caller(self, ctx: Context) -> Caller:
        request = ctx.request_context.request
        if request is None:  # stdio: the key the process was started with
            if self.stdio_caller is None:
                raise ToolError("no caller: start `quantdesk mcp` with QUANTDESK_MCP_API_KEY")
            return self.stdio_caller
        found = self.keys.identify(request.headers.get("x-api-key"))
        if found is None:  # the app's middleware refuses these first; kept for safety
            raise ToolError("missing or unknown API key")
        return found

    def run(
        self, ctx: Context, tool: str, role: Role, arguments: dict[str, Any], work: Callable[[], T]
    ) -> T:
        caller = self.caller(ctx)

        def audit(outcome: str) -> None:
            payload = {"tool": tool, "arguments": arguments, "outcome": outcome}
            self.host.record("mcp.call", payload, f"{ACTOR_PREFIX}{caller.name}")

        if caller.role < role:
            audit("refused: role")
            raise ToolError(f"{caller.name} is a {caller.role.name}; {tool} needs {role.name}")
        try:
            result = work()
        except ToolError as exc:
            audit(f"refused: {exc}")
            raise
        audit("ok")
        return result


def _plain(value: T) -> T:
    # Views hold numpy scalars and timestamps; JSON via str keeps every figure.
    return cast(T, json.loads(json.dumps(value, default=str)))


def _not_done(execution: object) -> str | None:
    """Why an order the PM took up went nowhere (the desk could not make it, or the gate
    denied it): the caller hears it as a failed call, not buried in a result."""
    if not isinstance(execution, dict):
        return None
    if execution.get("error"):
        return str(execution["error"])
    if execution.get("verdict") == "DENY":
        reasons = ", ".join(execution.get("reasons") or []) or "no reason given"
        return f"the risk gate denied the order: {reasons}"
    return None


def _without_root_logging(make: Callable[[], MCPServer]) -> MCPServer:
    """`make()`, with the root logger left as it was. MCPServer configures the process's root
    logger (a Rich handler at INFO) when nothing has yet; that is the host's choice (the CLI
    makes it), and an unasked INFO line per HTTP request through Rich tripled the API's own
    overhead per request (benchmarks/RESULTS.md, issue 17's fourth stop)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return make()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def build_server(host: DeskHost, keys: KeyRing, stdio_caller: Caller | None = None) -> MCPServer:
    """The desk's MCP server around `host` (the same desk the HTTP API serves)."""
    gate = Gatekeeper(host, keys, stdio_caller)
    server = _without_root_logging(
        lambda: MCPServer(
            "quantdesk",
            instructions="A trading desk. Read tools need a viewer key; proposals (orders, "
            "halts, research) need a trader key and go through the desk's PM, risk gate and "
            "human approvals exactly as a chat request does; answering approvals needs an "
            "approver.",
        )
    )

    def turn(ctx: Context, tool: str, args: dict[str, Any], text: str, thread_id: str) -> TurnOut:
        def work() -> TurnOut:
            try:
                done = host.ask(text, thread_id)
            except ThreadBusyError as exc:
                raise ToolError(str(exc)) from None
            line = refused(done.results) or _not_done(done.results.get("execution"))
            if line is not None:
                raise ToolError(line)
            return TurnOut.of(done)

        return gate.run(ctx, tool, Role.trader, args, work)

    def rows(label: str, fetch: Callable[[Desk], Sequence[BaseModel]]) -> list[dict[str, Any]]:
        try:
            found = host.read(fetch)
        except Exception as exc:  # Neo4j's and Qdrant's own errors say what is missing
            raise ToolError(f"{label}: {exc}") from None
        return [f.model_dump(mode="json") for f in found]

    @server.tool()
    def positions(ctx: Context) -> list[dict[str, Any]]:
        """The desk's open positions."""
        return gate.run(
            ctx, "positions", Role.viewer, {}, lambda: _plain(host.read(views.positions))
        )

    @server.tool()
    def exposure_and_risk(ctx: Context) -> dict[str, Any]:
        """Exposure per instrument, each limit's use, VaR / ES, volatility and the trading
        state (ACTIVE, REDUCING, HALTED)."""

        def work() -> dict[str, Any]:
            return _plain(
                {"exposure": host.read(limits_use.exposure),
                 "limits": host.read(limits_use.limits_use), "risk": host.read(views.risk)}
            )  # fmt: skip

        return gate.run(ctx, "exposure_and_risk", Role.viewer, {}, work)

    @server.tool()
    def pnl(ctx: Context) -> dict[str, Any]:
        """Equity, cash, realised and unrealised PnL and the equity curve."""
        return gate.run(ctx, "pnl", Role.viewer, {}, lambda: _plain(host.read(views.pnl)))

    @server.tool()
    def market_data(
        ctx: Context,
        instrument: Annotated[str, Field(pattern=r"^[^:\s]{1,32}:[^:\s]{1,32}$")],
        interval: Annotated[str, Field(pattern=r"^[0-9]{1,3}[smhdw]$")] = "1d",
        limit: Annotated[int, Field(ge=1, le=market.BARS_MAX)] = 100,
    ) -> dict[str, Any]:
        """One stored series' last bars (instrument as venue:symbol, e.g. bitstamp:BTC/USD)."""
        args = {"instrument": instrument, "interval": interval, "limit": limit}

        def work() -> dict[str, Any]:
            try:
                return _plain(host.read(market.bars, instrument, interval, limit))
            except market.UnknownSeriesError as exc:
                raise ToolError(str(exc)) from None

        return gate.run(ctx, "market_data", Role.viewer, args, work)

    @server.tool()
    def market_quality(
        ctx: Context, limit: Annotated[int, Field(ge=1, le=500)] = 50
    ) -> dict[str, Any]:
        """The stored series (span, lag, quarantined rows) and quality control's findings."""

        def work() -> dict[str, Any]:
            return _plain(
                {"series": host.read(market.series), "quality": host.read(market.quality, limit)}
            )

        return gate.run(ctx, "market_quality", Role.viewer, {"limit": limit}, work)

    @server.tool()
    def research_results(ctx: Context) -> list[dict[str, Any]]:
        """Each strategy: kind, parameters, lifecycle, backtest figures and what it realised."""

        def work() -> list[dict[str, Any]]:
            return [s.model_dump(mode="json") for s in host.read(views.strategies)]

        return gate.run(ctx, "research_results", Role.viewer, {}, work)

    @server.tool()
    def knowledge_instruments(
        ctx: Context,
        venue: Annotated[str, Field(min_length=1, max_length=64)],
        tradable_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Instruments the knowledge graph (Neo4j) lists on a venue."""
        from knowledge.graph.queries import InstrumentsOnVenue

        args = {"venue": venue, "tradable_only": tradable_only}

        def work() -> list[dict[str, Any]]:
            query = InstrumentsOnVenue(venue=venue, tradable_only=tradable_only)
            return rows("knowledge graph", lambda desk: desk.knowledge.instruments_on_venue(query))

        return gate.run(ctx, "knowledge_instruments", Role.viewer, args, work)

    @server.tool()
    def recall(
        ctx: Context,
        query: Annotated[str, Field(min_length=1, max_length=2_000)],
        collection: Collection = "research_notes",
        limit: Annotated[int, Field(ge=1, le=50)] = 5,
    ) -> list[dict[str, Any]]:
        """The agents' memory (Qdrant): the notes nearest in meaning to `query`."""
        from knowledge.memory.store import Recall

        args = {"query": query, "collection": collection, "limit": limit}

        def work() -> list[dict[str, Any]]:
            asked = Recall(query=query, collection=collection, limit=limit)
            return rows("memory", lambda desk: desk.knowledge.recall(asked))

        return gate.run(ctx, "recall", Role.viewer, args, work)

    @server.tool()
    def approvals(ctx: Context) -> list[PendingOut]:
        """Every request paused on a human approval, with its card."""

        def work() -> list[PendingOut]:
            return [PendingOut(thread_id=t, request=r) for t, r in host.pending().items()]

        return gate.run(ctx, "approvals", Role.viewer, {}, work)

    @server.tool()
    def propose_order(
        ctx: Context,
        side: Literal["buy", "sell"],
        quantity: Quantity,
        symbol: Symbol,
        thread_id: ThreadId,
        limit_price: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None,
    ) -> TurnOut:
        """Propose an order to the PM. It passes the risk gate; above the approval threshold
        it waits for a human (`pending` in the answer, and in `approvals`)."""
        text = f"{side} {quantity:g} {symbol}" + (f" at {limit_price:g}" if limit_price else "")
        args = {"side": side, "quantity": quantity, "symbol": symbol, "limit_price": limit_price}
        return turn(ctx, "propose_order", {**args, "thread_id": thread_id}, text, thread_id)

    @server.tool()
    def propose_halt(ctx: Context, thread_id: ThreadId) -> TurnOut:
        """Ask the PM to halt trading (the risk agent moves the gate to HALTED)."""
        return turn(ctx, "propose_halt", {"thread_id": thread_id}, "halt everything", thread_id)

    @server.tool()
    def propose_research(
        ctx: Context,
        style: Literal["momentum", "mean reversion", "breakout"],
        symbol: Symbol,
        thread_id: ThreadId,
    ) -> TurnOut:
        """Ask the PM for a research run: a strategy of `style` for `symbol`, backtested."""
        args = {"style": style, "symbol": symbol, "thread_id": thread_id}
        text = f"find a {style} strategy for {symbol}"
        return turn(ctx, "propose_research", args, text, thread_id)

    @server.tool()
    def answer_approval(
        ctx: Context,
        thread_id: ThreadId,
        decision: Literal["approve", "reject"],
        reason: Annotated[str, Field(max_length=1000)] = "",
    ) -> TurnOut:
        """Approve or reject the order a thread waits on (an approver's key)."""
        args = {"thread_id": thread_id, "decision": decision, "reason": reason}

        def work() -> TurnOut:
            approver = f"{ACTOR_PREFIX}{gate.caller(ctx).name}"
            try:
                return TurnOut.of(host.answer(thread_id, decision, approver, reason))
            except NotWaitingError as exc:
                raise ToolError(str(exc)) from None

        return gate.run(ctx, "answer_approval", Role.approver, args, work)

    return server
