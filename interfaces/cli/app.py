"""Top-level `quantdesk` app: wires the command groups."""

from __future__ import annotations

import typer

from interfaces.cli import (
    agent_commands,
    data_commands,
    desk_commands,
    eval_commands,
    gateway_commands,
    knowledge_commands,
    llm_commands,
    mcp_commands,
    replay_commands,
    research_commands,
    serve_commands,
)
from interfaces.cli.demo import demo
from interfaces.cli.startup import own_process

app = typer.Typer(
    name="quantdesk",
    help="QuantDesk: an AI-first trading desk.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(data_commands.app, name="data")
app.add_typer(gateway_commands.app, name="gateway")
app.add_typer(research_commands.app, name="research")
app.add_typer(desk_commands.approvals, name="approvals")
app.add_typer(knowledge_commands.services, name="services")
app.add_typer(knowledge_commands.knowledge, name="knowledge")
app.add_typer(knowledge_commands.memory, name="memory")
app.add_typer(llm_commands.app, name="llm")
app.command("ask")(desk_commands.ask)
app.command("chat")(desk_commands.chat)
app.command("run")(desk_commands.run)
app.command("demo")(demo)
app.command("agent")(agent_commands.agent)
app.command("serve")(serve_commands.serve)
app.command("mcp")(mcp_commands.mcp)
app.command("replay")(replay_commands.replay)
app.add_typer(eval_commands.app, name="eval")


@app.callback()
def _configure() -> None:
    from core.logs import configure_logging  # with the settings: not needed for `--help`
    from interfaces.cli.settings import get_settings

    configure_logging(get_settings())


def main() -> None:
    own_process()  # a `quantdesk` process of its own (interfaces/cli/startup.py)
    app()
