"""A routed turn with the local model on this machine: the LLM router's call (schema,
grammar-constrained tool call, validation, the own-words guard) against the model served by
`quantdesk llm serve`, p50 and p95 seconds and tokens per turn, once with the server's
prompt cache and once without. The system prompt and the tool schema are a stable prefix,
so with the cache a turn evaluates only the request's own tokens.

Run: uv run python -m benchmarks.llm_routing [--model qwen-0.5b] [--turns 20] [--uncached-turns 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from core.llm.local_server import ServeOptions, start, stop
from core.settings import Settings
from graph.llm_router import LlmRouter
from graph.rule_router import RuleRouter

REQUESTS = (
    "what is our exposure?", "buy 0.5 BTC", "sell half of our ETH position",
    "find a momentum strategy for ETH and paper-trade it", "halt everything",
    "put 10% of the account into GOOG", "how correlated are BTC and ETH?",
    "what's the price of bitcoin?", "cancel all open orders", "sing me a song",
)  # fmt: skip


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(model: str, cache: bool, turns: int, data_dir: Path) -> dict[str, float]:
    record = start(ServeOptions(model=model, port=0, prompt_cache=cache), data_dir)
    try:
        settings = Settings(
            data_dir=data_dir, llm_base_url=record.base_url, llm_model=record.model,
            llm_timeout_s=300, llm_max_retries=0, llm_token_budget=10_000_000,
        )  # fmt: skip
        router = LlmRouter(settings, RuleRouter())
        if cache:
            router.route("what is our exposure?")  # the first request fills the cache
        seconds: list[float] = []
        tokens: list[int] = []
        by_model = 0
        for k in range(turns):
            text = REQUESTS[k % len(REQUESTS)]
            used = router.budget.used
            started = time.perf_counter()
            intent = router.route(text)
            seconds.append(time.perf_counter() - started)
            tokens.append(router.budget.used - used)
            by_model += intent.router == "llm"
        return {
            "threads": record.threads,
            "p50": statistics.median(seconds),
            "p95": percentile(seconds, 0.95),
            "tokens": statistics.mean(tokens),
            "turns": len(seconds),
            "by_model": by_model,
        }
    finally:
        stop(data_dir)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen-0.5b")
    parser.add_argument("--turns", type=int, default=20, help="Turns with the prompt cache.")
    # Without the cache every turn evaluates the whole ~3,600-token prompt again (over a
    # minute on one thread): a few turns show it.
    parser.add_argument("--uncached-turns", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llm-bench-") as tmp:
        for cache in (True, False):
            turns = args.turns if cache else args.uncached_turns
            if turns <= 0:
                continue
            row = measure(args.model, cache, turns, Path(tmp))
            print(
                f"{args.model} prompt cache {'on ' if cache else 'off'} "
                f"({row['threads']:.0f} threads): routed turn p50 {row['p50']:.2f} s, "
                f"p95 {row['p95']:.2f} s, {row['tokens']:.0f} tokens per turn, "
                f"{row['by_model']:.0f}/{row['turns']:.0f} decided by the model"
            )


if __name__ == "__main__":
    main()
