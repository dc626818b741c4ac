"""Prometheus metrics the desk exports (one registry per process), served on 127.0.0.1."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

ORDERS = Counter("quantdesk_orders_total", "Orders through the gate, by verdict", ["verdict"])
DENIALS = Counter("quantdesk_denials_total", "Failed gate checks, by reason code", ["reason"])
FILLS = Counter("quantdesk_fills_total", "Fills booked on the venue", ["strategy"])
GATE_LATENCY = Histogram(
    "quantdesk_gate_seconds",
    "Gate call latency: the Rust gate's decision and the gateway writing its records",
    buckets=(1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1),
)  # fmt: skip
BUS_MESSAGES = Counter("quantdesk_bus_messages_total", "Bus messages handled", ["key", "outcome"])
BUS_LATENCY = Histogram(
    "quantdesk_bus_seconds", "Publish-to-handle latency of bus messages",
    buckets=(1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5),
)  # fmt: skip
AGENT_UP = Gauge("quantdesk_agent_up", "1 while the agent's heartbeats arrive", ["agent"])
HEARTBEAT_AGE = Gauge(
    "quantdesk_heartbeat_age_seconds", "Since the agent's last heartbeat", ["agent"]
)
TRADING_STATE = Gauge("quantdesk_trading_state", "Account state: 0 active, 1 reducing, 2 halted")
GROSS_EXPOSURE = Gauge("quantdesk_gross_exposure", "Gross exposure as risk sees it")
LLM_TOKENS = Counter("quantdesk_llm_tokens_total", "LLM tokens", ["model", "kind"])
LLM_COST = Counter("quantdesk_llm_cost_usd_total", "LLM cost estimate in USD", ["model"])
LLM_BUDGET_SPENT = Counter(
    "quantdesk_llm_budget_spent_total",
    "LLM calls refused because a token budget (per request or per run) was spent",
    ["model", "scope"],
)


def serve_metrics(port: int) -> int:
    """Start the /metrics endpoint on 127.0.0.1:`port` (0: any free port); returns the port."""
    server, _ = start_http_server(port, addr="127.0.0.1")
    return int(server.server_port)
