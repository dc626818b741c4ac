"""QuantDesk gateway: the only package that talks to venues (ARCHITECTURE.md, invariant 1).

The pre-trade gate, order state machine, paper venue and ledger are Rust (`gateway._core`);
this package converts pydantic models at the boundary and records every decision.
"""

from gateway._core import GatewayError, __version__, is_on_increment, reason_codes
from gateway.actor import Actor
from gateway.api import GateStrategy, Gateway, instrument_id
from gateway.decisions import ApprovalNeed, BatchDecisions, GateDecision, Verdict, decode_mask
from gateway.limits import GateLimits, LimitsError, load_limits, parse_limits

__all__ = [
    "Actor",
    "ApprovalNeed",
    "BatchDecisions",
    "GateDecision",
    "GateLimits",
    "GateStrategy",
    "Gateway",
    "GatewayError",
    "LimitsError",
    "Verdict",
    "__version__",
    "decode_mask",
    "instrument_id",
    "is_on_increment",
    "load_limits",
    "parse_limits",
    "reason_codes",
]
