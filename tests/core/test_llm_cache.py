"""The LLM response cache (core/llm/cache.py) against a loopback OpenAI-compatible server:
a call asked before is answered from the SQLite file, not the endpoint; the key covers the
messages, tools and generation parameters and not how the endpoint is reached; the file
outlives its process; an unreadable entry is asked again and replaced; the PM's LLM router
uses it when `llm_cache_path` is set."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from core.llm import TokenBudget
from core.llm.cache import LlmCache, cache_key, close_shared, shared_cache
from core.llm.client import chat_model
from core.settings import Settings
from graph.llm_router import LlmRouter
from graph.routing_schema import KIND_TOOL
from graph.rule_router import RuleRouter
from tests.fakes.openai_compat import (
    FakeOpenAI,
    route_replies,
    serve_openai,
    text_reply,
    tool_call_reply,
)

MODEL = "qwen2.5-coder-0.5b-instruct"
TOOL = {
    "type": "function",
    "function": {
        "name": KIND_TOOL,
        "description": "The kind of desk request.",
        "parameters": {
            "type": "object",
            "properties": {"kind": {"type": "string", "enum": ["unknown", "exposure", "trade"]}},
            "required": ["kind"],
        },
    },
}
OTHER_TOOL = {
    "type": "function",
    "function": {
        "name": "RequestFields",
        "description": "The request's fields.",
        "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}}},
    },
}
ASKED: list[BaseMessage] = [SystemMessage("You classify one request."), HumanMessage("exposure?")]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with serve_openai() as server:
        yield server


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[LlmCache]:
    with LlmCache(tmp_path / "llm-cache.sqlite") as opened:
        yield opened


@pytest.fixture(autouse=True)
def _no_shared_cache_left() -> Iterator[None]:
    yield
    close_shared()


def settings(fake: FakeOpenAI, tmp_path: Path, **extra: Any) -> Settings:
    given: dict[str, Any] = {
        "data_dir": tmp_path / "desk", "llm_base_url": fake.base_url, "llm_model": MODEL,
        "llm_api_key": SecretStr("sk-test-not-real"), "llm_max_retries": 0,
    }  # fmt: skip
    return Settings(**(given | extra))


def model(
    fake: FakeOpenAI, tmp_path: Path, cache: LlmCache | None, session: str = "s1", **kw: Any
) -> ChatOpenAI:
    return chat_model(settings(fake, tmp_path), session_id=session, path="/t", cache=cache, **kw)


def kind_reply(kind: str = "exposure") -> tuple[int, dict[str, Any]]:
    return 200, tool_call_reply(json.dumps({"kind": kind}))


def ask(chat: ChatOpenAI, messages: list[BaseMessage] = ASKED, **bound: Any) -> AIMessage:
    tools = bound.pop("tools", [TOOL])
    answer = chat.bind_tools(tools, tool_choice=tools[0]["function"]["name"], **bound).invoke(
        messages
    )
    assert isinstance(answer, AIMessage)
    return answer


def test_the_same_call_twice_asks_the_endpoint_once(
    fake: FakeOpenAI, tmp_path: Path, cache: LlmCache
):
    budget = TokenBudget(10_000, MODEL, "v-test")
    fake.replies.append(kind_reply())  # one reply: a second request would get a 500
    chat = model(fake, tmp_path, cache, callbacks=[budget])
    first, second = ask(chat), ask(chat)
    assert len(fake.requests) == 1
    assert (
        first.tool_calls
        == second.tool_calls
        == [{"name": KIND_TOOL, "args": {"kind": "exposure"}, "id": "call_1", "type": "tool_call"}]
    )
    assert first.content == second.content
    stats = cache.stats()
    assert (stats.misses, stats.hits, stats.stored, stats.unreadable) == (1, 1, 1, 0)
    # The fake reports 120 prompt and 20 completion tokens: the miss paid them, the hit's
    # answer took as many when it was recorded.
    assert (stats.miss_prompt_tokens, stats.miss_completion_tokens) == (120, 20)
    assert (stats.hit_prompt_tokens, stats.hit_completion_tokens) == (120, 20)
    # The run's budget is charged for the endpoint's tokens only.
    assert (budget.calls, budget.used) == (2, 140)


def test_a_plain_text_answer_reads_back_the_same(fake: FakeOpenAI, tmp_path: Path, cache: LlmCache):
    fake.replies.append((200, text_reply("Exposure is flat.")))
    chat = model(fake, tmp_path, cache)
    answers = [chat.invoke(ASKED), chat.invoke(ASKED)]
    assert [a.content for a in answers] == ["Exposure is flat."] * 2
    assert len(fake.requests) == 1


def test_the_key_leaves_out_how_the_endpoint_is_reached(
    fake: FakeOpenAI, tmp_path: Path, cache: LlmCache
):
    """Through Helicone (another base URL, its headers naming another session), another API
    key, other retries: the same question, the same answer, from the cache."""
    fake.replies.append(kind_reply())
    ask(model(fake, tmp_path, cache))
    with serve_openai() as elsewhere:
        other = chat_model(
            settings(
                fake, tmp_path, llm_api_key=SecretStr("sk-other"), llm_max_retries=1,
                helicone_api_key=SecretStr("sk-helicone"), helicone_base_url=elsewhere.base_url,
            ),
            session_id="s2", path="/elsewhere", properties={"agent": "pm"}, cache=cache,
        )  # fmt: skip
        assert ask(other).tool_calls[0]["args"] == {"kind": "exposure"}
        assert elsewhere.requests == []
    assert (cache.stats().misses, cache.stats().hits) == (1, 1)


@pytest.mark.parametrize(
    "differs",
    [
        pytest.param({"messages": [*ASKED[:1], HumanMessage("exposure now?")]}, id="message"),
        pytest.param({"tools": [OTHER_TOOL]}, id="tool-list"),
        pytest.param({"tools": [TOOL, OTHER_TOOL]}, id="more-tools"),
        pytest.param({"temperature": 0.7}, id="temperature"),
        pytest.param({"max_tokens": 64}, id="max-tokens"),  # the extra_body chat_model sets
    ],
)
def test_a_different_question_is_asked_again(
    fake: FakeOpenAI, tmp_path: Path, cache: LlmCache, differs: dict[str, Any]
):
    fake.replies += [kind_reply("exposure"), kind_reply("trade")]
    ask(model(fake, tmp_path, cache))
    chat = model(fake, tmp_path, cache, max_tokens=differs.pop("max_tokens", 256))
    answer = ask(chat, **differs)
    assert len(fake.requests) == 2
    assert answer.tool_calls[0]["args"] == {"kind": "trade"}
    assert (cache.stats().misses, cache.stats().hits, len(cache)) == (2, 0, 2)


def test_the_answers_outlive_the_process(fake: FakeOpenAI, tmp_path: Path):
    path = tmp_path / "replay" / "llm.sqlite"
    fake.replies.append(kind_reply())
    with LlmCache(path) as first:
        recorded = ask(model(fake, tmp_path, first))
    with LlmCache(path) as reopened:
        replayed = ask(model(fake, tmp_path, reopened, session="another-run"))
        assert (reopened.stats().hits, reopened.stats().misses) == (1, 0)
        assert reopened.stats().hit_prompt_tokens == 120
    assert len(fake.requests) == 1
    assert replayed.tool_calls == recorded.tool_calls


@pytest.mark.parametrize(
    "corruption",
    [
        'generations = \'[{"lc": 1, "type": "constr\'',  # a torn write
        "generations = '[]'",  # no answer in it
        # A class the cache does not revive: an entry never builds anything but an answer.
        'generations = \'[{"lc": 1, "type": "constructor", "id": ["langchain", '
        '"chat_models", "openai", "ChatOpenAI"], "kwargs": {}}]\'',
        "prompt_tokens = 'many'",
    ],
)
def test_an_unreadable_entry_is_asked_again_and_replaced(
    fake: FakeOpenAI, tmp_path: Path, cache: LlmCache, corruption: str
):
    fake.replies += [kind_reply("exposure"), kind_reply("trade")]
    chat = model(fake, tmp_path, cache)
    ask(chat)
    with sqlite3.connect(cache.path) as db:
        assert db.execute(f"UPDATE llm_cache SET {corruption}").rowcount == 1
    assert ask(chat).tool_calls[0]["args"] == {"kind": "trade"}  # the endpoint's new answer
    assert ask(chat).tool_calls[0]["args"] == {"kind": "trade"}  # ... kept in its place
    assert len(fake.requests) == 2
    stats = cache.stats()
    assert (stats.misses, stats.unreadable, stats.hits, stats.stored, len(cache)) == (
        2, 1, 1, 2, 1,
    )  # fmt: skip


def test_threads_share_one_cache(tmp_path: Path, cache: LlmCache):
    """Lookups and updates from many threads on one connection: no error, every answer
    kept."""
    from langchain_core.load import dumps
    from langchain_core.outputs import ChatGeneration

    llm_string = '{"kwargs": {"model_name": "m"}}---[]'
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                prompt = dumps([HumanMessage(f"{n}-{i}")])
                assert cache.lookup(prompt, llm_string) is None
                cache.update(prompt, llm_string, [ChatGeneration(message=AIMessage(f"{n}"))])
                assert cache.lookup(prompt, llm_string) is not None
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert (len(cache), cache.stats().hits, cache.stats().misses) == (160, 160, 160)


def test_the_key_is_canonical():
    """The same question written with other whitespace or key order is the same key; the
    transport fields of the model's constructor do not count, its parameters do."""
    prompt = '[{"kwargs": {"content": "hi", "type": "human"}, "lc": 1}]'
    spaced = '[{"lc": 1,  "kwargs": {"type": "human", "content": "hi"}}]'
    llm = '{"kwargs": {"model_name": "m", "temperature": 0.0, "openai_api_base": "%s"}}---%s'
    params = "[('stop', None), ('tools', [{'name': 'RequestKind'}])]"
    key = cache_key(prompt, llm % ("http://a/v1", params))
    assert cache_key(spaced, llm % ("http://b/v1", params)) == key
    assert cache_key(prompt, llm.replace("0.0", "0.5") % ("http://a/v1", params)) != key
    assert cache_key(prompt, llm % ("http://a/v1", params.replace("Kind", "Fields"))) != key
    assert len(key) == 64


