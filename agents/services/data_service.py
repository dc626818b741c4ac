"""The data service: the agents' door to ingestion. It checks requests and forwards them to
the store's owner (the execution service) over the bus, since the embedded store admits one
process; it announces what was loaded."""

from __future__ import annotations

import time

from agents.services.runtime import Service
from core.bus import Alert, Bus, BusError, BusMessage, IngestRequest, Keys, Reply
from core.bus.messages import MarketBar
from core.settings import Settings
from tools.ingest.real_datasets import DATASETS
from tools.stream.feeds import FeedBook


class DataService(Service):
    name = "data"

    def __init__(self, settings: Settings, bus: Bus) -> None:
        super().__init__(settings, bus)
        bus.serve(Keys.rpc("data", "ingest"), self._ingest)
        self.feeds = FeedBook()
        bus.subscribe(Keys.ALL_MARKET_DATA, self._bar)
        bus.serve(Keys.rpc("data", "feeds"), self._feeds)

    def _bar(self, message: BusMessage, key: str) -> None:
        if isinstance(message, MarketBar):
            stamp = int(message.bar_ts.timestamp() * 1000)
            self.feeds.heard(message.instrument, message.interval, stamp, int(time.time() * 1000))

    def _feeds(self, message: BusMessage) -> Reply:
        """Each feed's lag behind the desk's clock and its silence, as heard on the bus."""
        lags = self.feeds.lags(int(time.time() * 1000))
        return Reply(
            ok=True,
            body={
                f"{f.instrument} {f.interval}": {
                    "lag_s": round(f.lag_s, 3),
                    "silent_s": round(f.silent_s, 3),
                }
                for f in lags
            },
        )

    def _ingest(self, message: BusMessage) -> Reply:
        if not isinstance(message, IngestRequest):
            return Reply(ok=False, error=f"expected an ingest request, got {message.type}")
        unknown = sorted(set(message.datasets) - DATASETS.keys())
        if unknown:
            return Reply(ok=False, error=f"unknown datasets {unknown}; known: {sorted(DATASETS)}")
        try:
            answer = self.bus.request(Keys.rpc("store", "ingest"), message, timeout=300)
        except BusError as exc:
            return Reply(ok=False, error=f"the store's owner did not answer: {exc}")
        if answer.ok:
            text = "; ".join(f"{k}: {v}" for k, v in answer.body.items())
            self.bus.publish(
                Keys.alerts("info"), Alert(severity="info", source=self.name, text=f"loaded {text}")
            )
        return answer
