"""The PM supervisor: routes each request to the agents that can do it."""

from __future__ import annotations

from typing import Literal, Protocol

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.types import Command, Send

from agents.desk import Desk
from agents.knowledge import explain
from agents.results import RESET, IntentRecord, Results, check_intent
from agents.state import DeskState, Node
from graph.intents import Intent, Refusal

HELP = (
    'I can: research or backtest a strategy ("find a momentum strategy for BTC and '
    'paper-trade it"), trade ("buy 0.5 BTC", "put 10% into ETH", "sell half our ETH"), '
    "flatten the book, cancel open orders, show positions, exposure, risk, correlations or "
    "prices, halt everything, write a report, load data, check health, and explain the last "
    "decision."
)
Agent = Literal["research", "execution", "risk", "data", "monitor", "report", "__end__"]
ROUTES: dict[str, list[str]] = {
    "research": ["research", "judge", "risk"],
    "backtest": ["research", "judge", "risk"],
    "trade": ["execution"],
    "close": ["execution"],
    "flatten": ["execution"],
    "cancel": ["execution"],
    "halt": ["execution"],
    "positions": ["risk"],
    "exposure": ["risk"],
    "risk": ["risk"],
    "correlation": ["risk"],
    "tracking": ["risk"],
    "price": ["data"],
    "report": ["risk", "monitor", "report"],
    "data": ["data"],
    "health": ["monitor"],
    "explain": [],
    "resume": [],
    "promote": [],
    "unknown": [],
    "refused": [],
    "clarify": [],
}


def pm_answer(desk: Desk, intent: Intent, request: str) -> str | None:
    """What the PM answers itself, with no agent: None when an agent must act."""
    if intent.kind == "explain":
        return explain(desk, request)
    if intent.kind == "unknown":
        return HELP
    if intent.kind == "clarify":
        return str(intent.question)
    if intent.kind == "resume":
        state = desk.gateway.trading_state.value
        if state == "active":
            return "Trading is active: there is nothing to resume."
        # A halt is lifted by a named human, never from a chat turn (the engine refuses it).
        return (
            f"Trading is {state}. Re-arming is a human's decision, recorded with their name: "
            "quantdesk gateway rearm --by NAME --reason '...'"
        )
    if intent.kind == "promote":
        where = intent.stage or "paper"
        if where == "live":
            return (
                "Going live takes a named approver and is not done from chat: research the "
                "strategy, let it trade on paper, and a human promotes it."
            )
        return (
            "A strategy goes to paper when research finds it and you ask to paper-trade it: "
            '"find a momentum strategy for BTC and paper-trade it".'
        )
    return None


class Router(Protocol):
    name: str

    def route(self, text: str) -> Intent: ...


def refused(results: Results) -> str | None:
    """The turn's refusal line, if its request was refused as unreadable."""
    pm = results.get("pm")
    return pm["refused"] if pm and pm["refused"] else None


def refusal_text(desk: Desk, refusal: Refusal) -> str:
    """The refusal in one line; for a symbol, with what the desk can trade."""
    if refusal.subject == "symbol":
        return f"{refusal.message}; this desk trades {', '.join(desk.book.tradable)}"
    return refusal.message


def _request(state: DeskState) -> str:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return state.get("request", "")


def node(desk: Desk, router: Router) -> Node:
    def pm(state: DeskState) -> Command[Agent]:
        request = _request(state)
        intent = router.route(request)
        plan = ROUTES[intent.kind]
        # The state keeps the intent's JSON (a model in a checkpoint would not load cleanly).
        record: IntentRecord = check_intent(intent.model_dump())
        update = {
            "request": request,
            "intent": record,
            "plan": plan,
            "results": {RESET: True},
            "trace": ["pm"],
        }
        answer = pm_answer(desk, intent, request)
        if answer is not None:
            return Command(
                goto="__end__", update=update | {"messages": [AIMessage(answer, name="pm")]}
            )
        if intent.refusal is not None:
            # Interfaces read results["pm"]["refused"] to answer one clear line (CLI exit 2,
            # HTTP 400, an SSE error event); nothing else ran.
            text = refusal_text(desk, intent.refusal)
            return Command(
                goto="__end__",
                update=update
                | {
                    "results": {RESET: True, "pm": {"refused": text}},
                    "messages": [AIMessage(text, name="pm")],
                },
            )
        if intent.kind == "report":
            branch: DeskState = {"intent": record, "request": request}
            return Command(goto=[Send("risk", branch), Send("monitor", branch)], update=update)
        return Command(goto=plan[0], update=update)  # type: ignore[arg-type]

    return pm
