"""Read-only views: positions, PnL and the equity curve, risk, orders, strategies, reports,
health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse

from interfaces import views
from interfaces.api.keys import Caller
from interfaces.api.routes_desk import host_of
from interfaces.api.security import Viewer
from tools.strategy_views import StrategyView

router = APIRouter(prefix="/v1", tags=["views"])


@router.get("/positions")
def positions(request: Request, caller: Caller = Viewer) -> list[dict[str, Any]]:
    return host_of(request).read(views.positions)


@router.get("/pnl")
def pnl(request: Request, caller: Caller = Viewer) -> dict[str, Any]:
    """Equity, cash, realised and unrealised PnL, and the equity curve at daily closes."""
    return host_of(request).read(views.pnl)


@router.get("/risk")
def risk(request: Request, caller: Caller = Viewer) -> dict[str, Any]:
    """Exposure, VaR / ES, volatility, correlations and the trading state."""
    return host_of(request).read(views.risk)


@router.get("/orders")
def orders(
    request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100, caller: Caller = Viewer
) -> list[dict[str, Any]]:
    return host_of(request).read(views.orders, limit)


@router.get("/strategies")
def strategies(request: Request, caller: Caller = Viewer) -> list[StrategyView]:
    """Each strategy: its kind and parameters, the instrument, its risk class and state at
    the gate, every lifecycle step, the backtest's figures and what it has realised."""
    return host_of(request).read(views.strategies)


@router.get("/reports")
def reports(request: Request, caller: Caller = Viewer) -> list[dict[str, Any]]:
    return host_of(request).read(views.reports)


@router.get("/reports/{name}/{file}", response_class=FileResponse)
def report_file(
    request: Request,
    name: Annotated[str, Path(pattern=r"^[a-z0-9_]{1,40}-[0-9A-Za-z]{1,40}$")],
    file: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,80}$")],
    caller: Caller = Viewer,
) -> FileResponse:
    """One file of a report (Markdown, HTML or a plot); only files the report listing shows."""
    for folder in host_of(request).read(views.report_dirs):
        if folder.name == name and (folder / file).is_file() and not file.startswith("."):
            return FileResponse(folder / file)
    raise HTTPException(404, f"no report file {name}/{file}")


@router.get("/health")
def health(request: Request, caller: Caller = Viewer) -> dict[str, Any]:
    """Store rows, data freshness, gateway state, open orders."""
    return host_of(request).read(views.health)
