"""A desk session: the store, the desk, the PM graph with its SQLite checkpointer, and the
calls the CLI, the API and the tests make (ask, resume an approval, list pending ones)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from uuid import UUID

from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from agents.desk import Desk
from agents.results import Results, check_results
from agents.state import DeskState
from core.faults import crash_point
from core.models.approval import ApprovalCard
from core.settings import Settings
from core.store import Store
from graph.build import build_graph
from graph.decision_record import record_decision
from graph.intents import Intent
from graph.routers import make_router
from graph.supervisor import Router


class NotWaitingError(ValueError):
    """An answer to a thread that is not paused on an approval (never was, or already
    answered)."""


@dataclass(frozen=True)
class Turn:
    thread_id: str
    answers: list[str]
    trace: list[str]
    results: Results
    """What each agent left this turn, validated as it is read out of the graph."""
    pending: ApprovalCard | None
    """The approval the graph paused on, if it did."""
    routed_by: str = ""
    """Which router decided the turn's request ("rules", "llm", or "rules (model skipped:
    …)"); empty when no request was routed (a thread waiting for its approval)."""


@dataclass(frozen=True)
class Step:
    """One node's step of a turn: its line to the user and what it left in the results."""

    agent: str
    text: str
    result: Any


def _routed_by(intent: Any) -> str:
    return Intent.model_validate(intent).routed_by if isinstance(intent, dict) else ""


class CrashSafeSaver(SqliteSaver):
    """The SQLite saver with the order path's checkpoint crash points around each write."""

    def put(self, *args: Any, **kwargs: Any) -> RunnableConfig:
        crash_point("checkpoint.before")
        saved = super().put(*args, **kwargs)
        crash_point("checkpoint.after")
        return saved


def waiting_answer(pending: ApprovalCard, thread_id: str) -> str:
    """What a new message on a thread paused on an approval gets back: the order that waits
    and how to answer it. The approval stays listed and answerable."""
    what = f"{pending.order.line()} (order {pending.order.order_id})"
    return (
        f"This thread is waiting for an approval of {what}; nothing else runs on it until "
        f"that is answered. Answer it with `quantdesk approvals approve {thread_id} --approver "
        f"<you>` or `quantdesk approvals reject {thread_id} --approver <you>`, in the web page "
        "or in Slack, or ask on another thread."
    )


