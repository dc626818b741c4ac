"""The cockpit's API against a real desk: who the caller is, one turn at a time per thread,
the audit trail joining decision, gate, approvals and fills, the trading state's history,
limit use, market data with fills, quality findings with unreadable prices, the agents, the
live change stream and the static files."""

from __future__ import annotations

import gzip
import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from core.models.market import SessionCalendar
from core.store.audit import AuditLog
from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from interfaces.server import serve_in_background
from interfaces.views import with_drawdown
from tests.interfaces.conftest import auth, desk_settings
from tools.ingest.pipeline import ingest_bars

DUAL = "buy 11 BTC"
"""About 212,000 of notional at the fixture's last close: above the 200,000 at which the
default limits want two distinct approvers, below the 250,000 order cap."""


def _filled_by_two(client: TestClient) -> str:
    turn = client.post("/v1/chat/t1", json={"message": DUAL}, headers=auth("trader")).json()
    assert turn["pending"]["approvals_needed"] == 2
    order_id = str(turn["pending"]["order"]["order_id"])
    first = client.post("/v1/approvals/t1/approve", json={"reason": "ok"}, headers=auth("approver"))
    assert first.json()["pending"]["approved_by"] == ["api:approver"]
    second = client.post(
        "/v1/approvals/t1/approve", json={"reason": "ok too"}, headers=auth("approver2")
    )
    assert second.json()["pending"] is None
    assert "filled" in second.json()["answers"][0]
    return order_id


@pytest.mark.parametrize(
    ("name", "role", "may"),
    [
        ("viewer", "viewer", {"chat": False, "halt": False, "approve": False, "rearm": False}),
        ("trader", "trader", {"chat": True, "halt": True, "approve": False, "rearm": False}),
        ("approver", "approver", {"chat": True, "halt": True, "approve": True, "rearm": False}),
        ("admin", "admin", {"chat": True, "halt": True, "approve": True, "rearm": True}),
    ],
)
def test_me_names_the_role_and_what_it_may_do(client: TestClient, name, role, may):
    assert client.get("/v1/me", headers=auth(name)).json() == {
        "name": name,
        "role": role,
        "may": may,
    }
    assert client.get("/v1/me").status_code == 401


def test_a_second_message_on_a_busy_thread_is_refused_and_the_first_finishes(
    client: TestClient, host: DeskHost
):
    with host.lock:  # the turn below claims its thread, then waits for the desk
        steps = host.stream("what is our exposure?", "busy")
        refused = client.post(
            "/v1/chat/busy", json={"message": "buy 1 BTC"}, headers=auth("trader")
        )
        streamed = client.post(
            "/v1/chat/busy/stream", json={"message": "buy 1 BTC"}, headers=auth("trader")
        )
    assert refused.status_code == 409
    assert "still running" in refused.json()["detail"]
    assert streamed.status_code == 409
    events = list(steps)
    assert events[-1]["event"] == "done"
    risk = next(e for e in events if e["agent" if "agent" in e else "event"] == "risk")
    assert risk["table"], "the risk step carries its figures as a table"
    assert host.session.desk.gateway.positions() == [], "the refused buy never ran"
    again = client.post("/v1/chat/busy", json={"message": "what is our exposure?"},
                        headers=auth("trader"))  # fmt: skip
    assert again.status_code == 200


