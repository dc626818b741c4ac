"""The desk's MCP server, driven by the `mcp` package's own client over both transports:
streamable HTTP (the served app's /mcp/, a real uvicorn on 127.0.0.1) and stdio (`quantdesk
mcp` as a subprocess). Proposals go through the PM, the gate and approvals as chat does; the
API's roles apply; every call leaves an audit row."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.server import serve_in_background
from tests.interfaces.conftest import KEY_SETTING, KEYS, auth, desk_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(host: DeskHost, tmp_path: Path) -> Iterator[str]:
    with serve_in_background(create_app(desk_settings(tmp_path), host)) as url:
        yield url


def over_http(url: str, who: str) -> Client:
    http = httpx2.AsyncClient(headers={"X-API-Key": KEYS[who]}, timeout=120)
    return Client(streamable_http_client(f"{url}/mcp/", http_client=http))


async def call(client: Client, tool: str, **args: Any) -> tuple[bool, Any]:
    result = await client.call_tool(tool, args)
    if result.is_error:
        return True, " ".join(getattr(c, "text", "") for c in result.content)
    return False, result.structured_content


def mcp_calls(host: DeskHost) -> list[tuple[str, dict[str, Any]]]:
    rows = host.session.store.client.query(
        "SELECT actor, payload FROM audit_log WHERE kind = 'mcp.call' ORDER BY ts"
    ).result_rows
    return [(actor, json.loads(payload)) for actor, payload in rows]


def test_a_big_order_over_mcp_waits_for_approval_like_chat(served: str, host: DeskHost):
    async def scenario() -> tuple[Any, ...]:
        async with over_http(served, "trader") as trader:
            tools = {t.name for t in (await trader.list_tools()).tools}
            proposed = await call(
                trader, "propose_order", side="buy", quantity=5, symbol="BTC", thread_id="mcp-big"
            )
            listed = await call(trader, "approvals")
        # The same pause the API shows for a chat request.
        over_api = httpx.get(f"{served}/v1/approvals", headers=auth("viewer")).json()
        async with over_http(served, "approver") as approver:
            answered = await call(
                approver, "answer_approval", thread_id="mcp-big", decision="approve",
                reason="sized ok",
            )  # fmt: skip
            positions = await call(approver, "positions")
        return tools, proposed, listed, over_api, answered, positions

    tools, (err, turn), listed, over_api, answered, positions = asyncio.run(scenario())
    assert {"positions", "exposure_and_risk", "market_data", "market_quality",
            "research_results", "knowledge_instruments", "recall", "propose_order",
            "propose_halt", "propose_research", "answer_approval"} <= tools  # fmt: skip
    assert not err, turn
    assert turn["pending"]["order"]["quantity"] == 5
    assert turn["pending"]["gate_reasons"] == ["APPROVAL_REQUIRED"]
    assert [p["thread_id"] for p in over_api] == ["mcp-big"]
    assert over_api[0]["request"]["order"]["quantity"] == 5
    assert [p["thread_id"] for p in listed[1]["result"]] == ["mcp-big"]
    err, out = answered
    assert not err, out
    assert (out["results"]["execution"]["verdict"], out["results"]["execution"]["status"]) == (
        "ACCEPT", "filled",
    )  # fmt: skip
    assert [p["quantity"] for p in positions[1]["result"]] == [pytest.approx(5)]
    approval = host.session.store.client.query(
        "SELECT actor FROM audit_log WHERE kind = 'approval.answer'"
    ).result_rows
    assert approval == [("human:mcp:approver",)]
    calls = mcp_calls(host)
    assert sorted((a, p["tool"], p["outcome"]) for a, p in calls) == [
        ("mcp:approver", "answer_approval", "ok"),
        ("mcp:approver", "positions", "ok"),
        ("mcp:trader", "approvals", "ok"),
        ("mcp:trader", "propose_order", "ok"),
    ]


def test_roles_apply_and_refusals_change_nothing(served: str, host: DeskHost):
    async def scenario() -> tuple[Any, ...]:
        async with over_http(served, "viewer") as viewer:
            as_viewer = await call(
                viewer, "propose_order", side="buy", quantity=1, symbol="BTC", thread_id="v1"
            )
            risk = await call(viewer, "exposure_and_risk")
        async with over_http(served, "trader") as trader:
            approve_own = await call(trader, "answer_approval", thread_id="t1", decision="approve")
            unknown = await call(
                trader, "propose_order", side="buy", quantity=1, symbol="NOPE", thread_id="t2"
            )
            bad_size = await call(
                trader, "propose_order", side="buy", quantity=-3, symbol="BTC", thread_id="t3"
            )
            denied = await call(
                trader, "propose_order", side="buy", quantity=5000, symbol="BTC", thread_id="t4"
            )
        return as_viewer, risk, approve_own, unknown, bad_size, denied

    as_viewer, risk, approve_own, unknown, bad_size, denied = asyncio.run(scenario())
    assert as_viewer[0]
    assert as_viewer[1].endswith("viewer is a viewer; propose_order needs trader")
    assert not risk[0]
    assert set(risk[1]) == {"exposure", "limits", "risk"}
    assert approve_own[0]
    assert approve_own[1].endswith("trader is a trader; answer_approval needs approver")
    assert unknown[0]
    assert "NOPE" in unknown[1]
    assert bad_size[0]  # the tool's schema refuses it before the desk sees it
    assert denied[0]
    assert "the risk gate denied the order" in denied[1]
    assert httpx.get(f"{served}/v1/orders", headers=auth("viewer")).json() == []
    assert httpx.get(f"{served}/v1/approvals", headers=auth("viewer")).json() == []
    outcomes = {(p["tool"], p["outcome"].split(":")[0]) for _, p in mcp_calls(host)}
    assert ("propose_order", "refused") in outcomes
    assert ("answer_approval", "refused") in outcomes


def test_a_request_without_a_known_key_never_reaches_a_tool(served: str, host: DeskHost):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    for headers in ({}, {"X-API-Key": "not-a-key-0123456789"}):
        answer = httpx.post(
            f"{served}/mcp/", json=body,
            headers={**headers, "Accept": "application/json, text/event-stream"},
        )  # fmt: skip
        assert answer.status_code == 401
    assert mcp_calls(host) == []


def test_over_stdio_the_started_key_is_the_caller(tmp_path: Path):
    env = {
        **os.environ,
        "QUANTDESK_DATA_DIR": str(tmp_path / "desk"),
        "QUANTDESK_API_KEYS": KEY_SETTING,
        "QUANTDESK_LOG_JSON": "false",
    }
    loaded = subprocess.run(
        [sys.executable, "-m", "interfaces.cli", "data", "load", "crypto"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    refused = subprocess.run(
        [sys.executable, "-m", "interfaces.cli", "mcp"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "QUANTDESK_MCP_API_KEY is not set" in refused.stderr

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "interfaces.cli", "mcp"], cwd=str(ROOT),
        env={**env, "QUANTDESK_MCP_API_KEY": KEYS["trader"]},
    )  # fmt: skip

    async def scenario() -> tuple[Any, ...]:
        async with Client(params, read_timeout_seconds=120) as trader:
            proposed = await call(
                trader, "propose_order", side="buy", quantity=5, symbol="BTC", thread_id="s1"
            )
            listed = await call(trader, "approvals")
            approve = await call(trader, "answer_approval", thread_id="s1", decision="approve")
            quality = await call(trader, "market_quality", limit=5)
        return proposed, listed, approve, quality

    (err, turn), listed, approve, quality = asyncio.run(scenario())
    assert not err, turn
    assert turn["pending"]["gate_reasons"] == ["APPROVAL_REQUIRED"]
    assert [p["thread_id"] for p in listed[1]["result"]] == ["s1"]
    assert approve[0]
    assert approve[1].endswith("trader is a trader; answer_approval needs approver")
    assert not quality[0]
    assert quality[1]["series"]


def test_the_mcp_server_leaves_the_processes_logging_alone(host: DeskHost, tmp_path: Path):
    """The API mounts the MCP server; the library configures an unconfigured root logger (a
    Rich handler at INFO), and the process's logging is its host's to choose."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers[:] = []
    root.setLevel(logging.WARNING)
    try:
        create_app(desk_settings(tmp_path), host)
        assert root.handlers == []
        assert root.level == logging.WARNING
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
