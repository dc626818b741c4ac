"""The PM graph's state. The types live with the agents (dependencies point inward:
graph -> agents), and are re-exported here where the graph is built."""

from agents.results import (
    RESET,
    AgentResult,
    ApprovalRecord,
    ExecutionResult,
    IntentRecord,
    PendingOrder,
    PortfolioView,
    Results,
)
from agents.state import DeskState, Node, merge

__all__ = [
    "RESET",
    "AgentResult",
    "ApprovalRecord",
    "DeskState",
    "ExecutionResult",
    "IntentRecord",
    "Node",
    "PendingOrder",
    "PortfolioView",
    "Results",
    "merge",
]
