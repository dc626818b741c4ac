"""The desk's one risk engine: exposure, realised volatility, historical VaR and expected
shortfall, and the breach rule, used by the risk agent, the risk service and the views.
The fill anomaly model (an autoencoder over fills) is `tools.risk.anomaly`."""

from tools.risk.breach import ExposureBreach, exposure_breach
from tools.risk.exposure import dollar_volatility, gross_exposure, net_exposure
from tools.risk.portfolio import PortfolioRisk, PositionLine, book_volatility, measure_portfolio
from tools.risk.tail import TailRisk, historical_tail
from tools.risk.volatility import DAYS_PER_YEAR, realised_volatility

__all__ = [
    "DAYS_PER_YEAR",
    "ExposureBreach",
    "PortfolioRisk",
    "PositionLine",
    "TailRisk",
    "book_volatility",
    "dollar_volatility",
    "exposure_breach",
    "gross_exposure",
    "historical_tail",
    "measure_portfolio",
    "net_exposure",
    "realised_volatility",
]
