"""Execution: turns approved targets and trade requests into orders, only through the
gateway. Orders the gate marks NEEDS_APPROVAL go to the approval step (graph/approval.py),
which pauses for a human. Obeys risk's reduce and halt. The order operations are typed
tools (tools/orders); this node reads the state, calls them and records their results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents.desk import Desk
from agents.results import IntentRecord, PendingOrder, Target, check_execution
from agents.state import DeskState, Node, finish
from core.models.trading import Order
from gateway import Verdict
from tools.orders import (
    OrderError,
    OrderResult,
    ReduceResult,
    Turn,
    cancel_open,
    close,
    execution_report,
    flatten,
    halt,
    order_for,
    promote_to_paper,
    reduce,
    send,
    sized_quantity,
)

NAME = "execution"

Next = Command[Literal["approval", "__end__"]]


def _finish(result: OrderResult) -> Next:
    return finish(NAME, check_execution(result.model_dump()), result.line())


def _turn(state: DeskState, config: RunnableConfig) -> Turn:
    """This turn of the thread: the orders it builds take their ids from it."""
    thread = str((config.get("configurable") or {}).get("thread_id", "local"))
    return Turn(thread=thread, turn=len(state.get("messages", [])))


def _order(
    desk: Desk, turn: Turn, intent: IntentRecord, target: Target | None
) -> Order | OrderError:
    """The order a trade request or research's approved target asks for, or why none."""
    if intent.get("kind") == "trade":
        quantity: float | OrderError = intent.get("quantity") or sized_quantity(
            desk.gateway,
            desk.book,
            desk.reference_price,
            str(intent.get("symbol") or ""),
            float(intent.get("fraction") or 0),
        )
        if isinstance(quantity, OrderError):
            return quantity
        side = intent["side"]
        if side is None:
            return OrderError(error="a trade needs a side: buy or sell")
        return order_for(
            desk.gateway, desk.book, desk.now, turn,
            side=side, quantity=quantity, symbol=intent.get("symbol") or "",
            limit_price=intent.get("limit_price"), strategy_id="manual",
        )  # fmt: skip
    if target:
        if target.get("risk_class"):
            # Before its first order: the gate books the strategy under its own id.
            desk.trade_under(target["strategy_id"], target["risk_class"])
        return order_for(
            desk.gateway, desk.book, desk.now, turn,
            side=target["side"], quantity=target["quantity"], symbol=target["symbol"],
            limit_price=None, strategy_id=target["strategy_id"],
        )  # fmt: skip
    return OrderError(error="nothing to execute")


def _retire(desk: Desk, turn: Turn, target: Target) -> list[ReduceResult]:
    """Close what the strategies research chose before for this instrument hold."""
    retired = []
    for strategy in target.get("retire", []):
        result = reduce(
            desk.gateway, desk.now, 1.0, f"{turn.salt}|retire", instrument=target["symbol"],
            strategy_id=strategy, verb=f"retired {strategy}",
        )  # fmt: skip
        retired.append(result)
    return retired


def _lines(retired: list[ReduceResult], result: OrderResult) -> str:
    return "; ".join([*(r.line() for r in retired), result.line()])


def node(desk: Desk) -> Node:
    def execution(state: DeskState, config: RunnableConfig) -> Next:
        intent = state["intent"]
        kind = intent.get("kind")
        results = state.get("results", {})
        risk = results.get("risk")
        instruction = risk.get("instruction") if risk else None
        turn = _turn(state, config)
        if kind == "halt" or instruction == "halt":
            return _finish(halt(desk.gateway, "pm", state.get("request", "halt")))
        if instruction == "reduce":
            return _finish(reduce(desk.gateway, desk.now, 0.5, turn.salt))
        if kind == "flatten":
            return _finish(flatten(desk.gateway, desk.now, turn.salt))
        if kind == "close":
            symbol, fraction = str(intent.get("symbol") or ""), float(intent.get("fraction") or 1.0)
            return _finish(close(desk.gateway, desk.book, desk.now, symbol, fraction, turn.salt))
        if kind == "cancel":
            return _finish(cancel_open(desk.gateway, desk.book, intent.get("symbol")))
        target = results.get("target")
        retired = _retire(desk, turn, target) if target else []
        if target and target["quantity"] <= 0:
            only: OrderResult = retired[0] if retired else OrderError(error="nothing to execute")
            return finish(NAME, check_execution(only.model_dump()), _lines(retired[1:], only))
        made = _order(desk, turn, intent, target)
        if isinstance(made, OrderError):
            return _finish(made)
        decision = send(desk.gateway, made)
        key = target.get("key") if target else None
        if decision.verdict is Verdict.NEEDS_APPROVAL:
            # The approval node re-runs from the top on every resume; the request's clock
            # starts here, in checkpointed state, so its expiry cannot be pushed back.
            pending: PendingOrder = {
                "order": made.model_dump(mode="json"),
                "target_key": key,
                "requested_at": datetime.now(UTC).isoformat(),
            }
            return Command(
                goto="approval",
                update={"results": {"pending_order": pending}, "trace": [NAME]},
            )
        promote_to_paper(desk.store, key, decision, made)
        report = execution_report(desk.gateway, made, decision)
        return finish(NAME, check_execution(report.model_dump()), _lines(retired, report))

    return execution
