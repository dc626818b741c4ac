"""The data service: the agents' door to ingestion. It checks requests and forwards them to
the store's owner (the execution service) over the bus, since the embedded store admits one
process; it announces what was loaded."""

from __future__ import annotations

from agents.services.runtime import Service
from core.bus import Alert, Bus, BusError, BusMessage, IngestRequest, Keys, Reply
from core.settings import Settings
from tools.ingest.real_datasets import DATASETS


class DataService(Service):
    name = "data"

    def __init__(self, settings: Settings, bus: Bus) -> None:
        super().__init__(settings, bus)
        bus.serve(Keys.rpc("data", "ingest"), self._ingest)

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
