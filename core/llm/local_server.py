"""The local model served: llama-cpp-python's OpenAI-compatible server as a detached
process on 127.0.0.1, recorded in `<data_dir>/llm/server.json` so any desk process (CLI,
API, scheduler) finds it and routes through it while it runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.llm.gguf import GgufFormatError, read_metadata
from core.llm.local_model import Progress, assemble, served_name
from core.settings import Settings

HOST = "127.0.0.1"
DEFAULT_PORT = 8089
# A CPU server with one slot answers one request at a time: a router prompt can take tens
# of seconds on a busy machine, and a client retry only queues behind the generation it
# abandoned (the server finishes it anyway). One long wait beats three short ones.
LOCAL_TIMEOUT_S = 120.0
# The RAM prompt cache keeps evaluated prompts (the router's and agents' system prompts)
# across requests that alternate between them. llama-cpp-python counts an entry by its KV
# state alone (about 12 MB for a 900-token prompt on the 0.5B), but each entry also copies
# the logits of up to one batch of tokens (batch x 151,936 vocabulary x 4 bytes: 311 MB at
# a batch of 512). Its default of 2 GiB held about 90 entries, 28 GB in fact, and the
# kernel killed the server after a few dozen requests. A batch of 128 (78 MB) and 128 MiB
# of counted state keep about ten entries, under 1 GB.
PROMPT_CACHE_BYTES = 128 << 20
DEFAULT_BATCH = 128


def default_threads() -> int:
    """Cores this process may use, less one left for the desk (at least one)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


class LocalServerError(RuntimeError):
    """The local model server cannot be started or did not come up; the message says why."""


class ServerRunningError(LocalServerError):
    """A server recorded under the data dir is alive: one per data dir."""


class ServeOptions(BaseModel):
    """What `quantdesk llm serve` starts."""

    model_config = ConfigDict(frozen=True)
    model: str = Field(default="qwen-0.5b", description="A known model name or a .gguf path.")
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="0: a free port.")
    threads: int = Field(default_factory=default_threads, ge=1)
    # The router's prompts are under 1,000 tokens before the request; the rest is room for
    # the agents' longer prompts (report facts, judge transcripts) and their answers.
    ctx: int = Field(default=8192, ge=256, description="Context window in tokens.")
    batch: int = Field(default=DEFAULT_BATCH, ge=1, description="Prompt tokens evaluated per step.")
    prompt_cache: bool = True
    ready_timeout_s: float = Field(default=180.0, gt=0)


class ServerRecord(BaseModel):
    """`<data_dir>/llm/server.json`: the running server, for every desk process to find."""

    pid: int
    port: int
    base_url: str
    model: str
    """The served model name (what a request's `model` says)."""
    gguf: Path
    threads: int
    ctx: int
    prompt_cache: bool
    started_at: datetime
    log: Path
    command: list[str]


def llm_dir(data_dir: Path) -> Path:
    return data_dir.resolve() / "llm"


def record_path(data_dir: Path) -> Path:
    return llm_dir(data_dir) / "server.json"


def read_record(data_dir: Path) -> ServerRecord | None:
    try:
        return ServerRecord.model_validate_json(record_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def _write_record(data_dir: Path, record: ServerRecord) -> None:
    path = record_path(data_dir)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".server.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(record.model_dump_json(indent=2))
    Path(tmp).replace(path)


def _reap(pid: int) -> None:
    """Collect the exit status when the server is our own child (the demo, the tests), so it
    does not linger as a zombie that still answers os.kill."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def process_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not count)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:  # no /proc (macOS): os.kill's answer stands
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _is_server(pid: int) -> bool:
    # After a reboot the recorded pid may belong to another program: never signal that one.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"llama_cpp.server" in cmdline


def live_record(data_dir: Path) -> ServerRecord | None:
    """The recorded server when its process is alive; None when none is recorded or the
    record is stale."""
    record = read_record(data_dir)
    if record is None or not process_alive(record.pid) or not _is_server(record.pid):
        return None
    return record


def served_models(base_url: str, timeout_s: float = 2.0) -> list[str] | None:
    """The model names `GET /v1/models` lists; None when the server does not answer."""
    # urllib: a loopback probe needs no client stack, and logs no line per poll.
    url = f"{base_url}/models"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - ours
            listed = json.loads(response.read())
        return [str(m["id"]) for m in listed["data"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As uvicorn binds: a port whose last connections linger in TIME_WAIT after a
        # stop is free to serve again.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def server_command(gguf: Path, alias: str, options: ServeOptions, port: int) -> list[str]:
    """The llama-cpp-python server's command line (flags as in its server/settings.py)."""
    threads = str(options.threads)
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf), "--model_alias", alias,
        "--host", HOST, "--port", str(port),
        # Prompt evaluation too (n_threads_batch defaults to every core): leave one free.
        "--n_threads", threads, "--n_threads_batch", threads,
        "--n_ctx", str(options.ctx), "--n_batch", str(min(options.batch, options.ctx)),
        # The server's default keeps logits for every prompt token (n_ctx x 151k floats,
        # 2.4 GB at 4096) and computes them too; only logprobs need them.
        "--logits_all", "false",
    ]  # fmt: skip
    # The GGUF's own Jinja template (Qwen's handles tools, which structured output uses);
    # left unset, llama-cpp-python may guess a built-in format from it instead.
    try:
        template = read_metadata(gguf).chat_template
    except GgufFormatError:  # the server says what is wrong with the file, in its log
        template = None
    if template is not None:
        command += ["--chat_format", "chat_template.default"]
    if options.prompt_cache:
        command += ["--cache", "true", "--cache_type", "ram"]
        command += ["--cache_size", str(PROMPT_CACHE_BYTES)]
    return command


