"""What a replay runs in: its own folder and store (a replay never touches the desk's live
state), the gate limits it trades under, its universe's history loaded through quality
control, and the store bound to the simulated clock."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.schedule import DEFAULT_SCHEDULE, Schedule, load_schedule
from core.settings import Settings
from core.store import MarketDataStore, Store
from core.store.as_of import AsOf
from gateway.limits import DEFAULT_LIMITS, load_limits
from tools.replay.models import ReplayCosts, Router

REPLAY_SCHEDULE = DEFAULT_SCHEDULE.with_name("replay_schedule.toml")
DEFAULT_UNIVERSE = ("bitstamp:BTC/USD", "bitstamp:ETH/USD", "bitstamp:LTC/USD")
PAPER_LATENCY_MS = 1
"""An order the desk sends at midnight reaches the paper venue just after the next bar's
open print, so it takes that open's touch (with the spread, slippage, fee and the print's
size cap), never the close the desk decided on."""


class ReplayConfigError(ValueError):
    """The replay cannot run as asked: the message says what to change."""


class ReplayConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date
    end: date
    router: Router = "rules"
    universe: tuple[str, ...] = DEFAULT_UNIVERSE
    cash: float = Field(default=1_000_000.0, gt=0, allow_inf_nan=False)
    approvals: str = "approve-up-to=100000"
    schedule: Path = REPLAY_SCHEDULE
    dataset: str = "crypto"
    memory: bool = False
    """Memory is advisory (it adds earlier notes to research's answer, never changes an
    order), and costs a replay more than the rest of its research: off unless asked."""

    @field_validator("universe")
    @classmethod
    def _instruments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("the universe needs at least one instrument")
        for item in value:
            if ":" not in item or "/" not in item.split(":", 1)[1]:
                raise ValueError(f"{item!r} is not venue:SYMBOL")
        return value

    def key(self) -> str:
        """Names the replay's folder: the same replay asked again runs in the same place
        (and finds its LLM cache there)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def days(self) -> list[date]:
        if self.end <= self.start:
            raise ReplayConfigError(f"--to {self.end} must come after --from {self.start}")
        return [date.fromordinal(d) for d in range(self.start.toordinal(), self.end.toordinal())]


def llm_cache_of(folder: Path, config: ReplayConfig) -> Path:
    """The replay's LLM cache: beside its folder, so a rerun (which starts the folder
    afresh) answers every call it made before from it."""
    return folder.parent / f"{config.key()}.llm-cache.sqlite"


def midnight_after(day: date) -> datetime:
    """When `day`'s daily bar has closed: the next midnight, UTC."""
    return datetime.combine(date.fromordinal(day.toordinal() + 1), time(), tzinfo=UTC)


UNIT_FIELDS = ("lot", "min_quantity", "max_quantity", "max_position")
"""An instrument's limits counted in units: rescaled by price when copied to another."""


def reference_prices(frame: pd.DataFrame, start: date) -> dict[str, tuple[float, date]]:
    """Each instrument's price to size its limits by, and the day of that close: the last
    positive close before `start`, or, for an instrument that lists later, its first one
    (a desk sets an instrument's limits when it lists it)."""
    days = pd.to_datetime(frame["ts"], utc=True).dt.date
    good = frame.assign(day=days)[(frame["close"] > 0) & np.isfinite(frame["close"])]
    out: dict[str, tuple[float, date]] = {}
    for (venue, symbol), rows in good.sort_values("ts").groupby(["venue", "symbol"]):
        before = rows[rows["day"] < start]
        row = before.iloc[-1] if len(before) else rows.iloc[0]
        out[f"{venue}:{symbol}"] = (float(row["close"]), row["day"])
    return out


def _power_of_ten_at_most(value: float) -> float:
    return float(10 ** math.floor(math.log10(value)))


def scaled_limits(template: dict[str, Any], inst: str, ratio: float) -> dict[str, Any]:
    """`template`'s limits for `inst`, whose price is `template price / ratio`: the same
    notional in units (quantities times `ratio`), with lot and minimum a power of ten so
    that sizes still round to whole lots."""
    out = {**template, "id": inst}
    for name in UNIT_FIELDS:
        out[name] = template[name] * ratio
    for name in ("lot", "min_quantity"):
        out[name] = _power_of_ten_at_most(out[name])
    return out


