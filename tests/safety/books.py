"""What a crash must never break, read back from the desk's own files: each scripted order
booked exactly once, the restarted gateway's position equal to the booked fills, every fill
joined to the gate decision that let it out, and no approval left hanging."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from core.store import TradeLog
from graph.session import DeskSession
from tests.safety.scripted_desk import expected


@dataclass(frozen=True)
class Books:
    filled: dict[str, float]
    """Booked quantity per order id."""
    position: float
    """The restarted gateway's BTC position."""
    booked_position: float
    """The BTC position the booked fills add up to."""
    unjoined: list[str]
    """Order ids with fills but no ACCEPT decision in the audit log."""
    pending: list[str]
    """Threads still waiting for an approval."""

    expected: list[float]
    """The quantity of every order the script meant to book, sorted."""

    @property
    def duplicated(self) -> int:
        """Orders booked more than once (more orders, or more quantity, than meant)."""
        extra = max(0, len(self.filled) - len(self.expected))
        return extra + sum(1 for q in self.filled.values() if q - 1e-9 > max(self.expected))

    @property
    def lost(self) -> int:
        return max(0, len(self.expected) - len(self.filled))

    def problems(self) -> list[str]:
        found = []
        if sorted(round(q, 9) for q in self.filled.values()) != self.expected:
            found.append(f"booked per order {self.filled} != expected {self.expected}")
        if abs(self.position - self.booked_position) > 1e-9:
            found.append(f"position {self.position} != booked fills {self.booked_position}")
        if self.unjoined:
            found.append(f"fills without a gate decision: {self.unjoined}")
        if self.pending:
            found.append(f"threads still waiting: {self.pending}")
        return found


def read_books(data_dir: Path, rounds: int = 1) -> Books:
    settings = Settings(data_dir=data_dir, log_json=False)
    with DeskSession(settings) as session:
        fills = TradeLog(session.store).fills(account_id="paper")
        filled: dict[str, float] = defaultdict(float)
        booked = 0.0
        for fill in fills:
            filled[str(fill["order_id"])] += float(str(fill["quantity"]))
            sign = 1.0 if fill["side"] == "buy" else -1.0
            booked += sign * float(str(fill["quantity"]))
        accepted = {
            str(row[0])
            for row in session.store.client.query(
                "SELECT correlation_id FROM audit_log WHERE kind = 'gate.decision' "
                "AND JSONExtractString(payload, 'verdict') = 'ACCEPT'"
            ).result_rows
        }
        return Books(
            filled=dict(filled),
            position=session.desk.gateway.holdings().get("bitstamp:BTC/USD", 0.0),
            booked_position=booked,
            unjoined=sorted(set(filled) - accepted),
            pending=sorted(session.pending()),
            expected=expected(rounds),
        )
