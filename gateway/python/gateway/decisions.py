"""What the gate answers: typed decisions, what an approval needs, and numpy arrays for batches."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import NamedTuple
from uuid import UUID

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from gateway._core import reason_codes


class Verdict(StrEnum):
    ACCEPT = "ACCEPT"
    DENY = "DENY"
    NEEDS_APPROVAL = "NEEDS_APPROVAL"


class GateDecision(NamedTuple):
    """The gate's answer to one submit or modify; `reason_codes` lists every failed check.

    A typed, immutable tuple rather than a pydantic model: every value is already of its type
    when it is made (a validated order's id, the engine's own verdict and codes), and
    validating them again would cost more than the gate's whole check."""

    order_id: UUID
    verdict: Verdict
    reason_codes: tuple[str, ...]
    limits_version: str

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPT

    @classmethod
    def of(cls, order_id: UUID, answer: tuple[str, list[str]], limits_version: str) -> GateDecision:
        """The engine's (verdict, codes) answer as a decision."""
        # tuple.__new__ skips the named tuple's generated __new__: half the cost, same tuple.
        return _new(cls, (order_id, _VERDICTS[answer[0]], tuple(answer[1]), limits_version))


# A dict lookup: calling the enum costs more than the gate's whole check.
_VERDICTS = {v.value: v for v in Verdict}
_new = tuple.__new__


class ApprovalNeed(BaseModel):
    """What an order waiting for approval needs, as the gate values it now."""

    model_config = ConfigDict(frozen=True)

    approvers: int
    """Distinct humans the gate requires of the token (0 if the order no longer needs one)."""
    notional: float


@cache
def _codes() -> tuple[str, ...]:
    return tuple(reason_codes())


def decode_mask(mask: int) -> tuple[str, ...]:
    """The reason codes in one batch mask (bit k is `reason_codes()[k]`)."""
    return tuple(code for bit, code in enumerate(_codes()) if mask >> bit & 1)


BATCH_VERDICTS = (Verdict.ACCEPT, Verdict.DENY, Verdict.NEEDS_APPROVAL)


class BatchDecisions:
    """Per-order verdicts (0 accept, 1 deny, 2 needs approval) and reason masks."""

    def __init__(self, verdicts: npt.NDArray[np.uint8], masks: npt.NDArray[np.uint64]) -> None:
        self.verdicts = verdicts
        self.masks = masks

    def __len__(self) -> int:
        return len(self.verdicts)

    def verdict(self, k: int) -> Verdict:
        return BATCH_VERDICTS[int(self.verdicts[k])]

    def reasons(self, k: int) -> tuple[str, ...]:
        return decode_mask(int(self.masks[k]))
