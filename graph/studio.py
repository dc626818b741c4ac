"""The PM graph for LangGraph Studio (`langgraph.json`). Studio brings its own
checkpointer, so this graph is compiled without one; the desk opens on the configured store."""

from __future__ import annotations

from agents.desk import Desk
from core.settings import get_settings
from core.store import Store
from graph.build import build_graph
from graph.routers import make_router

_settings = get_settings()
graph = build_graph(Desk.open(_settings, Store.open(_settings)), make_router(_settings))