def test_the_audit_trail_joins_decision_gate_approvals_and_fills(client: TestClient):
    order_id = _filled_by_two(client)
    client.post("/v1/chat/t2", json={"message": "buy 30 BTC"}, headers=auth("trader"))
    found = client.get("/v1/audit", params={"q": order_id}, headers=auth("viewer")).json()
    [trail] = found["trails"]
    assert trail["decision"]["request"] == DUAL
    assert trail["decision"]["intent"]["kind"] == "trade"
    assert trail["decision"]["routed_by"] == "rules"
    # The test desk's clock stands still, so the rows of one order share a timestamp and
    # the log keeps no finer order among them: the verdicts are compared as a set.
    assert {g["verdict"] for g in trail["gate"]} == {"NEEDS_APPROVAL", "ACCEPT"}
    assert [a["approver"] for a in trail["approvals"]] == ["api:approver", "api:approver2"]
    assert trail["status"] == "filled"
    assert trail["fills"][0]["quantity"] == pytest.approx(11)
    assert trail["instrument"] == "bitstamp:BTC/USD"
    by_actor = client.get("/v1/audit", params={"actor": "approver2"}, headers=auth("viewer"))
    assert [t["order_id"] for t in by_actor.json()["trails"]] == [order_id]
    every = client.get("/v1/audit", params={"instrument": "BTC/USD"}, headers=auth("viewer"))
    denied = [t for t in every.json()["trails"] if t["order_id"] != order_id]
    assert denied
    assert denied[0]["status"] == "denied"
    assert denied[0]["decision"]["request"] == "buy 30 BTC"
    assert "NOTIONAL_ABOVE_MAX" in denied[0]["gate"][0]["reason_codes"]
    nothing = client.get("/v1/audit", params={"strategy": "momentum"}, headers=auth("viewer"))
    assert nothing.json()["trails"] == []
    later = client.get(
        "/v1/audit", params={"since": "2031-01-01T00:00:00Z"}, headers=auth("viewer")
    )
    assert later.json() == {"trails": [], "events": []}
    bad = client.get("/v1/audit", params={"limit": 0}, headers=auth("viewer"))
    assert bad.status_code == 422
    for since in ("0014-01-22T05:11:44Z", "2301-01-01T00:00:00Z", "yesterday"):
        refused = client.get("/v1/audit", params={"since": since}, headers=auth("viewer"))
        assert refused.status_code == 422, since

    # A time with a zone is read in UTC (the order's instant is 2020-12-09 00:00 UTC).
    def ids(**params: str) -> list[str]:
        got = client.get("/v1/audit", params=params, headers=auth("viewer")).json()
        return [t["order_id"] for t in got["trails"]]

    assert trail["ts"] == "2020-12-09T00:00:00+00:00"
    assert order_id in ids(until="2020-12-09T01:00:00+01:00")
    assert order_id not in ids(until="2020-12-09T00:30:00+01:00")  # 23:30 UTC the day before
    assert order_id not in ids(since="2020-12-08T23:30:00-01:00")  # 00:30 UTC
    assert order_id in ids(since="2020-12-09T00:00:00", until="2020-12-09T00:00:00")


def test_the_same_approver_twice_is_told_and_not_counted(client: TestClient):
    client.post("/v1/chat/t1", json={"message": DUAL}, headers=auth("trader"))
    client.post("/v1/approvals/t1/approve", json={"reason": "ok"}, headers=auth("approver"))
    again = client.post("/v1/approvals/t1/approve", json={"reason": "me again"},
                        headers=auth("approver"))  # fmt: skip
    assert again.status_code == 200
    assert "already approved" in again.json()["answers"][-1]
    assert again.json()["pending"]["approved_by"] == ["api:approver"]
    listed = client.get("/v1/approvals", headers=auth("viewer")).json()
    assert [p["request"]["approved_by"] for p in listed] == [["api:approver"]]


def test_questions_are_recorded_as_decisions(client: TestClient, host: DeskHost):
    before = host.read(lambda desk: AuditLog(desk.store).count("pm.decision"))
    client.post("/v1/chat/q", json={"message": "what is our exposure?"}, headers=auth("trader"))
    assert host.read(lambda desk: AuditLog(desk.store).count("pm.decision")) == before + 1
    events = client.get("/v1/audit", params={"q": "exposure"}, headers=auth("viewer")).json()
    assert any(e["kind"] == "pm.decision" for e in events["events"])


