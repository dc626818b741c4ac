"""The gateway through its Python API, on the compiled Rust engine and a real chdb store."""

from __future__ import annotations

import json
import math
import threading
from uuid import uuid4

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.models.market import Bar, Interval, Trade
from core.models.trading import Side, TimeInForce, TradingState
from core.store import AuditLog, MarketDataStore, Store, TradeLog
from gateway import Actor, Gateway, GatewayError, Verdict
from gateway._core import Engine, OrderRequest
from tests.gateway_fixtures import T0, at, limits, limits_dict, order
from tests.waiting import wait_until


def trade(price: float, size: float = 5.0, seconds: float = 0.0, symbol: str = "BTC/USD") -> Trade:
    return Trade(
        venue_id="paper",
        symbol=symbol,
        ts=at(seconds),
        trade_id=uuid4().hex,
        price=price,
        quantity=size,
    )


@pytest.fixture
def gw(store: Store) -> Gateway:
    gateway = Gateway(limits(), store=store, clock=lambda: T0)
    gateway.on_trade(trade(30_000.0))
    gateway.on_trade(trade(2_000.0, 100.0, symbol="ETH/USD"))
    return gateway


def state(gw: Gateway) -> tuple:
    return (gw.open_orders(), gw.account(), gw.positions(at=T0), gw.equity)


def test_accept_deny_and_every_reason(gw: Gateway):
    ok = gw.submit(order(Side.BUY, 0.1, 29_000.0))
    assert ok.verdict is Verdict.ACCEPT
    assert ok.reason_codes == ()
    assert ok.limits_version == "test-7"
    assert gw.order_status(ok.order_id) == ("accepted", 0.0, 0.1)
    before = state(gw)
    bad = gw.submit(order(Side.BUY, 0.0015, 40_000.3))
    assert bad.verdict is Verdict.DENY
    assert bad.reason_codes == ("PRICE_NOT_ON_TICK", "QUANTITY_NOT_ON_LOT", "PRICE_OUTSIDE_COLLAR")
    assert state(gw) == before
    assert gw.order_status(bad.order_id) is None