def replay_limits(
    source: Path,
    config: ReplayConfig,
    out: Path,
    prices: dict[str, tuple[float, date]] | None = None,
) -> Path:
    """The gate limits the replay trades under: the desk's own (read as the gateway reads
    them), with the replay's cash, the paper venue's latency (fills at the next open), and
    each instrument of the universe the limits do not name given the limits of the first
    USD instrument they do, rescaled to the same notional at the replay's start `prices`
    (said so in the file)."""
    data: dict[str, Any] = load_limits(source).model_dump(mode="json")
    data["starting_cash"] = config.cash
    data["limits_version"] = f"{data['limits_version']}+replay-{config.key()}"
    data["paper"]["latency_ms"] = PAPER_LATENCY_MS
    named = {i["id"] for i in data["instruments"]}
    template = next((i for i in data["instruments"] if "/USD" in i["id"]), None)
    prices = prices or {}
    added = []
    for inst in config.universe:
        if inst in named:
            continue
        if template is None:
            raise ReplayConfigError(f"the limits name no instrument like {inst} to copy")
        base, price = prices.get(template["id"]), prices.get(inst)
        if base is None or price is None:
            raise ReplayConfigError(
                f"no price for {inst} or {template['id']}: the limits of {template['id']} "
                f"cannot be rescaled to {inst}"
            )
        data["instruments"].append(scaled_limits(template, inst, base[0] / price[0]))
        added.append(
            f"# Added to the universe: {inst}, the limits of {template['id']} rescaled to the "
            f"same notional ({template['id']} {base[0]:g} on {base[1]}, {inst} {price[0]:g} "
            f"on {price[1]})\n"
        )
    header = "# Written by quantdesk replay for this run.\n" + "".join(added)
    out.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out


def costs_of(limits_path: Path) -> ReplayCosts:
    paper = load_limits(limits_path).paper
    return ReplayCosts(
        taker_fee_bps=paper.taker_fee_bps,
        slippage_bps=paper.slippage_bps,
        half_spread_bps=paper.half_spread_bps,
        liquidity_fraction=paper.liquidity_fraction,
    )


def expand(schedule: Schedule, universe: tuple[str, ...]) -> list[tuple[str, str, list[str]]]:
    """(job, cron, requests) with "{symbol}" asked once per instrument of the universe."""
    out = []
    for job in schedule.job:
        requests: list[str] = []
        for request in job.requests:
            if "{symbol}" in request:
                bases = [i.split(":", 1)[1].split("/")[0] for i in universe]
                requests += [request.replace("{symbol}", b) for b in bases]
            else:
                requests.append(request)
        out.append((job.name, job.cron, requests))
    return out


def prepare(settings: Settings, config: ReplayConfig, folder: Path) -> tuple[Settings, Store, AsOf]:
    """A fresh folder for the replay's desk, its limits, its store holding the universe's
    history (loaded through quality control), bound to the clock at the replay's start."""
    from tools.ingest.pipeline import ingest_bars
    from tools.ingest.real_datasets import DATASETS

    load_schedule(config.schedule)  # a malformed schedule stops the replay before any work
    if config.dataset not in DATASETS:
        raise ReplayConfigError(f"unknown dataset {config.dataset!r}; known: {sorted(DATASETS)}")
    dataset = DATASETS[config.dataset]
    frame = dataset.read()
    prices = reference_prices(frame, config.start)
    wanted = {tuple(i.split(":", 1)) for i in config.universe}
    keep = [(v, s) in wanted for v, s in zip(frame["venue"], frame["symbol"], strict=True)]
    frame = frame[keep]
    missing = wanted - set(zip(frame["venue"], frame["symbol"], strict=True))
    if missing:
        names = ", ".join(sorted(f"{v}:{s}" for v, s in missing))
        raise ReplayConfigError(f"dataset {config.dataset!r} holds no bars for {names}")
    if folder.exists():
        shutil.rmtree(folder)
    desk_dir = folder / "desk"
    desk_dir.mkdir(parents=True)
    source = settings.limits_path or DEFAULT_LIMITS
    limits = replay_limits(source, config, folder / "limits.yaml", prices)
    replay_settings = settings.model_copy(
        update={
            "data_dir": desk_dir,
            "limits_path": limits,
            "store_dsn": None,
            "qdrant_url": None,
            "memory_enabled": config.memory,
            "llm_cache_path": llm_cache_of(folder, config),
        }
    )
    store = Store.open(replay_settings)
    try:
        ingest_bars(store, frame, source=config.dataset, calendar=dataset.calendar)
        as_of = AsOf(now=datetime.combine(config.start, time(), tzinfo=UTC))
        market = MarketDataStore(store)
        market.hold_for_replay(as_of, [(v, s, "1d") for v, s in sorted(wanted)])
        store.replay_as_of(as_of)
    except Exception:
        store.close()
        raise
    return replay_settings, store, as_of
