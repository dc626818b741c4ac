"""Orders through the gate: check, submit, modify, cancel, their status, batch screening."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt

from core.faults import crash_point
from core.models.trading import Order
from gateway._core import OrderRequest
from gateway.decisions import BatchDecisions, GateDecision, Verdict
from gateway.face import EngineFace, _writes, instrument_id, wall_clock
from gateway.restore import NOT_AT_A_VENUE


class OrderCalls(EngineFace):
    def check(self, order: Order, *, at: datetime | None = None) -> GateDecision:
        """What the gate would decide, without sending anything."""
        if at is None and self.clock is wall_clock:
            # The engine reads the wall clock itself: the whole check is one call.
            return self._engine.decide_order(order)
        return self._engine.decide_order(order, self._now(at))

    @_writes
    def submit(
        self, order: Order, *, approval_token: str | None = None, at: datetime | None = None
    ) -> GateDecision:
        self.recorder.track(order)
        if self.journal is not None:
            self.journal.sending(order, self._now(at))
            crash_point("order.journaled")
        raw = self._engine.submit(OrderRequest.of_order(order), approval_token, self._now(at))
        decision = self._decision(order.order_id, raw)
        crash_point("gate.decided")
        if decision.verdict is not Verdict.ACCEPT and self.journal is not None:
            status = "pending_approval" if decision.verdict is Verdict.NEEDS_APPROVAL else "denied"
            self.journal.not_sent(str(order.order_id), status, self._now(at))
        if decision.verdict is Verdict.ACCEPT:
            # The paper venue acknowledges (and may fill) inside the same engine call.
            crash_point("venue.acked")
        if (
            decision.verdict is Verdict.DENY
            and self._engine.order_status(str(order.order_id)) is None
        ):
            self.recorder.untrack(str(order.order_id))
        return decision

    @_writes
    def modify(
        self,
        order_id: UUID,
        *,
        price: float | None = None,
        quantity: float | None = None,
        at: datetime | None = None,
    ) -> GateDecision:
        raw = self._engine.modify(str(order_id), price, quantity, self._now(at))
        known = self.recorder.tracked(str(order_id))
        if raw[0] == Verdict.ACCEPT and known is not None:
            status = self._engine.order_status(str(order_id))
            update: dict[str, Any] = {}
            if price is not None:
                update["limit_price"] = price
            if quantity is not None and status is not None:
                update["quantity"] = status[1] + quantity
            self.recorder.replace(known.model_copy(update=update))
        return self._decision(order_id, raw)

    @_writes
    def cancel(self, order_id: UUID, *, at: datetime | None = None) -> None:
        try:
            self._engine.cancel(str(order_id), self._now(at))
        finally:
            self._collect()

    def order_status(self, order_id: UUID) -> tuple[str, float, float] | None:
        """(status, filled, leaves), or None for an order the gateway never took."""
        return self._engine.order_status(str(order_id))

    def reached_venue(self, order_id: UUID) -> bool:
        """Whether the gate let `order_id` out to a venue (in this run, or restored from an
        earlier one); False for an order it never took, denied, or only parked for approval."""
        status = self._engine.order_status(str(order_id))
        return status is not None and status[0] not in NOT_AT_A_VENUE

    def order(self, order_id: UUID | str) -> Order | None:
        """The order this gateway was given under `order_id` (None if it never saw it, or
        saw it more than 10,000 orders ago and it is no longer live)."""
        return self.recorder.order(str(order_id))

    def open_orders(self) -> list[UUID]:
        return [UUID(i) for i in self._engine.open_order_ids()]

    def check_batch(
        self,
        instrument: npt.NDArray[np.uint32],
        strategy: npt.NDArray[np.uint32],
        side: npt.NDArray[np.uint8],
        order_type: npt.NDArray[np.uint8],
        price: npt.NDArray[np.float64],
        quantity: npt.NDArray[np.float64],
        *,
        at: datetime | None = None,
    ) -> BatchDecisions:
        """Screen many orders against the current state (what-if; nothing is consumed).

        Instruments and strategies are indices (`instrument_index`, `strategy_index`); side
        0 buy / 1 sell; type 0 market / 1 limit; price NaN for market orders."""
        verdicts, masks = self._engine.check_batch(
            np.ascontiguousarray(instrument, dtype=np.uint32),
            np.ascontiguousarray(strategy, dtype=np.uint32),
            np.ascontiguousarray(side, dtype=np.uint8),
            np.ascontiguousarray(order_type, dtype=np.uint8),
            np.ascontiguousarray(price, dtype=np.float64),
            np.ascontiguousarray(quantity, dtype=np.float64),
            self._now(at),
        )
        return BatchDecisions(
            np.frombuffer(verdicts, dtype=np.uint8), np.frombuffer(masks, dtype=np.uint64)
        )

    def instrument_index(self, venue_id: str, symbol: str) -> int:
        index = self._engine.instrument_index(instrument_id(venue_id, symbol))
        if index is None:
            raise KeyError(f"unknown instrument {venue_id}:{symbol}")
        return index

    def strategy_index(self, strategy_id: str) -> int:
        index = self._engine.strategy_index(strategy_id)
        if index is None:
            raise KeyError(f"unknown strategy {strategy_id}")
        return index
