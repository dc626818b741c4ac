"""The typed report execution gives for an order it sent (tools/orders/report.py)."""

from __future__ import annotations

from core.models.market import Trade
from core.models.trading import Side
from gateway import Gateway
from tests.gateway_fixtures import T0, limits, order
from tools.orders import ExecutionReport, execution_report


def _gateway() -> Gateway:
    gw = Gateway(limits(), clock=lambda: T0)
    gw.on_trade(
        Trade(venue_id="paper", symbol="BTC/USD", ts=T0, trade_id="t-1", price=30_000.0,
              quantity=5.0)
    )  # fmt: skip
    return gw


def test_a_filled_and_a_denied_order_report_what_the_gate_did():
    gw = _gateway()
    crossing = order(Side.BUY, 0.1, 30_100.0)
    filled = execution_report(gw, crossing, gw.submit(crossing))
    assert (filled.verdict, filled.status, filled.filled) == ("ACCEPT", "filled", 0.1)
    assert filled.line() == "buy 0.1 paper:BTC/USD: ACCEPT; status filled, filled 0.1"
    fat = order(Side.BUY, 0.1, 50_000.0)
    denied = execution_report(gw, fat, gw.submit(fat))
    assert (denied.verdict, denied.status, denied.filled) == ("DENY", "not taken", 0.0)
    assert "PRICE_OUTSIDE_COLLAR" in denied.reasons
    assert "(PRICE_OUTSIDE_COLLAR" in denied.line()
    assert ExecutionReport.model_validate(denied.model_dump()) == denied, "the state's JSON"