class DeskSession:
    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        router: Router | None = None,
    ) -> None:
        self.settings = settings
        self._own_store = store is None
        self.store = store or Store.open(settings)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.desk = Desk.open(settings, self.store)
        self.router = router or make_router(settings)
        self._conn = sqlite3.connect(
            settings.data_dir / "checkpoints.sqlite", check_same_thread=False
        )
        saver = CrashSafeSaver(self._conn)
        # The saver makes its tables on first write; `pending()` reads them before any turn.
        saver.setup()
        self.graph = build_graph(self.desk, self.router, saver)
        self.reconcile()

    def reconcile(self) -> list[str]:
        """Finish the threads whose approved order reached the venue before the process died
        and before the conversation was saved: they would otherwise show an approval that
        was already acted on. The approval step sees the order went out and sends nothing.
        Returns the threads finished."""
        done = []
        for thread_id, pending in self.pending().items():
            order_id = pending.order.order_id
            if not self.desk.gateway.reached_venue(UUID(order_id)):
                continue
            status = self.desk.gateway.order_status(UUID(order_id)) or ("", 0.0, 0.0)
            resume: Command[Any] = Command(resume={"decisions": [{"type": "reconcile"}]})
            self.graph.invoke(resume, self._config(thread_id), durability="exit")
            self.desk.gateway.record(
                "approval.reconciled",
                {"thread_id": thread_id, "order_id": order_id, "status": status[0]},
                actor="desk",
            )
            done.append(thread_id)
        return done

    def _turn(self, thread_id: str, out: dict[str, Any]) -> Turn:
        messages = out.get("messages", [])
        last_human = max(
            (i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1
        )
        messages = messages[last_human + 1 :]
        interrupts = out.get("__interrupt__") or []
        return Turn(
            thread_id=thread_id,
            answers=[str(m.content) for m in messages if isinstance(m, AIMessage)],
            trace=list(out.get("trace", [])),
            results=check_results(out.get("results", {})),
            pending=ApprovalCard.model_validate(interrupts[0].value) if interrupts else None,
            routed_by=_routed_by(out.get("intent")),
        )

    def _config(self, thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}}

    max_messages = 200
    """A thread's history is trimmed to its last half when it grows past this: every turn
    reads and writes the thread's checkpoint, so an all-day chat would slow each turn."""

    def _trim(self, thread_id: str) -> None:
        config = self._config(thread_id)
        state = self.graph.get_state(config)
        messages = state.values.get("messages", [])
        # A thread paused mid-turn (an approval waiting) is left exactly as it is.
        if len(messages) <= self.max_messages or state.next:
            return
        old = messages[: len(messages) - self.max_messages // 2]
        self.graph.update_state(
            config, {"messages": [RemoveMessage(id=m.id) for m in old if m.id]}, as_node="pm"
        )

    def ask(self, text: str, thread_id: str = "desk") -> Turn:
        pending = self.pending_for(thread_id)
        if pending is not None:
            return Turn(thread_id, [waiting_answer(pending, thread_id)], [], {}, pending)
        self._trim(thread_id)
        request: DeskState = {"messages": [HumanMessage(text)]}
        # Checkpoint when the turn ends (or pauses): one write instead of one per step.
        out = self.graph.invoke(request, self._config(thread_id), durability="exit")
        turn = self._turn(thread_id, out)
        self._decided(thread_id, text, out.get("intent"), turn.results)
        return turn

    def _decided(self, thread_id: str, text: str, intent: Any, results: Results) -> None:
        record_decision(
            self.desk.gateway,
            thread_id,
            text,
            intent if isinstance(intent, dict) else None,
            _routed_by(intent),
            results,
        )

    def stream(
        self, text: str, thread_id: str = "desk", every_step: bool = False
    ) -> Iterator[tuple[str, str]]:
        """(agent, answer) as each node finishes, for a chat that shows the PM's steps; with
        `every_step`, nodes that answer nothing (the PM routing) come too, with ""."""
        for step in self.steps(text, thread_id):
            if step.text or every_step:
                yield step.agent, step.text

    def steps(self, text: str, thread_id: str = "desk") -> Iterator[Step]:
        """Each node's step as it finishes, with what it left in the turn's results; a node
        that answers several lines gives one step per line, its result on the first."""
        pending = self.pending_for(thread_id)
        if pending is not None:
            yield Step("pm", waiting_answer(pending, thread_id), None)
            return
        self._trim(thread_id)
        request: DeskState = {"messages": [HumanMessage(text)]}
        for update in self.graph.stream(
            request, self._config(thread_id), stream_mode="updates", durability="exit"
        ):
            for agent, change in update.items():
                if agent == "__interrupt__":
                    continue
                change = change if isinstance(change, dict) else {}
                result = (change.get("results") or {}).get(agent)
                lines = [str(m.content) for m in change.get("messages", [])] or [""]
                for k, line in enumerate(lines):
                    yield Step(agent, line, result if k == 0 else None)
        values = self.graph.get_state(self._config(thread_id)).values
        self._decided(
            thread_id, text, values.get("intent"), check_results(values.get("results") or {})
        )

    def answer(
        self,
        thread_id: str,
        decision: str,
        approver: str,
        reason: str = "",
        edited_args: dict[str, Any] | None = None,
    ) -> Turn:
        """Answer the approval a thread is paused on: approve, reject or edit."""
        if self.pending_for(thread_id) is None:
            raise NotWaitingError(f"thread {thread_id!r} is not waiting for an approval")
        item: dict[str, Any] = {"type": decision, "approver": approver, "reason": reason}
        if decision == "edit":
            item["edited_action"] = {"name": "submit_order", "args": edited_args or {}}
        resume: Command[Any] = Command(resume={"decisions": [item]})
        out = self.graph.invoke(resume, self._config(thread_id), durability="exit")
        return self._turn(thread_id, out)

    def pending_for(self, thread_id: str) -> ApprovalCard | None:
        state = self.graph.get_state(self._config(thread_id))
        for task in state.tasks:
            for pending in task.interrupts:
                return ApprovalCard.model_validate(pending.value)
        return None

    def pending(self) -> dict[str, ApprovalCard]:
        """Every thread paused on an approval, with its request."""
        threads = [r[0] for r in self._conn.execute("SELECT DISTINCT thread_id FROM checkpoints")]
        found = {t: self.pending_for(t) for t in threads}
        return {t: p for t, p in found.items() if p is not None}

    def close(self) -> None:
        self.desk.close()
        self._conn.close()
        if self._own_store:
            self.store.close()

    def __enter__(self) -> DeskSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
