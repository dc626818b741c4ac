"""A persistent LLM response cache (SQLite) that makes the desk's LLM decisions reproducible:
a replay that runs again asks the endpoint nothing and reads back, answer for answer, what
the first run was told.

It is a langchain-core `BaseCache`: a chat model built with `cache=` asks it before every
call (`lookup`) and hands it every answer it got from the endpoint (`update`). The key is
the sha256 of a canonical JSON of what decides the answer: the messages, the model's name
and generation parameters (temperature, max_tokens, extra_body, ...) and the call's own
arguments (tools, tool_choice, stop, ...). How the endpoint is reached is left out (base
URL, API key, headers, timeout, retries): the Helicone session headers are new for every
router, and the same model behind another URL answers the same.

How usage is counted. A hit returns the recorded answer with no `llm_output`, so
`core.llm.budget.TokenBudget` counts the call with 0 tokens and $0 (its usage listeners hear
a 0-token call): a cached answer spends none of the run's token budget, which is what the
endpoint was asked for. The cache keeps its own counters (`LlmCache.stats`): misses (calls
that went to the endpoint) with the tokens and estimated cost the endpoint reported, and
hits with the tokens and cost their answers took when they were recorded, so a replay can
charge both what it spent and what its answers cost. The answer's message keeps its
recorded `usage_metadata` (langchain sets its `total_cost` to 0 on a hit): it is the
answer as it was given.

Each answer is committed as it arrives (WAL journal), so a replay killed midway keeps the
calls it made. An entry that cannot be read back is a miss, and the endpoint's new answer
replaces it; a read or write that fails is logged and never fails the call."""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import sqlite3
import threading
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.load import Serializable, dumps, loads
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, Generation
from pydantic import BaseModel, ConfigDict

from core.llm.budget import PRICES

log = logging.getLogger("quantdesk.llm.cache")

