"""The event bus: typed messages over Zenoh (core.bus.messages), one key space
(core.bus.keys), publish/subscribe and request/reply (core.bus.session)."""

from core.bus.keys import Keys
from core.bus.messages import (
    Alert,
    BusMessage,
    Control,
    FillEvent,
    Heartbeat,
    IngestRequest,
    LlmUsage,
    MarketBar,
    OrderEvent,
    OrderRequest,
    Reply,
    RiskCommand,
    StateChange,
    decode,
    encode,
)
from core.bus.session import Bus, BusError

__all__ = [
    "Alert",
    "Bus",
    "BusError",
    "BusMessage",
    "Control",
    "FillEvent",
    "Heartbeat",
    "IngestRequest",
    "Keys",
    "LlmUsage",
    "MarketBar",
    "OrderEvent",
    "OrderRequest",
    "Reply",
    "RiskCommand",
    "StateChange",
    "decode",
    "encode",
]
