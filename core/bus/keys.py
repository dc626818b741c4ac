"""The bus's key space (ARCHITECTURE.md): every key the desk publishes or serves on."""

from __future__ import annotations

import re

_SEGMENT = re.compile(r"[^A-Za-z0-9_.\-]")


def segment(value: str) -> str:
    """One key segment: '/', '*', '$', '?' and '#' have meanings in Zenoh keys, so they become
    '_' (BTC/USD -> BTC_USD)."""
    cleaned = _SEGMENT.sub("_", value)
    if not cleaned:
        raise ValueError("an empty key segment")
    return cleaned


class Keys:
    ROOT = "desk"
    RISK_COMMANDS = "desk/risk/commands"
    ALL_HEALTH = "desk/health/*"
    ALL_FILLS = "desk/fills/*"
    ALL_ORDERS = "desk/orders/*"
    ALL_ALERTS = "desk/alerts/*"
    ALL_MARKET_DATA = "desk/md/**"
    LLM_USAGE = "desk/llm/usage"

    @staticmethod
    def market_data(venue: str, symbol: str) -> str:
        return f"desk/md/{segment(venue)}/{segment(symbol)}"

    @staticmethod
    def orders(strategy: str) -> str:
        return f"desk/orders/{segment(strategy)}"

    @staticmethod
    def fills(strategy: str) -> str:
        return f"desk/fills/{segment(strategy)}"

    @staticmethod
    def alerts(severity: str) -> str:
        return f"desk/alerts/{segment(severity)}"

    @staticmethod
    def health(agent: str) -> str:
        return f"desk/health/{segment(agent)}"

    @staticmethod
    def rpc(service: str, method: str) -> str:
        return f"desk/rpc/{segment(service)}/{segment(method)}"
