"""`quantdesk llm serve|status|stop`: the local model behind an OpenAI-compatible server on
127.0.0.1, which the desk routes through while it runs (unless QUANTDESK_LLM_BASE_URL
points elsewhere)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from interfaces.cli.settings import get_settings

if TYPE_CHECKING:
    from core.llm.local_server import ServeOptions, ServerRecord

# Soft wrap: the lines carry paths and URLs to copy, which a wrap would break.
console = Console(width=None if Console().is_terminal else 120, soft_wrap=True)
app = typer.Typer(
    help="The local model server (llama.cpp, OpenAI-compatible).", no_args_is_help=True
)


def serve_model(options: ServeOptions, data_dir: Path) -> tuple[ServerRecord, float]:
    """Assemble (with a progress bar when the parts are joined), start, wait until it answers.
    Returns the record and the seconds it took. Raises LocalModelError or LocalServerError."""
    # core.llm loads the LLM client stack: only when a model command runs.
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from core.llm.local_server import start

    began = time.monotonic()
    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    bar = Progress("joining the model's parts", *columns, console=console, transient=True)
    task = bar.add_task("join", total=None)
    status = console.status(f"starting the server for {options.model}")

    def joined(done: int, total: int) -> None:
        # Shown only when the parts are joined; a verified model is reused at once.
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    def stop_bar() -> None:
        # Progress.stop prints a newline on a non-terminal even when it never started.
        if bar.live.is_started:
            bar.stop()

    def assembled(gguf: Path) -> None:
        stop_bar()
        status.start()

    try:
        record = start(options, data_dir, progress=joined, on_assembled=assembled)
    finally:
        stop_bar()
        status.stop()
    return record, time.monotonic() - began


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def describe(gguf: Path) -> str:
    from core.llm.gguf import GgufFormatError, read_metadata

    try:
        return read_metadata(gguf).summary()
    except (OSError, GgufFormatError) as exc:
        return f"unreadable ({exc})"


@app.command("serve")
def serve(
    model: Annotated[
        str, typer.Option(help="qwen-0.5b (installed by `make`), qwen-1.5b, or a .gguf path.")
    ] = "qwen-0.5b",
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 8089,
    threads: Annotated[
        int | None, typer.Option(help="CPU threads (default: cores - 1, leaving one for the desk).")
    ] = None,
    ctx: Annotated[int, typer.Option(help="Context window in tokens.")] = 8192,
    prompt_cache: Annotated[
        bool, typer.Option(help="Keep evaluated prompts in RAM across requests.")
    ] = True,
) -> None:
    """Start the local model's server in the background and wait until it answers."""
    from pydantic import ValidationError

    from core.llm.local_model import LocalModelError
    from core.llm.local_server import LocalServerError, ServeOptions

    settings = get_settings()
    try:
        chosen = {"model": model, "port": port, "ctx": ctx, "prompt_cache": prompt_cache}
        options = ServeOptions.model_validate(
            chosen | ({"threads": threads} if threads is not None else {})
        )
        record, took = serve_model(options, settings.data_dir)
    except (LocalModelError, LocalServerError, ValidationError) as exc:
        console.print(f"[red]llm serve:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    console.print(
        f"{record.model} serving at {record.base_url} (pid {record.pid}, "
        f"{plural(record.threads, 'thread')}, context {record.ctx}, ready in {took:.1f} s); "
        f"log {record.log}"
    )
    if settings.llm_base_url is not None:
        console.print(
            f"QUANTDESK_LLM_BASE_URL is set ({settings.llm_base_url}): the desk keeps using "
            f"that; unset it to route through the local model"
        )
    else:
        console.print(
            "the desk now routes through it (`quantdesk ask --router llm ...`, `chat`, `serve`) "
            "while it runs; `quantdesk llm stop` stops it"
        )


@app.command("status")
def status() -> None:
    """Whether the local model server runs (exit 1 when it does not) and what it serves."""
    from core.llm.local_server import live_record, served_models

    record = live_record(get_settings().data_dir)
    if record is None:
        console.print("llm: not running")
        raise typer.Exit(1)
    answers = served_models(record.base_url)
    console.print(f"llm: running (pid {record.pid}) at {record.base_url}, model {record.model}")
    console.print(f"  gguf {record.gguf}: {describe(record.gguf)}")
    console.print(
        f"  {plural(record.threads, 'thread')}, context {record.ctx}, prompt cache "
        f"{'on' if record.prompt_cache else 'off'}, started {record.started_at:%Y-%m-%d %H:%M:%S}"
        f" UTC; log {record.log}"
    )
    shown = ", ".join(answers) if answers else "[red]no answer[/]"
    console.print(f"  /v1/models: {shown}")


@app.command("stop")
def stop() -> None:
    """Stop the local model server (SIGTERM, then SIGKILL after a grace period)."""
    from core.llm.local_server import stop as stop_server

    stopped = stop_server(get_settings().data_dir)
    if stopped is None:
        console.print("llm: was not running")
    else:
        console.print(f"llm: stopped (pid {stopped.pid}, {stopped.model})")
