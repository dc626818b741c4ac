"""The fill anomaly model (tools.risk.anomaly) on fills booked by the real gateway."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models.market import SessionCalendar
from core.settings import Settings
from core.store import Store
from graph.session import DeskSession
from tools.ingest.pipeline import ingest_bars
from tools.risk.anomaly import detect, fill_features


def test_an_outlying_fill_is_flagged_and_ordinary_ones_are_not(
    store: Store, bitstamp_btc_raw: pd.DataFrame, tmp_path
):
    ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    with DeskSession(Settings(data_dir=tmp_path / "desk"), store) as desk:
        rng = np.random.default_rng(5)
        for k in range(40):
            size = round(float(rng.uniform(0.05, 0.15)), 3)
            side = "buy" if k % 2 == 0 else "sell"
            assert (
                desk.ask(f"{side} {size} BTC", f"t{k}").results["execution"]["status"] == "filled"
            )
        assert desk.ask("buy 2.5 BTC", "big").results["execution"]["status"] == "filled"
        turn = desk.ask("what is our risk?", "r")
    anomalies = turn.results["risk"]["anomalies"]
    assert anomalies["checked"] == 41
    assert len(anomalies["flagged"]) >= 1
    big = [fid for fid in anomalies["flagged"]]
    assert all(isinstance(f, str) for f in big)
    # The 2.5 BTC fill is the one: its id is the last order's.
    from core.store import TradeLog

    fills = TradeLog(store).fills()
    largest = max(fills, key=lambda f: f["quantity"])["fill_id"]
    assert largest in anomalies["flagged"]
    assert len(anomalies["flagged"]) <= 3


def test_too_little_history_flags_nothing():
    report = detect(fill_features(np.ones(5), np.ones(5), np.ones(5), np.zeros(5)))
    assert report.flagged == []


def test_training_on_one_thread_leaves_the_process_thread_count_as_it_was():
    import torch

    from tools.risk.anomaly import _detect

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        rows = np.random.default_rng(3).normal(size=(40, 3))
        assert _detect(rows).threshold > 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
