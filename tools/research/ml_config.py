"""The ML signal's settings, apart from the model so that reading them never loads torch."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MlpConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hidden: int = Field(default=32, ge=1, le=1024)
    layers: int = Field(default=2, ge=1, le=8)
    epochs: int = Field(default=40, ge=1, le=1000)
    learning_rate: float = Field(default=1e-3, gt=0, le=1)
    weight_decay: float = Field(default=1e-4, ge=0)
    batch_size: int = Field(default=256, ge=8)
    seed: int = 0
    threshold: float = Field(default=0.02, ge=0, lt=0.5, description="Trade when |p - 0.5| > this.")
    allow_short: bool = True