def test_trading_state_says_who_moved_it_and_why(client: TestClient):
    client.post("/v1/gateway/halt", json={"reason": "lunch"}, headers=auth("trader"))
    halted = client.get("/v1/trading-state", headers=auth("viewer")).json()
    assert (halted["state"], halted["changed_by"], halted["reason"]) == (
        "halted", "human:trader", "lunch",
    )  # fmt: skip
    refused = client.post("/v1/gateway/rearm", json={"reason": "x"}, headers=auth("trader"))
    assert refused.status_code == 403
    assert client.get("/v1/trading-state", headers=auth("viewer")).json()["state"] == "halted"
    client.post("/v1/gateway/rearm", json={"reason": "back"}, headers=auth("admin"))
    active = client.get("/v1/trading-state", headers=auth("viewer")).json()
    assert (active["state"], active["changed_by"], active["reason"]) == (
        "active", "human:admin", "back",
    )  # fmt: skip
    assert {h["reason"] for h in active["history"]} >= {"lunch", "back"}


def test_limit_use_exposure_and_drawdown(client: TestClient, host: DeskHost):
    _filled_by_two(client)
    use = {r["name"]: r for r in client.get("/v1/limits", headers=auth("viewer")).json()}
    position = use["position bitstamp:BTC/USD"]
    assert position["used"] == pytest.approx(11)
    assert position["use"] == pytest.approx(11 / 50)
    [held] = client.get("/v1/exposure", headers=auth("viewer")).json()
    assert held["asset"] == "BTC"
    assert use["gross exposure"]["used"] == pytest.approx(held["value"])
    assert use["strategy manual"]["limit"] == 250_000
    pnl = client.get("/v1/pnl", headers=auth("viewer")).json()
    assert pnl["max_drawdown"] == min(p["drawdown"] for p in pnl["equity_curve"]) <= 0


def test_drawdown_is_measured_from_the_running_peak():
    curve = [{"ts": str(k), "equity": e} for k, e in enumerate([100.0, 120.0, 90.0, 130.0])]
    assert [p["drawdown"] for p in with_drawdown(curve, 110.0)] == [
        pytest.approx(100 / 110 - 1, abs=1e-6), 0.0, pytest.approx(90 / 120 - 1, abs=1e-6), 0.0,
    ]  # fmt: skip


def test_market_bars_carry_the_desks_fills(client: TestClient):
    order_id = _filled_by_two(client)
    got = client.get(
        "/v1/market/bars", params={"instrument": "bitstamp:BTC/USD", "limit": 30},
        headers=auth("viewer"),
    ).json()  # fmt: skip
    assert len(got["bars"]) == 30
    assert [f["order_id"] for f in got["fills"]] == [order_id]
    unknown = client.get("/v1/market/bars", params={"instrument": "bitstamp:XX/USD"},
                         headers=auth("viewer"))  # fmt: skip
    assert unknown.status_code == 404
    for bad in ("BTC", "a:b:c", "x:" + "y" * 40):
        assert client.get("/v1/market/bars", params={"instrument": bad},
                          headers=auth("viewer")).status_code == 422  # fmt: skip
    series = {s["instrument"]: s for s in client.get("/v1/market/series",
                                                    headers=auth("viewer")).json()}  # fmt: skip
    assert series["bitstamp:BTC/USD"]["quarantined"] > 0


def test_a_quarantined_row_with_an_unreadable_price_is_shown_not_a_500(
    client: TestClient, host: DeskHost, bitstamp_btc_raw: pd.DataFrame
):
    broken = bitstamp_btc_raw.head(5).copy()
    broken["symbol"] = "NAN/USD"
    broken.loc[2, "close"] = math.nan
    with host.lock:
        ingest_bars(host.session.desk.store, broken, source="broken",
                    calendar=SessionCalendar.CONTINUOUS)  # fmt: skip
    got = client.get("/v1/market/quality", params={"limit": 500}, headers=auth("viewer"))
    assert got.status_code == 200
    nan_rows = [q for q in got.json()["quarantined"] if q["instrument"] == "bitstamp:NAN/USD"]
    assert nan_rows
    assert nan_rows[0]["close"] is None
    rows = client.get("/v1/market/bars", params={"instrument": "bitstamp:NAN/USD"},
                      headers=auth("viewer")).json()["bars"]  # fmt: skip
    assert len(rows) == 4
    assert all(math.isfinite(r["close"]) for r in rows)


