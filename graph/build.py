"""Build the PM graph: the supervisor and one node per agent."""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents import data, execution, judge, monitor, report, research, risk
from agents.desk import Desk
from agents.state import DeskState
from graph import approval, supervisor
from graph.supervisor import Router


def build_graph(
    desk: Desk, router: Router, checkpointer: BaseCheckpointSaver[str] | None = None
) -> CompiledStateGraph[DeskState]:
    builder = StateGraph(DeskState)
    builder.add_node("pm", supervisor.node(desk, router))
    builder.add_node("research", research.node(desk))
    builder.add_node("judge", judge.node(desk))
    builder.add_node("risk", risk.node(desk))
    builder.add_node("execution", execution.node(desk))
    builder.add_node("approval", approval.node(desk))
    builder.add_node("data", data.node(desk))
    builder.add_node("monitor", monitor.node(desk))
    # Deferred: after a fan-out, the report waits for every branch (risk and monitor).
    builder.add_node("report", report.node(desk), defer=True)
    builder.add_edge(START, "pm")
    return builder.compile(checkpointer=checkpointer)
