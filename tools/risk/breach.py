"""The breach rule: gross exposure at or above a set fraction of its limit
(`settings.risk_breach_fraction`) is a breach, and risk orders a reduce."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ExposureBreach(BaseModel):
    model_config = ConfigDict(frozen=True)

    gross: float
    limit: float
    fraction: float
    use: float
    """Gross exposure as a share of the limit."""
    breached: bool

    @property
    def reason(self) -> str:
        return f"gross exposure {self.gross:,.0f} >= {self.fraction:.0%} of {self.limit:,.0f}"


def exposure_breach(gross: float, limit: float, fraction: float) -> ExposureBreach:
    """Whether `gross` uses at least `fraction` of `limit`."""
    return ExposureBreach(
        gross=gross,
        limit=limit,
        fraction=fraction,
        use=gross / limit if limit > 0 else float("inf"),
        breached=gross >= fraction * limit,
    )
