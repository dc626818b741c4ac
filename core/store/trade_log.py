"""Orders (a row per state change) and fills, as the gateway reports them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from core.models.trading import Fill, Order, OrderStatus
from core.store.connection import Store

ORDER_COLUMNS = [
    "order_id", "client_order_id", "strategy_id", "account_id", "venue", "symbol", "side",
    "order_type", "time_in_force", "quantity", "limit_price", "filled_quantity", "status",
    "reduce_only", "ts", "seq",
]  # fmt: skip
FILL_COLUMNS = [
    "fill_id", "order_id", "strategy_id", "account_id", "venue", "symbol", "side", "quantity",
    "price", "fee", "fee_currency", "liquidity", "ts",
]  # fmt: skip


class TradeLog:
    """Appends order state changes and fills; history is never rewritten."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def append_order_states(
        self, states: Iterable[tuple[Order, OrderStatus, float, datetime, int]]
    ) -> int:
        """(order as it stands, its new status, filled so far, when, sequence number)."""
        rows = [
            [
                o.order_id,
                o.client_order_id,
                o.strategy_id,
                o.account_id,
                o.venue_id,
                o.symbol,
                o.side.value,
                o.order_type.value,
                o.time_in_force.value,
                o.quantity,
                o.limit_price,
                filled,
                status.value,
                o.reduce_only,
                ts,
                seq,
            ]
            for o, status, filled, ts, seq in states
        ]
        if rows:
            self._store.client.insert("orders", rows, column_names=ORDER_COLUMNS)
        return len(rows)

    def append_fills(self, fills: Iterable[Fill]) -> int:
        rows = [
            [
                f.fill_id,
                f.order_id,
                f.strategy_id,
                f.account_id,
                f.venue_id,
                f.symbol,
                f.side.value,
                f.quantity,
                f.price,
                f.fee,
                f.fee_currency,
                f.liquidity.value,
                f.ts,
            ]
            for f in fills
        ]
        if rows:
            self._store.client.insert("fills", rows, column_names=FILL_COLUMNS)
        return len(rows)

    def fills(
        self,
        strategy_id: str | None = None,
        *,
        order_id: str | None = None,
        account_id: str | None = None,
    ) -> list[dict[str, object]]:
        """Fills oldest first, of one strategy, order or account when given."""
        given = {
            "strategy_id": ("String", strategy_id),
            "order_id": ("UUID", order_id),
            "account_id": ("String", account_id),
        }
        wanted = {column: (kind, v) for column, (kind, v) in given.items() if v is not None}
        where = " AND ".join(f"{c} = {{{c}:{kind}}}" for c, (kind, _) in wanted.items())
        result = self._store.client.query(
            f"SELECT {', '.join(FILL_COLUMNS)} FROM fills "
            f"{'WHERE ' + where if where else ''} ORDER BY ts, fill_id",
            parameters={c: v for c, (_, v) in wanted.items()} or None,
        )
        return [dict(zip(FILL_COLUMNS, row, strict=True)) for row in result.result_rows]

    def booked_fills(self, account_id: str) -> list[Fill]:
        """Every fill of `account_id`, oldest first, as the models they were written from."""
        out = []
        for row in self.fills(account_id=account_id):
            fields = {k: v for k, v in row.items() if k != "venue"}
            ts = row["ts"]
            if isinstance(ts, datetime) and ts.tzinfo is None:
                ts = ts.replace(tzinfo=UTC)  # the store keeps UTC without a zone
            out.append(Fill.model_validate(fields | {"venue_id": row["venue"], "ts": ts}))
        return out

    def order_history(self, order_id: str) -> list[str]:
        rows = self._store.client.query(
            "SELECT status FROM orders WHERE order_id = {o:UUID} ORDER BY seq",
            parameters={"o": order_id},
        ).result_rows
        return [str(r[0]) for r in rows]

    def last_order_states(self, account_id: str) -> list[tuple[str, str, str, float]]:
        """(order_id, client_order_id, status, filled) of each of the account's orders, as
        its latest state row says."""
        rows = self._store.client.query(
            "SELECT toString(order_id), argMax(client_order_id, (ts, seq)), "
            "argMax(status, (ts, seq)), argMax(filled_quantity, (ts, seq)) "
            "FROM orders WHERE account_id = {a:String} "
            "GROUP BY order_id",
            parameters={"a": account_id},
        ).result_rows
        return [(str(o), str(c), str(s), float(f)) for o, c, s, f in rows]
