"""Data-quality control: the Data agent's checks."""

from tools.quality.config import QualityConfig
from tools.quality.inspection import QualityOutcome, inspect_bars

__all__ = ["QualityConfig", "QualityOutcome", "inspect_bars"]
