"""A loopback server that answers `POST /v1/chat/completions` in the OpenAI wire format
(as llama.cpp's and vLLM's servers do), replaying scripted replies and recording requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from graph.routing_schema import FIELDS_TOOL, KIND_FIELDS, KIND_TOOL, NULL_ROUTE
from tests.fakes.loopback import send, serve


def tool_call_reply(arguments: str, name: str = KIND_TOOL, tokens: int = 140) -> dict:
    """A chat completion whose message calls one tool with `arguments` (a JSON string,
    possibly malformed on purpose)."""
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1764064800,
        "model": "qwen2.5-coder-0.5b-instruct",
        "choices": [{
            "index": 0, "finish_reason": "tool_calls",
            "message": {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": name, "arguments": arguments},
            }]},
        }],
        "usage": {"prompt_tokens": tokens - 20, "completion_tokens": 20, "total_tokens": tokens},
    }  # fmt: skip


def kind_reply(kind: str, tokens: int = 140) -> tuple[int, dict]:
    """The router's first call answered: the kind alone (graph/routing_schema.py)."""
    return 200, tool_call_reply(json.dumps({"kind": kind}), name=KIND_TOOL, tokens=tokens)


def fields_reply(kind: str, tokens: int = 140, **fields: object) -> tuple[int, dict]:
    """The router's second call answered: every field `kind` takes, null (paper_trade
    false) unless given, as a model constrained by the tool's grammar writes it."""
    every = {f: NULL_ROUTE[f] for f in KIND_FIELDS[kind]}
    return 200, tool_call_reply(json.dumps(every | fields), name=FIELDS_TOOL, tokens=tokens)


def route_replies(kind: str, tokens: int = 140, **fields: object) -> list[tuple[int, dict]]:
    """A model's whole reading of one request: the kind, then its fields if it takes any."""
    replies = [kind_reply(kind, tokens)]
    if kind in KIND_FIELDS:
        replies.append(fields_reply(kind, tokens, **fields))
    return replies


def text_reply(content: str, tokens: int = 200) -> dict:
    """A chat completion whose message is plain text."""
    return {
        "id": "chatcmpl-2", "object": "chat.completion", "created": 1764064800,
        "model": "qwen2.5-coder-0.5b-instruct",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": tokens - 50, "completion_tokens": 50, "total_tokens": tokens},
    }  # fmt: skip


@dataclass
class FakeOpenAI:
    replies: list[tuple[int, dict]] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            fake.requests.append(json.loads(body or b"{}"))
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            status, reply = fake.replies.pop(0) if fake.replies else (500, {"error": "no reply"})
            send(self, status, json.dumps(reply).encode())

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def serve_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    with serve(_handler(fake)) as port:
        fake.port = port
        yield fake
