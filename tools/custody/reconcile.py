"""The vault against the ledger: each asset the desk holds (its positions' base currency)
against Fireblocks' total. A difference beyond the tolerance is a mismatch; the risk agent
records it and moves the account to REDUCING (fail safe), which alerts on the bus."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from core.models.trading import TradingState
from tools.custody.fireblocks_vault import CustodyError

if TYPE_CHECKING:
    from gateway import Gateway
    from tools.custody.fireblocks_vault import FireblocksVault


class CustodyMismatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    asset: str
    ledger: float
    vault: float


def vault_mismatches(
    ledger: dict[str, float], vault: dict[str, float], tolerance: float = 1e-8
) -> list[CustodyMismatch]:
    """Assets whose vault total differs from the ledger's (relative to the larger)."""
    return [
        CustodyMismatch(asset=asset, ledger=ledger.get(asset, 0.0), vault=vault.get(asset, 0.0))
        for asset in sorted(set(ledger) | set(vault))
        if abs(ledger.get(asset, 0.0) - vault.get(asset, 0.0))
        > tolerance * max(1.0, abs(ledger.get(asset, 0.0)))
    ]


class CustodyReview(BaseModel):
    """What one risk review found in custody."""

    vault: dict[str, float]
    ledger: dict[str, float]
    mismatches: list[CustodyMismatch]
    error: str | None = None


def ledger_assets(gateway: Gateway) -> dict[str, float]:
    """The crypto the ledger says the desk holds, by asset (BTC/USD's BTC)."""
    held: dict[str, float] = {}
    for position in gateway.positions():
        base, slash, _ = position.symbol.partition("/")
        if slash:
            held[base] = held.get(base, 0.0) + position.quantity
    return held


def review_custody(gateway: Gateway, vault: FireblocksVault, at: datetime) -> CustodyReview:
    """Read the vault and compare it with the ledger. A mismatch, or a vault that cannot be
    read, is recorded (`custody.mismatch`, `custody.unreadable`) and moves an ACTIVE account
    to REDUCING until a human looks: the trading-state change is the alert on the bus."""
    ledger = ledger_assets(gateway)
    try:
        held = vault.balances()
    except CustodyError as exc:
        gateway.record("custody.unreadable", {"code": exc.code}, actor="risk")
        _reduce(gateway, f"custody unreadable: {exc.code}", at)
        return CustodyReview(vault={}, ledger=ledger, mismatches=[], error=exc.code)
    found = vault_mismatches(ledger, held)
    if found:
        gateway.record(
            "custody.mismatch", {"mismatches": [m.model_dump() for m in found]}, actor="risk"
        )
        _reduce(gateway, "custody differs from the ledger: " + ", ".join(
            f"{m.asset} vault {m.vault:g} vs ledger {m.ledger:g}" for m in found), at)  # fmt: skip
    return CustodyReview(vault=held, ledger=ledger, mismatches=found)


def _reduce(gateway: Gateway, reason: str, at: datetime) -> None:
    if gateway.trading_state is TradingState.ACTIVE:
        gateway.set_trading_state(TradingState.REDUCING, "risk", reason[:500], at=at)