def test_bad_numbers_and_types_never_reach_the_engine_unrefused(gw: Gateway):
    """pydantic refuses NaN/inf/zero/negatives at the boundary; the engine refuses them
    again with reason codes when called directly; wrong types are TypeErrors."""
    for value in (math.nan, math.inf, 0.0, -1.0):
        with pytest.raises(ValidationError):
            order(Side.BUY, value, 30_000.0)
        with pytest.raises(ValidationError):
            order(Side.BUY, 0.1, value)
    engine = Engine(json.dumps(limits_dict()))
    engine.on_trade("paper:BTC/USD", 0, 30_000.0, 5.0)
    ids = {"order_id": "o", "client_order_id": "c", "account_id": "paper"}
    btc = ids | {"strategy_id": "momentum", "instrument_id": "paper:BTC/USD"}
    cases = [
        ((math.nan, 30_000.0), "QUANTITY_NOT_FINITE"),
        ((-1.0, 30_000.0), "QUANTITY_NOT_POSITIVE"),
        ((1e308, 30_000.0), "NOTIONAL_EXCEEDS_MAX_PER_ORDER"),
        ((0.1, math.inf), "PRICE_NOT_FINITE"),
        ((0.1, -5.0), "PRICE_NOT_POSITIVE"),
        ((0.1, 1e300), "PRICE_OUTSIDE_COLLAR"),
    ]
    for (qty, price), code in cases:
        buy = OrderRequest(**btc, side="buy", order_type="limit", quantity=qty, price=price)
        verdict, codes = engine.submit(buy, None, 0)
        assert verdict == "DENY"
        assert code in codes
    assert engine.open_order_ids() == []
    nope = OrderRequest(
        **ids, strategy_id="momentum", instrument_id="paper:NOPE", side="buy",
        order_type="limit", quantity=1.0, price=1.0,
    )  # fmt: skip
    assert engine.submit(nope, None, 0) == ("DENY", ["INSTRUMENT_UNKNOWN"])
    with pytest.raises(GatewayError, match="BAD_ARGUMENT: side"):
        OrderRequest(**btc, side="long", order_type="limit", quantity=1.0, price=1.0)
    with pytest.raises(GatewayError, match="BAD_ARGUMENT: time_in_force"):
        OrderRequest(**btc, side="buy", order_type="market", quantity=1.0, time_in_force="now")
    with pytest.raises(TypeError):
        OrderRequest(**btc, side="buy", order_type="limit", quantity="1.0", price=3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        OrderRequest("o", "c")  # type: ignore[misc]
    with pytest.raises(GatewayError, match="BAD_ARGUMENT"):
        engine.on_trade("paper:BTC/USD", 1, math.nan, 1.0)
    with pytest.raises(GatewayError, match="ORDER_UNKNOWN"):
        engine.cancel("nope", 0)
    assert engine.open_order_ids() == []
    assert engine.cash == 1_000_000.0


def test_approval_flow_and_tokens(gw: Gateway):
    big = order(Side.BUY, 2.0, 29_000.0)
    first = gw.submit(big)
    assert first.verdict is Verdict.NEEDS_APPROVAL
    assert first.reason_codes == ("APPROVAL_REQUIRED",)
    assert gw.pending_approval(big.order_id)
    assert gw.approval_need(big.order_id).approvers == 1
    token = gw.approve(big.order_id, ["human:alice"])
    changed = big.model_copy(update={"quantity": 2.5})
    assert "DUPLICATE_CLIENT_ORDER_ID" in gw.submit(changed, approval_token=token).reason_codes
    assert gw.submit(big, approval_token="1." + "0" * 64).reason_codes == (
        "APPROVAL_TOKEN_INVALID",
    )
    assert gw.submit(big, approval_token=token, at=at(61)).reason_codes[-1] == (
        "APPROVAL_TOKEN_EXPIRED"
    )
    assert gw.submit(big, approval_token=token).accepted
    with pytest.raises(GatewayError, match="NOT_APPROVABLE"):
        gw.approve(big.order_id, ["human:alice"])


def test_the_gate_refuses_a_one_approver_token_for_an_order_the_policy_gives_two(gw: Gateway):
    # 6 BTC at 29,000 is 174,000: above the limits' dual_approval_notional (150,000).
    big = order(Side.BUY, 6.0, 29_000.0)
    assert gw.submit(big).verdict is Verdict.NEEDS_APPROVAL
    need = gw.approval_need(big.order_id)
    assert (need.approvers, need.notional) == (2, 174_000.0)
    for names in (["human:alice"], ["human:alice", "HUMAN:ALICE "]):
        denied = gw.submit(big, approval_token=gw.approve(big.order_id, names))
        assert denied.reason_codes == ("APPROVAL_TOO_FEW_APPROVERS",)
        assert gw.pending_approval(big.order_id), "still waiting for a second person"
    assert gw.open_orders() == []
    both = gw.approve(big.order_id, ["human:alice", "human:bob"])
    assert gw.submit(big, approval_token=both).accepted


def test_a_refusal_and_an_expiry_are_gate_decisions(gw: Gateway):
    refused, late = order(Side.BUY, 2.0, 29_000.0), order(Side.BUY, 2.0, 29_100.0)
    for o in (refused, late):
        assert gw.submit(o).verdict is Verdict.NEEDS_APPROVAL
    no = gw.refuse(refused.order_id, "human:bob")
    assert (no.verdict, no.reason_codes) == (Verdict.DENY, ("APPROVAL_REFUSED",))
    assert gw.refuse(late.order_id, "nobody", expired=True).reason_codes == ("APPROVAL_EXPIRED",)
    assert not gw.pending_approval(refused.order_id)
    with pytest.raises(GatewayError, match="NOT_APPROVABLE"):
        gw.approve(refused.order_id, ["human:alice"])


def test_kill_switch_and_rearm_are_recorded_at_once(gw: Gateway, store: Store):
    ids = [gw.submit(order(Side.BUY, 0.1, 29_000.0 - k)).order_id for k in range(3)]
    assert set(gw.open_orders()) == set(ids)
    audit = AuditLog(store)
    assert audit.count("gate.decision") == 3, "each call's records are written when it returns"
    canceled = gw.kill_switch("human:alice", "fat finger in prod")
    assert set(canceled) == set(ids)
    assert gw.trading_state is TradingState.HALTED
    assert gw.open_orders() == []
    assert audit.count("gate.trading_state") == 1
    assert audit.count("gate.decision") == 3
    denied = gw.submit(order(Side.BUY, 0.1, 29_000.0))
    assert denied.reason_codes == ("TRADING_HALTED",)
    with pytest.raises(GatewayError, match="REARM_REFUSED"):
        gw.rearm("", "why not")
    with pytest.raises(GatewayError, match="BAD_ARGUMENT"):
        gw.rearm(Actor.human("alice"), " ")
    gw.rearm("human:alice", "root cause fixed")
    assert gw.trading_state is TradingState.ACTIVE
    rows = store.client.query(
        "SELECT kind, actor, reason_codes, limits_version, order_id FROM audit_log "
        "WHERE kind = 'gate.decision' ORDER BY ts, event_id"
    ).result_rows
    assert ("TRADING_HALTED",) in {tuple(r[2]) for r in rows}
    assert {r[3] for r in rows} == {"test-7"}
    assert all(r[4] is not None for r in rows)
    actors = store.client.query(
        "SELECT actor FROM audit_log WHERE kind = 'gate.trading_state' ORDER BY ts"
    ).result_rows
    assert [a[0] for a in actors] == ["human:alice", "human:alice"]


def test_every_call_writes_what_it_caused_and_nobody_flushes(store: Store):
    audit, trades = AuditLog(store), TradeLog(store)
    gw = Gateway(limits(), store=store, clock=lambda: T0)
    gw.on_trade(trade(30_000.0))
    for k in range(1, 4):
        gw.submit(order(Side.BUY, 0.1, 29_000.0 - k))  # decision, submitted, accepted
        assert audit.count() == 3 * k
    crossing = order(Side.BUY, 0.1, 30_100.0)
    assert gw.submit(crossing).accepted
    assert [f["quantity"] for f in trades.fills("momentum")] == [0.1], "the fill is booked"
    gw.record("desk.note", {"why": "a test"}, actor="human:alice")
    assert audit.count("desk.note") == 1


def test_a_kill_switch_that_cannot_wait_is_recorded_when_the_store_is_free(store: Store):
    """A PM turn holds the store's lock; the kill switch halts at once without waiting, and
    the record is written as soon as the turn lets go."""
    audit = AuditLog(store)
    gw = Gateway(limits(), store=store, clock=lambda: T0)
    gw.on_trade(trade(30_000.0))
    with gw.store_lock:
        done = threading.Event()
        puller = threading.Thread(
            target=lambda: (gw.kill_switch("risk", "breach", wait=False), done.set())
        )
        puller.start()
        assert done.wait(10), "the kill switch waited for the desk's lock"
        assert gw.trading_state is TradingState.HALTED
        assert audit.count("gate.trading_state") == 0

    def halts() -> int:
        with gw.store_lock:  # the store is not thread-safe: readers take its lock too
            return audit.count("gate.trading_state")

    wait_until(lambda: halts() == 1, what="the halt's audit row")
    puller.join()


def test_batch_api_matches_single_checks(gw: Gateway):
    n = 2_000
    rng = np.random.default_rng(7)
    inst = rng.integers(0, 3, n).astype(np.uint32)  # index 2 does not exist
    strat = rng.integers(0, 2, n).astype(np.uint32)
    side = rng.integers(0, 2, n).astype(np.uint8)
    kind = np.ones(n, dtype=np.uint8)
    price = np.where(inst == 1, 2_000.0, 30_000.0) * rng.uniform(0.9, 1.1, n)
    price = np.round(price * 2) / 2
    qty = np.round(rng.uniform(0.001, 3.0, n), 3)
    result = gw.check_batch(inst, strat, side, kind, price, qty)
    assert len(result) == n
    symbols = ["BTC/USD", "ETH/USD", "NOPE/USD"]
    strategies = ["momentum", "mean_reversion"]
    for k in range(0, n, 97):
        single = gw.check(
            order(
                Side.BUY if side[k] == 0 else Side.SELL,
                float(qty[k]),
                float(price[k]),
                symbol=symbols[inst[k]],
                strategy=strategies[strat[k]],
            )
        )
        assert (result.verdict(k), result.reasons(k)) == (single.verdict, single.reason_codes)
    assert {result.verdict(k) for k in range(n)} == set(Verdict)


def test_paper_fills_from_real_bars_replayed_from_the_store(store: Store, goog_raw: pd.DataFrame):
    MarketDataStore(store).write_bars(goog_raw)
    bars = MarketDataStore(store).read_bars("nasdaq", "GOOG", "1d", "2012-01-01", "2012-03-01")
    data = limits_dict(max_reference_age_ms=4 * 86_400_000)
    data["instruments"].append(
        {
            "id": "nasdaq:GOOG",
            "tick": 0.01,
            "lot": 1.0,
            "min_quantity": 1.0,
            "max_quantity": 1_000.0,
            "max_notional": 300_000.0,
            "max_position": 1_000.0,
        }
    )
    first = bars.iloc[0]
    gw = Gateway(limits(**data), store=store, clock=lambda: first["ts"].to_pydatetime())

    def bar(row: pd.Series) -> Bar:
        return Bar(
            venue_id="nasdaq",
            symbol="GOOG",
            interval=Interval.D1,
            ts=row["ts"].to_pydatetime(),
            open=row["open"],
            high=row["high"],
            low=row["low"],
            close=row["close"],
            volume=row["volume"],
        )

    gw.on_bar(bar(first))
    close = float(first["close"])
    bid = round(close * 0.98, 2)
    buy = order(Side.BUY, 10, bid, symbol="GOOG").model_copy(update={"venue_id": "nasdaq"})
    end_of_first_bar = first["ts"].to_pydatetime() + Interval.D1.duration
    assert gw.submit(buy, at=end_of_first_bar).accepted
    filled_on = None
    for _, row in bars.iloc[1:].iterrows():
        gw.on_bar(bar(row))
        if gw.order_status(buy.order_id)[0] == "filled":  # type: ignore[index]
            filled_on = row
            break
    assert filled_on is not None, "GOOG fell 2% within two months of 2012-01-03"
    assert float(filled_on["low"]) < bid
    [position] = gw.positions()
    assert (position.quantity, position.average_price) == (10, bid)
    assert gw.account().cash == pytest.approx(1_000_000.0 - 10 * bid - 10 * bid * 1e-4)
    gw.close()
    fills = store.client.query(
        "SELECT count() FROM audit_log WHERE kind = 'order.fill'"
    ).result_rows[0][0]
    assert fills >= 1


def test_time_in_force_through_the_api(gw: Gateway):
    gtd = order(Side.BUY, 0.1, 29_000.0, tif=TimeInForce.GTD, expire_at=at(10))
    assert gw.submit(gtd).accepted
    gw.advance(at(10))
    assert gw.order_status(gtd.order_id)[0] == "expired"  # type: ignore[index]


def test_order_states_and_fills_land_in_their_tables(gw: Gateway, store: Store):
    buy = order(Side.BUY, 0.2, 29_900.0)
    assert gw.submit(buy).accepted
    gw.modify(buy.order_id, price=29_950.0)
    gw.on_trade(trade(29_800.0, 0.15, seconds=5))
    gw.cancel(buy.order_id, at=at(6))
    log = TradeLog(store)
    assert log.order_history(str(buy.order_id)) == [
        "submitted", "accepted", "pending_update", "accepted", "partially_filled",
        "pending_cancel", "canceled",
    ]  # fmt: skip
    [fill] = log.fills("momentum")
    assert (fill["quantity"], fill["price"], fill["liquidity"]) == (0.15, 29_950.0, "maker")
    prices = store.client.query(
        "SELECT DISTINCT limit_price FROM orders WHERE order_id = {o:UUID}",
        parameters={"o": str(buy.order_id)},
    ).result_rows
    assert {p[0] for p in prices} == {29_900.0, 29_950.0}
    denied = order(Side.BUY, 0.2, 50_000.0)
    gw.submit(denied)
    assert log.order_history(str(denied.order_id)) == []


def test_holdings_sum_every_strategy_per_instrument(gw: Gateway):
    """What the account holds per instrument, whichever strategies hold it (risk's gross
    exposure reads this off every fill)."""
    for side, quantity, strategy in [(Side.BUY, 0.3, "momentum"), (Side.BUY, 0.1, "mean_reversion"),
                                     (Side.SELL, 0.05, "mean_reversion")]:  # fmt: skip
        assert gw.submit(order(side, quantity, None, strategy=strategy)).verdict is Verdict.ACCEPT
    per_strategy = {p.strategy_id: p.quantity for p in gw.positions()}
    assert per_strategy == pytest.approx({"momentum": 0.3, "mean_reversion": 0.05})
    assert gw.holdings() == pytest.approx({"paper:BTC/USD": 0.35})
