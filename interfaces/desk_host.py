"""One desk session shared by the HTTP API, the web page, Slack and the scheduler. The store
and the gateway belong to this process and are not thread-safe, so every call that touches
them holds one lock. Whoever answers an approval (web, Slack, CLI over the API), the others
hear of it: listeners get each new pending approval and each answer."""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar
from uuid import uuid4

from agents.results import check_results
from core.logs import trace_id_var
from core.models.approval import ApprovalCard
from graph.session import DeskSession, Turn
from graph.supervisor import refused
from interfaces.panels.activity import AgentBoard
from interfaces.panels.step_table import table_of

T = TypeVar("T")
log = logging.getLogger(__name__)
PendingListener = Callable[[str, ApprovalCard], None]
AnswerListener = Callable[[str, Turn, str, str], None]


@contextmanager
def traced() -> Iterator[str]:
    """One trace id for a turn: the caller's (an HTTP request id) or a new one. Logs written
    during the turn, and the orders, fills and risk commands it causes on the bus, carry it."""
    token = trace_id_var.set(trace_id_var.get() or uuid4().hex)
    try:
        yield trace_id_var.get() or ""
    finally:
        trace_id_var.reset(token)


class ThreadBusyError(RuntimeError):
    """A turn already runs on this thread: one turn at a time per conversation."""


STEP_TOPICS = {
    "execution": ("orders", "portfolio", "market", "approvals", "state"),
    "approval": ("orders", "portfolio", "market", "approvals"),
    "risk": ("portfolio", "state", "strategies"),
    "research": ("strategies",),
    "judge": ("strategies",),
    "report": ("strategies",),
    "data": ("market",),
}
"""What a step of each agent may change, for the cockpit's live updates."""


def _quiet_step(agent: str, request: str) -> str:
    """What a step that answered nothing did, for the agents panel."""
    if agent == "pm":
        return f"routed: {request[:80]}"
    if agent == "execution":
        return "sent or parked an order (see the approvals and the audit trail)"
    return ""


