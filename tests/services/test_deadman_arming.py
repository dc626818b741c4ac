"""The dead-man switch's wait for risk, with the gate's Rust fast path: execution lifts it
only once the switch that trips has heard risk itself."""

from __future__ import annotations

import time
from pathlib import Path

from agents.services.execution_service import ExecutionService
from core.bus import Bus, Heartbeat, Keys
from core.models.trading import TradingState
from core.settings import Settings
from core.store import Store
from tests.waiting import wait_until


def test_the_wait_for_risk_lifts_only_once_the_rust_switch_has_heard_it(
    desk_dir: Path, hub: str, peer: Bus
):
    """Execution's own bus may hear risk's first heartbeat before the fast path's session
    does (CI once saw the desk go ACTIVE, risk fall silent, and nothing trip). The desk stays
    in its wait for risk until Rust's switch, the one that trips, has heard risk."""
    settings = Settings(data_dir=desk_dir, bus_hub=hub, log_json=False,
                        deadman_reduce_after_s=0.5, deadman_halt_after_s=1.0)  # fmt: skip
    with Store.open(settings) as store:
        execution = ExecutionService.open(settings, store)
        try:
            gateway = execution.desk.gateway
            assert gateway.trading_state is TradingState.REDUCING
            execution.last_risk = time.monotonic()  # Python heard risk; Rust has not
            execution.deadman()
            assert not execution.armed
            assert gateway.trading_state is TradingState.REDUCING

            def lifted() -> bool:  # risk beats until the desk has lifted its wait
                peer.publish(Keys.health("risk"), Heartbeat(agent="risk", seq=0, pid=1))
                execution.deadman()
                return execution.armed

            wait_until(lifted, 10, what="the wait lifted", step=0.05)
            assert gateway.trading_state is TradingState.ACTIVE
            # Risk says nothing more: the switch that lifted the wait now trips.
            wait_until(lambda: gateway.trading_state is TradingState.HALTED, 5, what="halted")
        finally:
            execution.close()
