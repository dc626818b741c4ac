"""The HTTP API's cost over the desk itself: the same requests in-process and through
uvicorn on loopback (keys checked, JSON in and out), and the time to the first server-sent
event of a streamed turn. Real bars (crypto and GOOG) in an embedded store.

Run: uv run python -m benchmarks.api_latency
"""

from __future__ import annotations

import itertools

import httpx

from benchmarks.served_desk import desk_host, served
from benchmarks.timing import timed
from interfaces import views
from interfaces.desk_host import DeskHost

KEY = "bench-admin-key-0123456789"
ROUNDS = 200
ASK = {"message": "what is our exposure?"}


def main() -> None:
    with desk_host(KEY) as host, served(host) as url:
        measure(host, url)


def measure(host: DeskHost, url: str) -> None:
    headers = {"X-API-Key": KEY}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        host.ask("buy 0.5 BTC", "bench")
        # A thread's checkpoint grows with every turn: each timed turn starts its own.
        fresh = itertools.count()
        rows = [
            ("positions", lambda: host.read(views.positions),
             lambda: client.get("/v1/positions").raise_for_status()),
            ("risk view", lambda: host.read(views.risk),
             lambda: client.get("/v1/risk").raise_for_status()),
            ("chat turn: 'what is our exposure?'",
             lambda: host.ask("what is our exposure?", f"local-{next(fresh)}"),
             lambda: client.post(f"/v1/chat/http-{next(fresh)}", json=ASK)
             .raise_for_status()),
        ]  # fmt: skip
        for name, local, remote in rows:
            lp50, lp99 = timed(local, ROUNDS, warmup=20)
            rp50, rp99 = timed(remote, ROUNDS, warmup=20)
            print(f"{name:<38} in-process p50 {lp50:7.2f} ms p99 {lp99:7.2f} | "
                  f"HTTP p50 {rp50:7.2f} ms p99 {rp99:7.2f} | overhead p50 "
                  f"{rp50 - lp50:5.2f} ms")  # fmt: skip

        def first_event() -> None:
            thread = f"sse-{next(fresh)}"
            with client.stream("POST", f"/v1/chat/{thread}/stream", json=ASK) as answer:
                for line in answer.iter_lines():
                    if line.startswith("data: "):
                        break

        p50, p99 = timed(first_event, 100, warmup=20)
        print(f"SSE: first step of a streamed turn          p50 {p50:7.2f} ms p99 {p99:7.2f}")


if __name__ == "__main__":
    main()
