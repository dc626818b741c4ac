"""Natural language to Cypher for the PM, executed read-only.

Two locks: the text is refused before it runs if it holds any clause or procedure that can
write, and what passes runs in a READ transaction, where the server refuses writes itself."""

from __future__ import annotations

import re
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from knowledge.graph.connection import KnowledgeGraph

SCHEMA_HINT = """Nodes: Market{name}, Venue{id,name,market}, Instrument{id,venue,symbol,quote,
tradable,intervals,bars}, Asset{symbol}, Strategy{key,kind,params,stage,gate_strategy},
RiskModel{name,kind}, Backtest{id,oos_sharpe,in_sample_sharpe,expected_max_drawdown,trades},
Agent{name}, Decision{id,verdict,reasons,order_id,strategy_id,action,ts},
Approval{id,order_id,approver,answer,reason,ts}.
Relationships: (Venue)-[:IN_MARKET]->(Market), (Venue)-[:LISTS]->(Instrument),
(Instrument)-[:OF_ASSET]->(Asset), (Strategy)-[:TRADES]->(Instrument),
(Strategy)-[:USES_RISK_MODEL]->(RiskModel), (Strategy)-[:EVALUATED_BY]->(Backtest),
(Strategy)-[:PROPOSED_BY]->(Agent), (Strategy)-[:STAGE{stage,reason,ts}]->(Agent),
(Decision)-[:PROPOSED_BY]->(Agent), (Decision)-[:FOR_STRATEGY]->(Strategy),
(Decision)-[:APPROVED_BY]->(Approval),
(Instrument)-[:CORRELATED_WITH{weight,window_days,observations,as_of}]->(Instrument)."""

WRITES = re.compile(
    r"\b(CREATE|MERGE|DELETE|DETACH|SET|REMOVE|DROP|FOREACH|LOAD\s+CSV|ALTER|GRANT|DENY|"
    r"REVOKE|RENAME|START|STOP|TERMINATE|ENABLE|DISABLE)\b"
    r"|\bCALL\s*\{|\bIN\s+TRANSACTIONS\b|\bCALL\s+(?!db\.(labels|relationshipTypes|propertyKeys|"
    r"schema\.visualization)\b)[\w.]+",
    re.IGNORECASE,
)
MAX_ROWS = 200


class CypherRefusedError(ValueError):
    """The generated query could write, or is not a single read query; nothing ran."""


class CypherProposal(BaseModel):
    """What the model must return: one read-only Cypher query and parameters for it."""

    cypher: str = Field(min_length=1, max_length=4000)
    parameters: dict[str, str | int | float | bool] = Field(default_factory=dict)


class CypherModel(Protocol):
    def propose(self, question: str, schema: str) -> object: ...


def _strip_strings(cypher: str) -> str:
    """Drop string literals and comments, so a word inside quotes neither hides nor fakes a
    clause."""
    text = re.sub(r"//[^\n]*|/\*.*?\*/", " ", cypher, flags=re.DOTALL)
    return re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`", "''", text)


def check_read_only(cypher: str) -> str:
    bare = _strip_strings(cypher)
    found = WRITES.search(bare)
    if found:
        raise CypherRefusedError(f"refused: the query would write ({found.group(0).strip()})")
    if ";" in bare.strip().rstrip(";"):
        raise CypherRefusedError("refused: one query at a time")
    if not re.match(r"\s*(MATCH|OPTIONAL\s+MATCH|WITH|UNWIND|RETURN|CALL\s+db\.)", bare, re.I):
        raise CypherRefusedError("refused: a read query starts with MATCH, WITH, UNWIND or RETURN")
    return cypher.strip().rstrip(";")


def run_read_only(
    graph: KnowledgeGraph, cypher: str, parameters: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    query = check_read_only(cypher)
    return graph.read(f"{query}\nLIMIT {MAX_ROWS}" if "LIMIT" not in query.upper() else query,
                      **(parameters or {}))  # fmt: skip


def ask(graph: KnowledgeGraph, model: CypherModel, question: str) -> list[dict[str, Any]]:
    """Ask the model for Cypher, check it, run it read-only. Malformed output is refused."""
    try:
        raw = model.propose(question, SCHEMA_HINT)
    except Exception as exc:  # the endpoint failed or its output would not parse
        raise CypherRefusedError(
            f"refused: no usable query from the model ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc
    try:
        proposal = CypherProposal.model_validate(raw)
    except ValidationError as exc:
        raise CypherRefusedError(f"refused: the model's answer is not a query: {exc}") from exc
    return run_read_only(graph, proposal.cypher, proposal.parameters)


CYPHER_START = re.compile(
    r"\s*(MATCH|OPTIONAL\s+MATCH|WITH|UNWIND|RETURN|CALL|CREATE|MERGE|DETACH|DELETE|SET|"
    r"REMOVE|DROP|LOAD|FOREACH|ALTER|GRANT|SHOW|USE)\b",
    re.IGNORECASE,
)


def looks_like_cypher(text: str) -> bool:
    """Cypher (to be checked and run, or refused) rather than a question in words."""
    return CYPHER_START.match(text) is not None