def _server_env() -> dict[str, str]:
    """This environment less what would reconfigure the server behind its flags: its
    settings read unset fields from the environment (API_KEY would lock the desk out) and
    uvicorn takes HOST and PORT from it over the flags."""
    try:
        from llama_cpp.server.settings import Settings as ServerSettings
    except ImportError as exc:
        raise LocalServerError(
            f"llama-cpp-python's server is not installed ({exc}): run `uv sync --extra llm`"
        ) from None
    names = {n.upper() for n in ServerSettings.model_fields} | {"CONFIG_FILE"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    return env | {"PYTHONUNBUFFERED": "1"}


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_ready(record: ServerRecord, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LocalServerError(
                f"the model server exited ({proc.returncode}) before answering; the end of "
                f"{record.log}:\n{log_tail(record.log)}"
            )
        if served_models(record.base_url, timeout_s=1.0) is not None:
            return
        time.sleep(0.2)
    raise LocalServerError(
        f"the model server did not answer within {timeout_s:.0f} s and was stopped; the end "
        f"of {record.log}:\n{log_tail(record.log)}"
    )


def start(
    options: ServeOptions,
    data_dir: Path,
    progress: Progress | None = None,
    on_assembled: Callable[[Path], None] | None = None,
) -> ServerRecord:
    """Assemble the model, start its server detached (own session, outliving this process)
    and return once `GET /v1/models` answers. Refuses while a recorded server is alive; a
    stale record is replaced. Raises LocalModelError or LocalServerError."""
    running = live_record(data_dir)
    if running is not None:
        raise ServerRunningError(
            f"a model server already runs (pid {running.pid}, {running.base_url}, model "
            f"{running.model}): stop it first with `quantdesk llm stop`"
        )
    gguf = assemble(options.model, data_dir, progress)
    if on_assembled is not None:
        on_assembled(gguf)
    port = options.port or free_port()
    if not _port_free(port):
        raise LocalServerError(f"port {port} on {HOST} is in use: pass another with --port")
    alias = served_name(options.model)
    command = server_command(gguf, alias, options, port)
    env = _server_env()
    folder = llm_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed flags
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            cwd=folder, env=env, start_new_session=True,
        )  # fmt: skip
    record = ServerRecord(
        pid=proc.pid, port=port, base_url=f"http://{HOST}:{port}/v1", model=alias, gguf=gguf,
        threads=options.threads, ctx=options.ctx, prompt_cache=options.prompt_cache,
        started_at=datetime.now(UTC), log=log, command=command,
    )  # fmt: skip
    _write_record(data_dir, record)
    try:
        _wait_ready(record, proc, options.ready_timeout_s)
    except BaseException:  # it died, timed out, or the caller was interrupted: none left
        _stop_record(record, data_dir, grace_s=5.0)
        raise
    return record


def stop(data_dir: Path, grace_s: float = 10.0) -> ServerRecord | None:
    """Stop the recorded server: SIGTERM to its process group, SIGKILL after `grace_s`, then
    remove the record. Returns what was stopped; None when nothing ran (idempotent)."""
    record = read_record(data_dir)
    if record is None:
        return None
    return record if _stop_record(record, data_dir, grace_s) else None


def _stop_record(record: ServerRecord, data_dir: Path, grace_s: float) -> bool:
    """Stop `record`'s server and remove server.json if it still names it; whether it ran."""
    alive = process_alive(record.pid) and _is_server(record.pid)
    if alive:
        _signal_group(record.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while process_alive(record.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if process_alive(record.pid):
            _signal_group(record.pid, signal.SIGKILL)
            while process_alive(record.pid):
                time.sleep(0.05)
    # A `serve` racing this one may have recorded its own server since: leave that record.
    current = read_record(data_dir)
    if current is None or current.pid == record.pid:
        record_path(data_dir).unlink(missing_ok=True)
    return alive


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # The server leads its own session, so its group holds it and anything it started.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def with_local_model(settings: Settings) -> Settings:
    """Settings pointed at the local model server while one runs and no endpoint is
    configured; an explicit QUANTDESK_LLM_BASE_URL always wins, unchanged."""
    if settings.llm_base_url is not None:
        return settings
    record = live_record(settings.data_dir)
    if record is None:
        return settings
    return settings.model_copy(
        update={
            "llm_base_url": record.base_url,
            "llm_model": record.model,
            "llm_timeout_s": max(settings.llm_timeout_s, LOCAL_TIMEOUT_S),
            "llm_max_retries": 0,
            # Helicone's gateway cannot reach a server on our loopback.
            "helicone_api_key": None,
        }
    )