def test_the_router_routes_a_request_asked_before_from_the_cache(fake: FakeOpenAI, tmp_path: Path):
    """Two runs of the same request, each with a router of its own (its own session, which
    its Helicone headers name): the endpoint is asked once, both intents are the same, the
    second run spends no tokens."""
    path = tmp_path / "replay" / "llm.sqlite"
    fake.replies += route_replies("trade", side="buy", quantity=0.3, symbol="BTC")
    desk = settings(
        fake, tmp_path, llm_cache_path=path,
        helicone_api_key=SecretStr("sk-helicone"), helicone_base_url=fake.base_url,
    )  # fmt: skip
    runs = [LlmRouter(desk, RuleRouter()) for _ in "ab"]
    assert runs[0].session != runs[1].session
    first, second = (run.route("buy 0.3 BTC") for run in runs)
    assert (first.kind, first.side, first.quantity, first.symbol, first.router) == (
        "trade", "buy", 0.3, "BTC", "llm",
    )  # fmt: skip
    assert second.model_dump() == first.model_dump()
    assert len(fake.requests) == 2  # the kind, then the trade's fields: once
    assert (runs[0].budget.used, runs[1].budget.used) == (280, 0)
    stats = shared_cache(path).stats()
    assert (stats.misses, stats.hits, stats.miss_tokens, stats.hit_tokens) == (2, 2, 280, 280)


def test_the_router_without_a_cache_path_asks_every_time(fake: FakeOpenAI, tmp_path: Path):
    fake.replies += route_replies("exposure") * 2
    router = LlmRouter(settings(fake, tmp_path), RuleRouter())
    assert router.route("how exposed are we").kind == router.route("how exposed are we").kind
    assert len(fake.requests) == 4
