"""A LangChain chat model on any OpenAI-compatible endpoint. With a Helicone key the calls
go through Helicone's gateway: `Helicone-Auth`, the real endpoint in `Helicone-Target-Url`,
and per-request `Helicone-Property-*` and `Helicone-Session-*` headers. (The `helicone` PyPI
package targets openai 0.27 and is not used.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.caches import BaseCache
from langchain_core.callbacks import BaseCallbackHandler
from pydantic import SecretStr

from core.settings import Settings

# langchain_openai (and openai under it) takes about a second to import: it loads when a model
# is called, not when the desk or the CLI starts.
if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI


def helicone_headers(
    settings: Settings, session_id: str, session_name: str, path: str, properties: dict[str, str]
) -> dict[str, str]:
    if settings.helicone_api_key is None:
        return {}
    headers = {
        "Helicone-Auth": f"Bearer {settings.helicone_api_key.get_secret_value()}",
        "Helicone-Target-Url": settings.llm_base_url or "",
        "Helicone-Session-Id": session_id,
        "Helicone-Session-Name": session_name,
        "Helicone-Session-Path": path,
    }
    headers |= {f"Helicone-Property-{k}": v for k, v in properties.items()}
    return headers


def chat_model(
    settings: Settings,
    *,
    session_id: str,
    path: str,
    properties: dict[str, str] | None = None,
    callbacks: list[BaseCallbackHandler] | None = None,
    max_tokens: int = 256,
    cache: BaseCache | None = None,
) -> ChatOpenAI:
    """`cache` (core/llm/cache.py `LlmCache`): answers are looked up there before the
    endpoint is asked, and kept there after; None asks the endpoint every time."""
    if settings.llm_base_url is None:
        raise ValueError("no LLM configured: set QUANTDESK_LLM_BASE_URL")
    from langchain_openai import ChatOpenAI

    through_helicone = settings.helicone_api_key is not None
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.helicone_base_url if through_helicone else settings.llm_base_url,
        api_key=settings.llm_api_key or SecretStr("not-needed"),
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        temperature=0,
        default_headers=helicone_headers(settings, session_id, "quantdesk", path, properties or {}),
        callbacks=callbacks,
        cache=cache,
        # llama.cpp's server ignores max_completion_tokens; max_tokens works everywhere.
        extra_body={"max_tokens": max_tokens},
    )
