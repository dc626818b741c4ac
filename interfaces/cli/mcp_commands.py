"""`quantdesk mcp`: the desk's MCP server for other agents and assistants, over stdio (an
assistant starts it as a subprocess) or streamable HTTP on 127.0.0.1. `quantdesk serve` also
serves it, at /mcp/ beside the API."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from interfaces.cli.settings import get_settings

if TYPE_CHECKING:
    from core.settings import Settings
    from interfaces.api.keys import Caller, KeyRing

# stdout is the protocol's channel under stdio: everything for people goes to stderr.
console = Console(stderr=True)
KEY_ENV = "QUANTDESK_MCP_API_KEY"


def mcp(
    transport: Annotated[
        str, typer.Option(help="stdio (an assistant runs this command) or http (127.0.0.1).")
    ] = "stdio",
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 for --transport http.")] = 8765,
) -> None:
    """Serve the desk's tools over MCP: positions, exposure and risk, market data and its
    quality, research results, knowledge-graph queries, memory recall, approvals; proposals
    of orders, halts and research runs go through the PM, the gate and human approvals like
    any chat request. Roles are the API's keys: under stdio the key in QUANTDESK_MCP_API_KEY,
    over HTTP each request's X-API-Key header. Every call is audited."""
    if transport not in ("stdio", "http"):
        console.print(f"[red]unknown transport {transport!r}:[/] use stdio or http")
        raise typer.Exit(2)
    _serve(transport, port)  # type: ignore[arg-type]


def _serve(transport: Literal["stdio", "http"], port: int) -> None:
    from core.store import StoreConfigError, StoreLockedError
    from interfaces.api.keys import KeyConfigError, KeyRing
    from interfaces.server import local_admin_key

    settings, local_key = local_admin_key(get_settings())
    try:
        keys = KeyRing(settings.api_keys.get_secret_value() if settings.api_keys else None)
    except KeyConfigError as exc:
        console.print(f"[red]cannot serve MCP:[/] {exc}")
        raise typer.Exit(2) from None
    caller = keys.identify(os.environ.get(KEY_ENV))
    if transport == "stdio" and caller is None:  # over HTTP each request brings its key
        given = "is not a key the desk knows" if os.environ.get(KEY_ENV) else "is not set"
        console.print(f"[red]cannot serve MCP over stdio:[/] {KEY_ENV} {given}")
        raise typer.Exit(2)
    try:
        if caller is not None and transport == "stdio":
            _stdio(settings, keys, caller)
        else:
            _http(settings, port, local_key)
    except (StoreLockedError, StoreConfigError) as exc:
        console.print(f"[red]cannot serve MCP:[/] {exc}")
        raise typer.Exit(2) from None


def _stdio(settings: Settings, keys: KeyRing, caller: Caller) -> None:
    from graph.session import DeskSession
    from interfaces.desk_host import DeskHost
    from interfaces.mcp.desk_tools import build_server

    with DeskSession(settings) as session:
        host = DeskHost(session)
        host.record("mcp.start", {"transport": "stdio", "caller": caller.name}, "mcp")
        build_server(host, keys, stdio_caller=caller).run("stdio")


def _http(settings: Settings, port: int, local_key: str | None) -> None:
    import uvicorn

    from interfaces.server import build

    server = build(settings, schedule=False, bus=False)
    try:
        console.print(f"QuantDesk MCP on http://127.0.0.1:{port}/mcp/ (streamable HTTP)")
        if local_key is not None:
            console.print(f"local admin key (X-API-Key): {settings.data_dir / 'api-key'}")
        uvicorn.run(server.app, host="127.0.0.1", port=port, log_config=None)
    finally:
        server.close()
