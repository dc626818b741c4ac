"""Block Kit for approval requests and their outcomes."""

from __future__ import annotations

from typing import Any

from core.models.approval import ApprovalCard

APPROVE = "approve_order"
REJECT = "reject_order"


def _risk_line(risk: dict[str, Any]) -> str:
    if not risk:
        return "no risk view yet"
    return (
        f"equity {risk.get('equity', 0):,.0f}, gross {risk.get('gross_exposure', 0):,.0f}, "
        f"VaR95 {risk.get('var_95', 0):,.0f}, state {risk.get('trading_state', '?')}"
    )


def approval_blocks(thread_id: str, card: ApprovalCard) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Approval needed:* {card.order.line()} (thread `{thread_id}`)",
            },
            "fields": [
                {"type": "mrkdwn", "text": f"*Notional*\n{card.notional:,.0f}"},
                {"type": "mrkdwn", "text": f"*Gate reasons*\n{', '.join(card.gate_reasons)}"},
                {"type": "mrkdwn", "text": f"*Risk*\n{_risk_line(card.risk)}"},
                {
                    "type": "mrkdwn",
                    "text": f"*Approvals*\n{card.approvals_needed} needed; {card.approvers_line}",
                },
                {"type": "mrkdwn", "text": f"*Expires*\n{card.expires_at.isoformat()}"},
            ],
        },
        {
            "type": "actions",
            "block_id": "approval",
            "elements": [
                {
                    "type": "button",
                    "action_id": APPROVE,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": thread_id,
                },
                {
                    "type": "button",
                    "action_id": REJECT,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Reject"},
                    "value": thread_id,
                },
            ],
        },
    ]


def outcome_blocks(summary: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": summary}}]
