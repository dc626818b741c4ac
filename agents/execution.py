"""Execution: turns approved targets and trade requests into orders, only through the
gateway. Orders the gate marks NEEDS_APPROVAL go to the approval step (graph/approval.py),
which pauses for a human. Obeys risk's reduce and halt."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import NAMESPACE_URL, uuid5

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agents.desk import Desk
from agents.state import DeskState, Node, finish
from core.models.trading import Order, OrderType, Side, TimeInForce
from gateway import GateDecision, Verdict
from tools.instruments import NoInstrument
from tools.lifecycle import Lifecycle
from tools.orders import execution_report

NAME = "execution"


def order_for(
    desk: Desk,
    state: DeskState,
    config: RunnableConfig,
    side: str,
    quantity: float,
    symbol: str,
    limit_price: float | None,
    strategy_id: str,
    salt: str = "",
) -> Order | str:
    """The order, or why there is none. Its id is derived from the thread and the turn, so
    the node re-running after an interrupt sends the very same order (idempotent)."""
    found = desk.resolve(symbol)
    if isinstance(found, NoInstrument):
        return found.message
    venue, market = found.venue, found.symbol
    thread = str((config.get("configurable") or {}).get("thread_id", "local"))
    turn = len(state.get("messages", []))
    key = f"{thread}|{turn}|{side}|{quantity!r}|{venue}:{market}|{limit_price!r}|{salt}"
    order_id = uuid5(NAMESPACE_URL, key)
    return Order(
        order_id=order_id,
        client_order_id=f"qd-{order_id.hex[:24]}",
        strategy_id=strategy_id,
        account_id=desk.limits.account_id,
        venue_id=venue,
        symbol=market,
        side=Side(side),
        order_type=OrderType.LIMIT if limit_price is not None else OrderType.MARKET,
        quantity=quantity,
        limit_price=limit_price,
        time_in_force=TimeInForce.GTC if limit_price is not None else TimeInForce.IOC,
        created_at=desk.now,
    )


def finish_paper_promotion(
    desk: Desk, key: str | None, decision: GateDecision, order: Order
) -> None:
    """A reviewed strategy whose first order the gate accepted is now on paper."""
    if key and decision.accepted and Lifecycle(desk.store).stage(key) == "reviewed":
        Lifecycle(desk.store).record(
            key, "paper", "pm", "within policy", {"order": str(order.order_id)}
        )


def sent_before(desk: Desk, order: Order) -> GateDecision | None:
    """The gate's earlier acceptance if `order` already went to a venue (in this run, or in
    one that died before the conversation was saved): a re-run of the turn reports it and
    sends nothing. None for an order the gate has not taken, or only parked for approval."""
    if not desk.gateway.reached_venue(order.order_id):
        return None
    return GateDecision(
        order_id=order.order_id,
        verdict=Verdict.ACCEPT,
        reason_codes=(),
        limits_version=desk.limits.limits_version,
    )


def reduce_orders(
    desk: Desk,
    fraction: float,
    salt: str,
    *,
    instrument: str | None = None,
    strategy_id: str | None = None,
) -> list[Order]:
    """Reduce-only market orders that cut each matching position by `fraction` (whole lots).
    Ids derive from `salt`, so sending the same instruction twice sends each order once."""
    orders = []
    for position in desk.gateway.positions():
        held = f"{position.venue_id}:{position.symbol}"
        if (instrument and held != instrument) or (
            strategy_id and position.strategy_id != strategy_id
        ):
            continue
        lot = next(i.lot for i in desk.limits.instruments if i.id == held)
        # The 1e-9 keeps float noise (1/2/1e-5 = 49999.99...) from losing a lot.
        quantity = round(int(abs(position.quantity) * fraction / lot + 1e-9) * lot, 10)
        if quantity <= 0:
            continue
        order_id = uuid5(NAMESPACE_URL, f"reduce|{salt}|{held}|{position.strategy_id}")
        orders.append(
            Order(
                order_id=order_id, client_order_id=f"qd-{order_id.hex[:24]}",
                strategy_id=position.strategy_id, account_id=desk.limits.account_id,
                venue_id=position.venue_id, symbol=position.symbol,
                side=Side.SELL if position.quantity > 0 else Side.BUY,
                order_type=OrderType.MARKET, quantity=quantity, time_in_force=TimeInForce.IOC,
                reduce_only=True, created_at=desk.now,
            )
        )  # fmt: skip
    return orders


def _salt(state: DeskState, config: RunnableConfig) -> str:
    thread = str((config.get("configurable") or {}).get("thread_id", "local"))
    return f"{thread}|{len(state.get('messages', []))}"


def _finish(out: dict[str, Any], text: str) -> Command[Literal["approval", "__end__"]]:
    return finish(NAME, out, text)


def reduce_all(
    desk: Desk,
    state: DeskState,
    config: RunnableConfig,
    fraction: float = 0.5,
    instrument: str | None = None,
    verb: str = "reduced",
) -> Command[Literal["approval", "__end__"]]:
    """Cut every position (or one instrument's) by `fraction` with reduce-only market
    orders: risk's reduce (half), a close ("sell half our ETH") or a flatten (all). The
    quantities come from the book, never from the request."""
    orders = reduce_orders(desk, fraction, _salt(state, config), instrument=instrument)
    sent = [
        execution_report(desk.gateway, o, sent_before(desk, o) or desk.gateway.submit(o))
        for o in orders
    ]
    held = f" in {instrument}" if instrument else ""
    text = f"{verb}: " + (
        "; ".join(f"{r.side} {r.quantity:g} {r.symbol} {r.verdict}" for r in sent)
        or f"nothing held{held}, nothing sent"
    )
    return _finish({"reduced": [r.model_dump() for r in sent]}, text)


def close_holding(
    desk: Desk, state: DeskState, config: RunnableConfig, intent: dict[str, Any]
) -> Command[Literal["approval", "__end__"]]:
    """A close or a flatten: the share of what the book holds, in whole lots."""
    if intent.get("kind") == "flatten":
        return reduce_all(desk, state, config, 1.0, verb="flattened")
    found = desk.resolve(str(intent.get("symbol") or ""))
    if isinstance(found, NoInstrument):
        return _finish({"error": found.message}, found.message)
    fraction = float(intent.get("fraction") or 1.0)
    return reduce_all(desk, state, config, fraction, found.id, verb=f"closed {fraction:.0%}")


def cancel_open(desk: Desk, symbol: str | None = None) -> Command[Literal["approval", "__end__"]]:
    """Cancel the resting orders, only those in `symbol`'s instrument when one is named
    ("cancel the resting GOOG limit" leaves the BTC bids alone); nothing else changes."""
    venue_symbol: tuple[str, str] | None = None
    if symbol:
        found = desk.resolve(symbol)
        if isinstance(found, NoInstrument):
            return _finish({"error": found.message}, found.message)
        venue_symbol = (found.venue, found.symbol)
    canceled = []
    for order_id in desk.gateway.open_orders():
        if venue_symbol is not None:
            order = desk.gateway.order(order_id)
            if order is None or (order.venue_id, order.symbol) != venue_symbol:
                continue  # an order of another instrument (or one it cannot see) stays
        desk.gateway.cancel(order_id)
        canceled.append(str(order_id))
    where = f" in {symbol}" if symbol else ""
    text = (
        f"canceled {len(canceled)} open orders{where}"
        if canceled
        else f"no open orders{where} to cancel"
    )
    return _finish({"canceled": canceled}, text)


def sized_quantity(desk: Desk, symbol: str, fraction: float) -> float | str:
    """`fraction` of the account's equity in `symbol`, at its reference price, in whole
    lots (down): "put 10% into ETH". Why not, when it cannot be sized."""
    found = desk.resolve(symbol)
    if isinstance(found, NoInstrument):
        return found.message
    price = desk.reference_price(found.venue, found.symbol)
    if not price:
        return f"no price for {found.id}: load its data before sizing by share"
    lot = next(i.lot for i in desk.limits.instruments if i.id == found.id)
    quantity = round(int(fraction * desk.gateway.equity / price / lot + 1e-9) * lot, 10)
    if quantity <= 0:
        return f"{fraction:.0%} of equity buys less than one lot ({lot:g}) of {found.id}"
    return quantity


def node(desk: Desk) -> Node:
    def execution(
        state: DeskState, config: RunnableConfig
    ) -> Command[Literal["approval", "__end__"]]:
        intent = state.get("intent", {})
        results = state.get("results", {})
        instruction = (results.get("risk") or {}).get("instruction")
        if intent.get("kind") == "halt" or instruction == "halt":
            canceled = desk.gateway.kill_switch("pm", state.get("request", "halt"))
            text = f"HALTED: {len(canceled)} open orders canceled; rearming needs a human."
            out = {"halted": True, "canceled": [str(c) for c in canceled]}
            return finish(NAME, out, text)
        if instruction == "reduce":
            return reduce_all(desk, state, config)
        if intent.get("kind") in ("close", "flatten"):
            return close_holding(desk, state, config, intent)
        if intent.get("kind") == "cancel":
            return cancel_open(desk, intent.get("symbol"))
        target = results.get("target")
        if intent.get("kind") == "trade":
            quantity: float | str = intent.get("quantity") or sized_quantity(
                desk, str(intent.get("symbol") or ""), float(intent.get("fraction") or 0)
            )
            made = (
                quantity
                if isinstance(quantity, str)
                else order_for(
                    desk,
                    state,
                    config,
                    intent["side"],
                    quantity,
                    intent.get("symbol") or "",
                    intent.get("limit_price"),
                    "manual",
                )
            )
        elif target:
            if target.get("risk_class"):
                # Before its first order: the gate books the strategy under its own id.
                desk.trade_under(target["strategy_id"], target["risk_class"])
            made = order_for(
                desk,
                state,
                config,
                target["side"],
                target["quantity"],
                target["symbol"],
                None,
                target["strategy_id"],
            )
        else:
            made = "nothing to execute"
        if isinstance(made, str):
            return finish(NAME, {"error": made}, made)
        decision = sent_before(desk, made) or desk.gateway.submit(made)
        key = target.get("key") if target else None
        if decision.verdict is Verdict.NEEDS_APPROVAL:
            # The approval node re-runs from the top on every resume; the request's clock
            # starts here, in checkpointed state, so its expiry cannot be pushed back.
            pending = {
                "order": made.model_dump(mode="json"),
                "target_key": key,
                "requested_at": datetime.now(UTC).isoformat(),
            }
            return Command(
                goto="approval",
                update={"results": {"pending_order": pending}, "trace": [NAME]},
            )
        finish_paper_promotion(desk, key, decision, made)
        report = execution_report(desk.gateway, made, decision)
        return finish(NAME, report.model_dump(), report.line())

    return execution
