"""The PM graph's state. The types live with the agents (dependencies point inward:
graph -> agents), and are re-exported here where the graph is built."""

from agents.state import RESET, DeskState, Node, merge

__all__ = ["RESET", "DeskState", "Node", "merge"]
