"""The PM graph's state (re-exported by graph/state.py). Reducers say how parallel
branches merge."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph.message import add_messages
from langgraph.types import Command

RESET = "__reset__"
Node = Callable[..., Any]
"""A LangGraph node: each agent module has a `node(desk)` factory returning one."""


def finish(
    agent: str, result: Any, text: str, goto: str = "__end__", **update: Any
) -> Command[Any]:
    """How a node ends: its result under its name, its name in the trace, its short answer in
    the conversation, then `goto`. `update` adds to (or replaces) those keys."""
    base = {"results": {agent: result}, "trace": [agent], "messages": [AIMessage(text, name=agent)]}
    return Command(goto=goto, update=base | update)


def merge(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Merge agents' outputs; an update carrying `__reset__` starts a new turn's results."""
    right = right or {}
    if right.get(RESET):
        return {k: v for k, v in right.items() if k != RESET}
    return {**(left or {}), **right}


class DeskState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation: the PM's requests and every agent's short answer."""
    request: str
    """The request this turn works on (the last human message, or a scheduled objective)."""
    intent: dict[str, Any]
    """The routed intent (`graph.intents.Intent` as a dict) and which router produced it."""
    plan: list[str]
    """The agents the PM intends to involve, in order."""
    results: Annotated[dict[str, Any], merge]
    """Each agent's structured output, keyed by agent."""
    portfolio: dict[str, Any]
    """Positions, cash, equity, trading state and limits version, as risk last saw them."""
    approvals: Annotated[list[dict[str, Any]], operator.add]
    """Every approval decision taken in this thread: who, when, what, why."""
    trace: Annotated[list[str], operator.add]
    """The nodes that ran, in order (for the UI, the evals and the tests)."""