class DeskHost:
    def __init__(self, session: DeskSession) -> None:
        self.session = session
        # The gateway writes its records under the store's lock: the same one.
        self.lock = session.desk.gateway.store_lock
        self.on_pending: list[PendingListener] = []
        self.on_answered: list[AnswerListener] = []
        nodes = [n for n in session.graph.get_graph().nodes if not n.startswith("__")]
        self.board = AgentBoard(known=tuple(nodes))
        self._busy: set[str] = set()
        self._changed = threading.Condition()
        self.version = 0
        self._topics: dict[int, tuple[str, ...]] = {}

    def changed(self, *topics: str) -> None:
        """Tell the cockpit's live streams that these parts of the desk changed."""
        with self._changed:
            self.version += 1
            self._topics[self.version] = topics
            self._topics.pop(self.version - 256, None)
            self._changed.notify_all()

    def wait_changed(self, since: int, timeout: float) -> tuple[int, set[str]]:
        """The topics changed after version `since` (waiting up to `timeout` for one)."""
        with self._changed:
            if self.version == since:
                self._changed.wait(timeout)
            if since < self.version - 255:  # too far behind: everything may have changed
                return self.version, {t for ts in self._topics.values() for t in ts}
            found = {t for v in range(since + 1, self.version + 1) for t in self._topics.get(v, ())}
            return self.version, found

    def _take(self, thread_id: str) -> None:
        with self._changed:
            if thread_id in self._busy:
                raise ThreadBusyError(
                    f"a turn is still running on thread {thread_id!r}; send the next message "
                    "when it ends"
                )
            self._busy.add(thread_id)

    def _release(self, thread_id: str) -> None:
        with self._changed:
            self._busy.discard(thread_id)

    @contextmanager
    def _claim(self, thread_id: str) -> Iterator[None]:
        self._take(thread_id)
        try:
            yield
        finally:
            self._release(thread_id)

    def read(self, view: Callable[..., T], *args: Any) -> T:
        """Run a read-only view of the desk under the lock."""
        with self.lock:
            self.session.desk.gateway.settle_audit()
            return view(self.session.desk, *args)

    def _announce(self, turn: Turn) -> None:
        if turn.pending is not None:
            for listener in self.on_pending:
                listener(turn.thread_id, turn.pending)

    def ask(self, text: str, thread_id: str) -> Turn:
        with self._claim(thread_id), traced(), self.lock:
            try:
                turn = self.session.ask(text, thread_id)
            except Exception as exc:
                self.board.error("pm", f"{type(exc).__name__} on thread {thread_id}")
                raise
        for agent in turn.trace:
            self.board.step(agent, _quiet_step(agent, text))
            self.changed(*STEP_TOPICS.get(agent, ()))
        self.changed("audit", "agents", "approvals")
        self._announce(turn)
        return turn

    def stream(self, text: str, thread_id: str) -> Iterator[dict[str, Any]]:
        """The PM's steps as they finish, then the approval it paused on (if any) and the end.
        The turn runs on its own thread, so a slow reader never holds the desk's lock.
        ThreadBusyError at once, before any event, if a turn already runs on the thread."""
        self._take(thread_id)
        events: queue.Queue[dict[str, Any] | None] = queue.Queue()

        def run() -> None:
            trace = ""
            try:
                with traced() as trace, self.lock:
                    # The PM answers itself only when it ends the turn (explain, help, a
                    # refusal): its line is held back until the turn's outcome is known.
                    held: dict[str, Any] | None = None
                    for step in self.session.steps(text, thread_id):
                        event = {
                            "event": "step",
                            "agent": step.agent,
                            "text": step.text,
                            "table": table_of(step.result),
                        }
                        self.board.step(step.agent, step.text or _quiet_step(step.agent, text))
                        self.changed(*STEP_TOPICS.get(step.agent, ()), "agents")
                        if step.agent == "pm" and step.text:
                            held = event
                        else:
                            events.put(event)
                    refusal = self._refusal(thread_id)
                    pending = self.session.pending_for(thread_id)
                if refusal is not None:
                    events.put({"event": "error", "error": refusal, "thread_id": thread_id})
                    return
                if held is not None:
                    events.put(held)
                if pending is not None:
                    events.put(
                        {"event": "approval", "thread_id": thread_id, "request": pending.payload()}
                    )
                    for listener in self.on_pending:
                        listener(thread_id, pending)
                events.put({"event": "done", "thread_id": thread_id})
            except Exception as exc:  # the reader must hear of a failure, not hang
                # One readable line; the exception's own text (a pydantic dump, a path)
                # goes to the log under the turn's trace id, not to the reader.
                log.exception("turn on thread %s failed", thread_id)
                line = (
                    f"the desk could not finish this request ({type(exc).__name__});"
                    f" see the log for trace id {trace or 'unknown'}"
                )
                self.board.error("pm", line)
                events.put({"event": "error", "error": line, "thread_id": thread_id})
            finally:
                self._release(thread_id)
                self.changed("audit", "agents", "approvals")
                events.put(None)

        # The turn's thread runs in the caller's context, so it keeps the request's trace id.
        context = contextvars.copy_context()
        threading.Thread(
            target=context.run, args=(run,), name=f"turn-{thread_id}", daemon=True
        ).start()
        return self._drain(events)

    @staticmethod
    def _drain(events: queue.Queue[dict[str, Any] | None]) -> Iterator[dict[str, Any]]:
        while (event := events.get()) is not None:
            yield event

    def _refusal(self, thread_id: str) -> str | None:
        """The refusal line of the thread's last turn, if the PM refused its request."""
        state = self.session.graph.get_state({"configurable": {"thread_id": thread_id}})
        return refused(check_results(state.values.get("results") or {}))

    def answer(self, thread_id: str, decision: str, approver: str, reason: str) -> Turn:
        with traced(), self.lock:
            before = self.session.pending_for(thread_id)
            turn = self.session.answer(thread_id, decision, approver, reason)
        if (
            decision == "approve"
            and before is not None
            and turn.pending is not None
            and len(turn.pending.approved_by) == len(before.approved_by)
        ):
            # The approval step counted nothing (the same person again): say so, rather
            # than an empty answer.
            line = (
                f"{approver} already approved this order and is not counted twice: it needs "
                f"{turn.pending.approvals_needed} different approvers"
            )
            turn = replace(turn, answers=[*turn.answers, line])
        self.board.step("approval", f"{decision} by {approver}")
        for text in turn.answers[:1]:
            self.board.step("execution", text)
        self.changed("approvals", "orders", "portfolio", "market", "audit", "agents", "state")
        for listener in self.on_answered:
            listener(thread_id, turn, decision, approver)
        self._announce(turn)
        return turn

    def pending(self) -> dict[str, ApprovalCard]:
        with self.lock:
            return self.session.pending()

    def pending_for(self, thread_id: str) -> ApprovalCard | None:
        with self.lock:
            return self.session.pending_for(thread_id)

    def record(self, event: str, payload: dict[str, Any], actor: str) -> None:
        """An audit row for something refused or done outside the graph (a Slack click by a
        non-approver, a scheduled run)."""
        with self.lock:
            self.session.desk.gateway.record(event, payload, actor=actor)
        self.changed("audit")
