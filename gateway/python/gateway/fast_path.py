"""The gate's safety fast path (Rust: src/fast_path.rs, src/breakers.rs, src/latch.rs).

A Zenoh session of the gateway's own hears fills, bars, risk's commands and risk's heartbeats
and, in Rust threads, puts the kill switch, a strategy's halt, the drawdown, daily-loss and
strategy-loss breakers and the dead-man switch in force through the engine's latch: the next
check refuses, whoever holds the desk. It tells the bus itself (alert and `StateChange`).
Here a thread takes each latched move into the engine's state, events and safety journal
(`apply_latch`), without waiting for the desk's lock."""

from __future__ import annotations

import threading
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from core.faults import crash_point
from gateway._core import Engine, FastPathNode
from gateway.realtime import CpuWakeLatency, realtime_threads


class BusEndpoints(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["peer", "client", "router"] = "peer"
    listen: list[str] = Field(default_factory=lambda: ["tcp/127.0.0.1:0"])
    connect: list[str] = Field(default_factory=list)


class BreakerLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_drawdown: float = Field(gt=0, le=1)
    daily_loss_limit: float = Field(gt=0, allow_inf_nan=False)
    strategy_loss_limit: float = Field(gt=0, allow_inf_nan=False)


class FastPathConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bus: BusEndpoints
    source: str = Field(default="execution", min_length=1, max_length=64)
    limits: BreakerLimits
    deadman_reduce_after_s: float = Field(gt=0, allow_inf_nan=False)
    deadman_halt_after_s: float = Field(gt=0, allow_inf_nan=False)
    heartbeat_interval_s: float = Field(default=0.2, gt=0, allow_inf_nan=False)
    # SCHED_FIFO for the Rust threads (gateway.realtime); 0: the OS's normal scheduling.
    realtime_priority: int = Field(default=0, ge=0, le=99)
    # Idle CPUs wake within this many µs while the fast path runs (gateway.realtime); None:
    # the OS decides.
    cpu_wake_latency_us: int | None = Field(default=None, ge=0, le=1_000_000)


class LatchedGateway(Protocol):
    _engine: Engine

    def apply_latch(self) -> None: ...


class FastPath:
    """Started with the gateway it guards; `close()` stops it and applies what it latched."""

    def __init__(self, gateway: LatchedGateway, config: FastPathConfig) -> None:
        self._gateway = gateway
        local = {"realtime_priority", "cpu_wake_latency_us"}
        with realtime_threads(config.realtime_priority) as took:
            self._node = FastPathNode(gateway._engine, config.model_dump_json(exclude=local))
        self.realtime_priority = took
        self._wake: CpuWakeLatency | None = None
        if config.cpu_wake_latency_us is not None:
            self._wake = CpuWakeLatency(config.cpu_wake_latency_us)
        self._stopping = threading.Event()
        self._applier = threading.Thread(target=self._apply, name="fast-path-apply", daemon=True)
        self._applier.start()

    def _apply(self) -> None:
        seen = 0
        while not self._stopping.is_set():
            moved = self._node.wait_moved(seen, 0.2)
            if moved != seen:
                seen = moved
                self._gateway.apply_latch()
                crash_point("latch.applied")

    @property
    def cpu_wake_latency_us(self) -> int | None:
        """The wake latency this fast path holds for the machine's idle CPUs, if any."""
        return None if self._wake is None else self._wake.held

    def stats(self) -> dict[str, int]:
        held = self.cpu_wake_latency_us
        return dict(self._node.stats()) | {
            "realtime_priority": self.realtime_priority,
            "cpu_wake_latency_us": -1 if held is None else held,
        }

    def deadman_armed(self) -> bool:
        """Whether the Rust dead-man switch has heard risk's heartbeat: until then it cannot
        trip, so nothing may lift the wait for risk on another session's word."""
        return bool(self.stats()["deadman_armed"])

    def close(self) -> None:
        self._stopping.set()
        self._applier.join(timeout=5)
        self._node.close()
        if self._wake is not None:
            self._wake.close()
        self._gateway.apply_latch()