KEY_VERSION = 1  # bump when what the key covers changes: older entries then miss
# Constructor fields that say how the endpoint is reached, not what it is asked.
TRANSPORT_FIELDS = frozenset({
    "openai_api_base", "base_url", "openai_api_key", "api_key", "openai_organization",
    "organization", "openai_proxy", "default_headers", "default_query", "request_timeout",
    "timeout", "max_retries", "http_client", "http_async_client", "client", "async_client",
    "root_client", "root_async_client", "callbacks", "callback_manager", "cache", "verbose",
    "tags", "metadata", "rate_limiter",
})  # fmt: skip
# Only these classes are revived from the file: it holds answers, nothing that calls out.
_REVIVED: list[type[Serializable]] = [
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    AIMessage,
    AIMessageChunk,
]
# CPython 3.11's AST builder keeps its recursion depth per interpreter, not per thread:
# literal_eval in two threads at once can fail with "AST constructor recursion depth
# mismatch" (seen once in tests/core/test_llm_cache.py's threads). The lock keeps the
# cache's own threads apart; a clash with another thread's compile() is retried.
_AST_LOCK = threading.Lock()
_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_cache (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    generations TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    recorded_at TEXT NOT NULL
)"""


class CacheStats(BaseModel):
    """What a cache has served since it was opened (or `reset_stats`). Tokens are as the
    endpoint reported them; costs are estimates at `core.llm.budget.PRICES` (0 for an
    unknown model)."""

    model_config = ConfigDict(frozen=True)

    hits: int = 0
    misses: int = 0  # lookups that found nothing usable: the call went to the endpoint
    stored: int = 0  # answers the endpoint gave that were written
    unreadable: int = 0  # entries that could not be read back (counted among the misses)
    miss_prompt_tokens: int = 0
    miss_completion_tokens: int = 0
    miss_cost_usd: float = 0.0
    hit_prompt_tokens: int = 0  # what the hits' answers took when they were recorded
    hit_completion_tokens: int = 0
    hit_cost_usd: float = 0.0

    @property
    def calls(self) -> int:
        return self.hits + self.misses

    @property
    def miss_tokens(self) -> int:
        return self.miss_prompt_tokens + self.miss_completion_tokens

    @property
    def hit_tokens(self) -> int:
        return self.hit_prompt_tokens + self.hit_completion_tokens


def _canonical(value: Any) -> str:
    # sort_keys and fixed separators make equal values equal strings; default=str writes
    # a value JSON cannot the same way each time it is the same value.
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    except (TypeError, ValueError):  # keys of mixed types cannot be sorted
        return repr(value)


def _params(text: str) -> Any:
    """The call's arguments as langchain writes them (`str(sorted(params.items()))`), as
    data, transport fields left out; the text itself when it is not a Python literal (a
    key then still, but only equal to one written the same way)."""
    pairs: Any = None
    for _ in range(3):
        try:
            with _AST_LOCK:
                pairs = ast.literal_eval(text.strip())
            break
        except SystemError:
            continue  # the AST builder's depth count, upset by another thread: again
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return {"text": text}
    else:
        return {"text": text}
    if isinstance(pairs, list) and all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
        return {str(k): v for k, v in pairs if k not in TRANSPORT_FIELDS}
    return {"value": pairs}


def _llm_material(llm_string: str) -> dict[str, Any]:
    """What in `llm_string` decides the answer. A serializable chat model writes its
    constructor as JSON, then `---`, then the call's arguments; any other model writes its
    arguments alone."""
    try:
        model, end = json.JSONDecoder().raw_decode(llm_string)
    except ValueError:
        return {"params": _params(llm_string)}
    rest = llm_string[end:]
    if not isinstance(model, dict) or not rest.startswith("---"):
        return {"params": _params(llm_string)}
    kwargs = model.get("kwargs")
    if isinstance(kwargs, dict):
        model = model | {"kwargs": {k: v for k, v in kwargs.items() if k not in TRANSPORT_FIELDS}}
    return {"model": model, "params": _params(rest[3:])}


def _model_name(material: dict[str, Any]) -> str:
    kwargs = (material.get("model") or {}).get("kwargs") or {}
    params = material.get("params") or {}
    for name in (params.get("model"), kwargs.get("model_name"), kwargs.get("model")):
        if isinstance(name, str):
            return name
    return ""


def cache_key(prompt: str, llm_string: str) -> str:
    """The sha256 (hex) of the canonical JSON of the messages and what in `llm_string`
    decides the answer."""
    try:
        messages: Any = json.loads(prompt)
    except ValueError:
        messages = prompt
    material = {"v": KEY_VERSION, "messages": messages, "llm": _llm_material(llm_string)}
    return hashlib.sha256(_canonical(material).encode()).hexdigest()


def _usage(generations: Sequence[Generation]) -> tuple[int, int]:
    """The call's (prompt, completion) tokens. ChatOpenAI puts the whole call's usage on
    each generation's message, so the first that carries it is the call's."""
    for generation in generations:
        message = getattr(generation, "message", None)
        usage = getattr(message, "usage_metadata", None)
        if usage:
            return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        reported = (getattr(message, "response_metadata", None) or {}).get("token_usage")
        if isinstance(reported, dict):
            return (
                int(reported.get("prompt_tokens") or 0),
                int(reported.get("completion_tokens") or 0),
            )
    return 0, 0


def _cost(model: str, prompt: int, completion: int) -> float:
    price_in, price_out = PRICES.get(model, (0.0, 0.0))
    return (prompt * price_in + completion * price_out) / 1e6


def _revive(text: str) -> list[Generation]:
    with warnings.catch_warnings():
        # `loads` is marked beta in langchain-core 1.x; the warning says nothing to act on.
        warnings.filterwarnings("ignore", message=r"The function `loads` is in beta")
        revived = loads(text, allowed_objects=_REVIVED)
    if not (
        isinstance(revived, list) and revived and all(isinstance(g, Generation) for g in revived)
    ):
        raise ValueError(f"not a list of generations: {type(revived).__name__}")
    return revived


class LlmCache(BaseCache):
    """LLM answers in a SQLite file, keyed by `cache_key`. Safe to share between threads
    (one connection behind a lock) and between the desk's chat models."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._stats = CacheStats()
        # check_same_thread=False: the lock, not the connection's thread, guards it.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute(_SCHEMA)
        except sqlite3.Error:
            self._db.close()
            raise

    def _count(self, **more: float) -> None:
        current = self._stats.model_dump()
        self._stats = CacheStats(**{k: current[k] + more.get(k, 0) for k in current})

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = cache_key(prompt, llm_string)
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT model, generations, prompt_tokens, completion_tokens"
                    " FROM llm_cache WHERE key = ?",
                    (key,),
                ).fetchone()
            except sqlite3.Error:
                log.exception("llm cache read failed: the endpoint is asked")
                row = None
            if row is None:
                self._count(misses=1)
                return None
            try:
                model, text, prompt_tokens, completion_tokens = row
                generations = _revive(text)
                prompt_tokens, completion_tokens = int(prompt_tokens), int(completion_tokens)
            except Exception as exc:
                # A torn or hand-edited entry: the endpoint answers again and replaces it.
                log.warning("llm cache entry %s unreadable (%s): the endpoint is asked", key, exc)
                self._count(misses=1, unreadable=1)
                return None
            self._count(
                hits=1, hit_prompt_tokens=prompt_tokens, hit_completion_tokens=completion_tokens,
                hit_cost_usd=_cost(str(model), prompt_tokens, completion_tokens),
            )  # fmt: skip
            return generations

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        material = _llm_material(llm_string)
        model = _model_name(material)
        try:
            prompt_tokens, completion_tokens = _usage(return_val)
        except (TypeError, ValueError):  # usage a provider wrote oddly: the answer still counts
            prompt_tokens, completion_tokens = 0, 0
        key = cache_key(prompt, llm_string)
        with self._lock:
            # The endpoint was paid whether or not the answer can be kept.
            self._count(
                miss_prompt_tokens=prompt_tokens, miss_completion_tokens=completion_tokens,
                miss_cost_usd=_cost(model, prompt_tokens, completion_tokens),
            )  # fmt: skip
            try:
                text = dumps(list(return_val))
                _revive(text)  # an answer that would not read back is not kept
                self._db.execute(
                    "INSERT OR REPLACE INTO llm_cache VALUES (?, ?, ?, ?, ?, ?)",
                    (key, model, text, prompt_tokens, completion_tokens,
                     datetime.now(UTC).isoformat()),
                )  # fmt: skip
            except Exception:
                log.exception("llm cache write failed: the answer is used, not kept")
                return
            self._count(stored=1)

    def clear(self, **kwargs: Any) -> None:
        """Forget every answer (the counters are kept: `reset_stats`)."""
        with self._lock:
            self._db.execute("DELETE FROM llm_cache")

    def stats(self) -> CacheStats:
        with self._lock:
            return self._stats

    def reset_stats(self) -> CacheStats:
        """The counters so far, and zero from now on (a replay's own share of a shared
        cache)."""
        with self._lock:
            stats, self._stats = self._stats, CacheStats()
            return stats

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM llm_cache").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> LlmCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: dict[Path, LlmCache] = {}
_shared_lock = threading.Lock()


def shared_cache(path: Path) -> LlmCache:
    """The process's one cache on `path`, opened on first use: every chat model that uses
    the file counts into the same `stats`."""
    resolved = path.expanduser().resolve()
    with _shared_lock:
        if resolved not in _shared:
            _shared[resolved] = LlmCache(resolved)
        return _shared[resolved]


def close_shared() -> None:
    """Close every shared cache (tests, and a process done with its replays)."""
    with _shared_lock:
        for cache in _shared.values():
            cache.close()
        _shared.clear()
