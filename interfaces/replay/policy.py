"""Who answers approvals in a replay: a declared policy, recorded as such with each answer.

approve                 every order the gate sends for approval is approved
refuse                  every one is refused
approve-up-to=75000     approved up to that notional, refused above it
ask                     asked on the terminal, one order at a time
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.models.approval import ApprovalCard

POLICY_ACTOR = "replay-policy"


class ApprovalPolicyError(ValueError):
    """The --approvals text names no policy."""


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision: Literal["approve", "reject"]
    approvers: tuple[str, ...] = Field(min_length=1)
    reason: str
    label: str
    """How the report shows it: "approved by policy", "refused by policy", "asked: ..."."""


class ApprovalPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    kind: Literal["approve", "refuse", "up-to", "ask"]
    limit: float | None = Field(default=None, gt=0)

    @classmethod
    def parse(cls, text: str) -> ApprovalPolicy:
        value = text.strip().lower()
        if value in ("approve", "refuse", "ask"):
            return cls(text=value, kind=value)
        if value.startswith("approve-up-to="):
            amount = value.split("=", 1)[1].replace("_", "").replace(",", "")
            try:
                limit = float(amount)
            except ValueError:
                limit = float("nan")
            if not limit > 0 or limit == float("inf"):
                raise ApprovalPolicyError(
                    f"approve-up-to needs a positive notional, got {amount!r}"
                )
            return cls(text=value, kind="up-to", limit=limit)
        raise ApprovalPolicyError(
            f"no approval policy {text!r}: use approve, refuse, approve-up-to=NOTIONAL or ask"
        )

    def answer(self, card: ApprovalCard, ask: Callable[[ApprovalCard], bool] | None) -> Answer:
        approve = self._approves(card, ask)
        if approve:
            # A policy stands in for as many distinct approvers as the gate requires; the
            # names say they were the policy, never a person.
            names = tuple(
                POLICY_ACTOR if i == 0 else f"{POLICY_ACTOR}-{i + 1}"
                for i in range(card.approvals_needed)
            )
            label = "approved on the terminal" if self.kind == "ask" else "approved by policy"
            return Answer(decision="approve", approvers=names, reason=self.text, label=label)
        label = "refused on the terminal" if self.kind == "ask" else "refused by policy"
        return Answer(decision="reject", approvers=(POLICY_ACTOR,), reason=self.text, label=label)

    def _approves(self, card: ApprovalCard, ask: Callable[[ApprovalCard], bool] | None) -> bool:
        if self.kind == "approve":
            return True
        if self.kind == "refuse":
            return False
        if self.kind == "up-to":
            assert self.limit is not None
            return card.notional <= self.limit
        if ask is None:
            raise ApprovalPolicyError("the ask policy needs a terminal to ask on")
        return ask(card)
