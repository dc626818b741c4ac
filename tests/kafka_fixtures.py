"""A real Kafka broker for tests: the desk's own launcher (deploy/kafka) on a free loopback
port pair under a temp data dir. Shared by the broker's tests and the stream's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.settings import Settings
from deploy.kafka import launcher
from deploy.kafka.launcher import free_port_pair
from tools.stream.topics import local_broker_home


@dataclass(frozen=True)
class Broker:
    data_dir: Path
    port: int

    @property
    def home(self) -> Path:
        return local_broker_home(Settings(data_dir=self.data_dir))

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


def running_broker(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Broker]:
    """A broker for one test module (its fixture yields from this), stopped after it."""
    started = Broker(tmp_path_factory.mktemp(name), free_port_pair())
    launcher.start(started.home, port=started.port)
    yield started
    launcher.stop(started.home)


__all__ = ["Broker", "free_port_pair", "running_broker"]