def test_agents_show_their_last_steps(client: TestClient):
    client.post("/v1/chat/a", json={"message": "what is our exposure?"}, headers=auth("trader"))
    agents = client.get("/v1/agents", headers=auth("viewer")).json()
    risk = next(a for a in agents["agents"] if a["name"] == "risk")
    assert risk["status"] == "ok"
    assert risk["steps"] >= 1
    pm = next(a for a in agents["agents"] if a["name"] == "pm")
    assert "exposure" in pm["last_action"]
    assert {"research", "execution"} <= {a["name"] for a in agents["agents"]}
    assert agents["bus"] == {"running": False, "services": []}


def test_static_files_are_served_from_installed_packages_gzipped(client: TestClient):
    plotly = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert plotly.status_code == 200
    assert plotly.headers["content-encoding"] == "gzip"
    assert len(plotly.content) > 1_000_000  # httpx decodes it
    raw = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert raw.content == plotly.content
    assert client.get("/static/cockpit.js").status_code == 200
    for name in ("../app.py", "x.js", "index.html"):
        assert client.get(f"/static/{name}").status_code in (404, 422)
    assert gzip.decompress(gzip.compress(b"x")) == b"x"


@pytest.fixture
def served(host: DeskHost, tmp_path: Path) -> Iterator[str]:
    with serve_in_background(create_app(desk_settings(tmp_path), host)) as url:
        yield url


def test_the_change_stream_tells_of_a_halt_and_ends_with_the_server(served: str):
    heard: list[dict[str, object]] = []
    ready, got = threading.Event(), threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{served}/v1/events", headers=auth("viewer"), timeout=30) as r:
            event = ""
            for line in r.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                    ready.set()
                elif line.startswith("data: ") and event == "changed":
                    heard.append(json.loads(line[6:]))
                    if "state" in heard[-1]["topics"]:  # type: ignore[operator]
                        got.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(20)
    halt = httpx.post(f"{served}/v1/gateway/halt", json={"reason": "test"}, headers=auth("trader"))
    assert halt.status_code == 200
    assert got.wait(20), heard
    viewer_refused = httpx.post(
        f"{served}/v1/gateway/halt", json={"reason": "x"}, headers=auth("viewer")
    )
    assert viewer_refused.status_code == 403


def test_research_reports_are_listed_and_served_beside_the_desks(
    client: TestClient, host: DeskHost
):
    root = host.session.desk.settings.data_dir / "reports"
    (root / "vol_target-3f9a1c").mkdir(parents=True)
    (root / "vol_target-3f9a1c" / "report.html").write_text("<h1>vol_target</h1>")
    (root / "desk-20201209T000000").mkdir()
    (root / "desk-20201209T000000" / "report.md").write_text("# desk")
    listed = client.get("/v1/reports", headers=auth("viewer")).json()
    assert [r["name"] for r in listed] == ["desk-20201209T000000", "vol_target-3f9a1c"]
    served = client.get("/v1/reports/vol_target-3f9a1c/report.html", headers=auth("viewer"))
    assert served.status_code == 200
    assert "vol_target" in served.text
    for bad in ("vol_target-3f9a1c/..%2F..%2Fapi-key", "..-x/report.html", "nope-1/report.html"):
        assert client.get(f"/v1/reports/{bad}", headers=auth("viewer")).status_code in (404, 422)
