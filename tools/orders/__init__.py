"""The desk's order operations, typed: each takes the gateway and what it needs besides
(the instrument book, the desk clock, an idempotency salt) and returns a pydantic result
(tools.orders.report) whose JSON the graph state keeps. Agents and services call these;
nothing here knows the graph.

- `build`: idempotent orders (ids derived from the turn, the instruction or the edit).
- `send`: one order sent once, reduce, close, flatten, cancel, halt.
- `promotion`: a reviewed strategy on paper with its first accepted order.
- `report`: the results.
"""

from tools.orders.build import (
    PriceOf,
    Turn,
    edited_order,
    order_for,
    reduce_orders,
    sized_quantity,
)
from tools.orders.promotion import promote_to_paper
from tools.orders.report import (
    CancelResult,
    ExecutionReport,
    HaltResult,
    OrderError,
    OrderResult,
    ReduceResult,
    execution_report,
)
from tools.orders.send import cancel_open, close, flatten, halt, reduce, send, sent_before

__all__ = [
    "CancelResult",
    "ExecutionReport",
    "HaltResult",
    "OrderError",
    "OrderResult",
    "PriceOf",
    "ReduceResult",
    "Turn",
    "cancel_open",
    "close",
    "edited_order",
    "execution_report",
    "flatten",
    "halt",
    "order_for",
    "promote_to_paper",
    "reduce",
    "reduce_orders",
    "send",
    "sent_before",
    "sized_quantity",
]
