"""What the dataflow's sinks write: a closed bar as the store's bar frame, and a bar or a
finding as the bus message the desk's agents already read (`MarketBar` on
desk/md/{venue}/{symbol}, `Alert` on desk/alerts/warning)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from core.bus.keys import Keys
from core.bus.messages import Alert, MarketBar
from tools.stream.bars import StreamBar
from tools.stream.checks import Finding

if TYPE_CHECKING:
    from core.bus.messages import BusMessage


def bar_frame(bars: list[StreamBar], source: str = "stream") -> pd.DataFrame:
    """Closed bars as the rows `MarketData.write_bars` takes."""
    return pd.DataFrame(
        {
            "venue": [b.venue for b in bars],
            "symbol": [b.symbol for b in bars],
            "interval": [b.interval for b in bars],
            "ts": pd.to_datetime([b.ts for b in bars], utc=True),
            "open": [b.bar.open for b in bars],
            "high": [b.bar.high for b in bars],
            "low": [b.bar.low for b in bars],
            "close": [b.bar.close for b in bars],
            "volume": [b.bar.volume for b in bars],
            "derived": [False] * len(bars),
            "source": [source] * len(bars),
        }
    )


def bus_message(item: StreamBar | Finding) -> tuple[str, BusMessage]:
    """The key and message that announce `item` on the bus."""
    if isinstance(item, StreamBar):
        bar = item.bar
        message = MarketBar(
            instrument=f"{item.venue}:{item.symbol}",
            interval=item.interval,
            bar_ts=item.ts,
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            volume=bar.volume,
            source="stream",
        )
        return Keys.market_data(item.venue, item.symbol), message
    text = f"{item.feed} {item.kind} at seq {item.seq}: {item.detail}"
    return Keys.alerts("warning"), Alert(severity="warning", source="stream", text=text[:2000])
