"""The demo's stream step: stored hourly EUR/USD bars replayed as trades through a real Kafka
broker, turned back into bars by the Bytewax dataflow (its own process, `quantdesk agent
stream`), stored in ClickHouse and announced on the bus; the bars that come out are checked
against the ones that went in. Where the broker cannot start (no Java or Maven), one line
says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from interfaces.cli.settings import get_settings

if TYPE_CHECKING:
    from core.bus.messages import BusMessage
    from core.store import Store

BARS = 240
_READ_BARS = (  # floats as Python writes them, so they read back exactly
    "import json, sys; from core.store import Store\n"
    "with Store(sys.argv[1]) as s:\n"
    "    f = s.bulk.query_frame('SELECT ts, open, high, low, close FROM bars ORDER BY ts', "
    "parameters={})\n"
    "    print(json.dumps([[str(r[0]), *map(float, r[1:])] for r in f.itertuples(index=False)]))"
)
ROOT = Path(__file__).resolve().parents[2]


def stream_step(store: Store, console: Console) -> None:
    from deploy.kafka import launcher

    settings = get_settings()
    home: Path | None = None
    bootstrap = settings.kafka_bootstrap
    if bootstrap is None:
        home = Path(tempfile.mkdtemp(prefix="quantdesk-demo-kafka-"))
        try:
            with console.status("starting Kafka (KRaft, first run resolves it from Maven Central)"):
                bootstrap = launcher.start(home, port=launcher.free_port_pair())
        except launcher.KafkaLaunchError as exc:
            reason = str(exc).splitlines()[0]
            console.print(f"stream step skipped: Kafka could not start ({escape(reason)})")
            return
    try:
        _stream(store, bootstrap, console)
    finally:
        if home is not None:
            launcher.stop(home)


def _stream(store: Store, bootstrap: str, console: Console) -> None:
    import pandas as pd

    from core.bus import Bus, Keys
    from core.bus.messages import MarketBar
    from core.llm.local_server import free_port
    from core.store.market_data import MarketDataStore
    from tools.stream.replay import new_producer, produce, trades_from_bars
    from tools.stream.topics import StreamTopic, ensure_topics

    suffix = uuid.uuid4().hex[:8]
    topics = tuple(
        StreamTopic(
            name=f"demo.{kind}.{suffix}", key="venue:symbol", partitions=1, retention_ms=3_600_000
        )
        for kind in ("trades", "books", "dead")
    )
    ensure_topics(bootstrap, topics)
    series = next(s for s in MarketDataStore(store).series() if s.interval == "1h")
    bars = MarketDataStore(store).read_bars(series.venue, series.symbol, "1h").tail(BARS)
    began = time.monotonic()
    sent = produce(
        new_producer(bootstrap),
        trades_from_bars(bars, series.venue, series.symbol, 3_600_000),
        topic=topics[0].name,
    )
    console.print(
        f"replay adapter: {sent.trades} trades from {len(bars)} stored {series.venue}:"
        f"{series.symbol} 1h bars -> Kafka topic {topics[0].name} ({sent.seconds:.1f} s)"
    )
    hub = f"tcp/127.0.0.1:{free_port()}"
    heard: list[MarketBar] = []
    lock = threading.Lock()

    def on_bar(message: BusMessage, key: str) -> None:
        if isinstance(message, MarketBar):
            with lock:
                heard.append(message)

    with tempfile.TemporaryDirectory() as work, Bus.open("router", listen=[hub]) as bus:
        bus.subscribe(Keys.ALL_MARKET_DATA, on_bar)
        env = {**os.environ, "QUANTDESK_KAFKA_BOOTSTRAP": bootstrap, "QUANTDESK_BUS_HUB": hub}
        dsn = f"chdb://{Path(work) / 'store'}"
        command = [
            sys.executable, "-m", "interfaces.cli", "agent", "stream", "--bounded",
            "--interval", "1h", "--recovery-dir", str(Path(work) / "recovery"), "--store-dsn", dsn,
            *(arg for t in topics for arg in ("--topic", t.name)),
        ]  # fmt: skip
        # The desk's own CLI, run by the interpreter running this one.
        done = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=env, capture_output=True, check=False
        )
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
            console.print(f"[red]stream dataflow failed:[/] {escape(' '.join(tail))}")
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(heard) < len(bars):
            time.sleep(0.1)
        # chdb opens one data path per process and this one holds the desk's store: the
        # streamed store is read in a process of its own.
        read = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _READ_BARS, dsn], cwd=ROOT, capture_output=True, check=True
        )
        out = pd.DataFrame(json.loads(read.stdout), columns=["ts", "open", "high", "low", "close"])
    took = time.monotonic() - began
    want = bars.reset_index(drop=True)[["ts", "open", "high", "low", "close"]]
    same = len(out) == len(want) and all(
        bool((pd.Series(out[c]).to_numpy() == pd.Series(want[c]).to_numpy()).all())
        for c in ("open", "high", "low", "close")
    )
    stamps = pd.to_datetime(out["ts"], utc=True).astype("datetime64[ns, UTC]")
    wanted = pd.to_datetime(want["ts"], utc=True).astype("datetime64[ns, UTC]")
    same = same and stamps.tolist() == wanted.tolist()
    last = max(heard, key=lambda m: m.bar_ts) if heard else None
    console.print(
        f"Bytewax dataflow: {len(out)} 1h bars in ClickHouse, "
        f"{'identical to' if same else '[red]NOT identical to[/]'} the stored bars; "
        f"{len(heard)} bars heard on the bus (desk/md/...); {took:.1f} s in all"
    )
    if last is not None:
        console.print(
            f"last bar on the bus: {escape(last.instrument)} {last.bar_ts:%Y-%m-%d %H:%M} "
            f"O {last.open:g} H {last.high:g} L {last.low:g} C {last.close:g}"
        )
