"""A scripted run of the desk that the crash tests kill and restart: three orders (one that
waits for a human's approval), each step skipped when an earlier run already finished it.

    python -m tests.safety.scripted_desk DATA_DIR [ROUND]

Prints `DONE` as its last line when every step has finished. Run it again after any crash and
it takes up where the desk left off, as a person restarting the desk would.
"""

from __future__ import annotations

import sys
from pathlib import Path

from langchain_core.messages import AIMessage

from core.settings import Settings
from graph.session import DeskSession


def steps(round_no: int = 0) -> tuple[tuple[str, str, float], ...]:
    """(thread, request, quantity): the orders a round must leave booked exactly once each.
    Odd rounds trade the other way, so many rounds keep the position within limits."""
    buy, sell = ("buy", "sell") if round_no % 2 == 0 else ("sell", "buy")
    return (
        (f"small-{round_no}", f"{buy} 0.01 BTC", 0.01),
        (f"big-{round_no}", f"{buy} 3 BTC", 3.0),  # above the approval threshold
        (f"trim-{round_no}", f"{sell} 0.5 BTC", 0.5),
    )


def expected(rounds: int = 1) -> list[float]:
    """The booked quantity of every order `rounds` rounds leave, sorted."""
    return sorted(q for r in range(rounds) for _, _, q in steps(r))


APPROVER = "alice"


def _finished(session: DeskSession, thread_id: str) -> bool:
    state = session.graph.get_state(session._config(thread_id))
    messages = state.values.get("messages", [])
    return not state.next and any(isinstance(m, AIMessage) for m in messages)


def run(data_dir: Path, round_no: int = 0) -> None:
    settings = Settings(data_dir=data_dir, log_json=False)
    with DeskSession(settings) as session:
        for thread_id, request, _ in steps(round_no):
            if session.pending_for(thread_id) is None and not _finished(session, thread_id):
                session.ask(request, thread_id)
            if session.pending_for(thread_id) is not None:
                session.answer(thread_id, "approve", APPROVER, "scripted run")
            print(f"step {thread_id} finished", flush=True)
    print("DONE", flush=True)


if __name__ == "__main__":
    run(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0)
