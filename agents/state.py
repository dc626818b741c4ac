"""The PM graph's state (re-exported by graph/state.py). Reducers say how parallel
branches merge; the typed parts are in agents/results.py."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph.message import add_messages
from langgraph.types import Command

from agents.results import (
    RESET,
    AgentResult,
    ApprovalRecord,
    IntentRecord,
    PortfolioView,
    Results,
)

Node = Callable[..., Any]
"""A LangGraph node: each agent module has a `node(desk)` factory returning one."""


def finish(
    agent: str, result: AgentResult, text: str, goto: str = "__end__", **update: Any
) -> Command[Any]:
    """How a node ends: its result under its name, its name in the trace, its short answer in
    the conversation, then `goto`. `update` adds to (or replaces) those keys."""
    base = {"results": {agent: result}, "trace": [agent], "messages": [AIMessage(text, name=agent)]}
    return Command(goto=goto, update=base | update)


def merge(left: Results | None, right: Results | None) -> Results:
    """Merge agents' outputs; an update carrying `__reset__` starts a new turn's results."""
    right = right or {}
    if right.get(RESET):
        fresh = right.copy()
        del fresh[RESET]
        return fresh
    return {**(left or {}), **right}


class DeskState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation: the PM's requests and every agent's short answer."""
    request: str
    """The request this turn works on (the last human message, or a scheduled objective)."""
    intent: IntentRecord
    """The routed intent (`core.models.intent.Intent` as a dict), with the router that read it."""
    plan: list[str]
    """The agents the PM intends to involve, in order."""
    results: Annotated[Results, merge]
    """Each agent's structured output this turn, keyed by agent."""
    portfolio: PortfolioView
    """Positions, cash, equity, trading state and limits version, as risk last saw them."""
    approvals: Annotated[list[ApprovalRecord], operator.add]
    """Every approval decision taken in this thread: who, when, what, why."""
    trace: Annotated[list[str], operator.add]
    """The nodes that ran, in order (for the UI, the evals and the tests)."""
