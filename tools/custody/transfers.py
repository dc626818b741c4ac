"""Transfers out of custody as desk actions: a request names an asset, an amount and an
address on the whitelist; it goes to Fireblocks only once two distinct people other than the
requester have approved it. Every step is an audit row; requests and approvals live in
SQLite (`<data_dir>/custody.sqlite`) before anything is sent, so a restart forgets none, and
the transfer's id is Fireblocks' external id and idempotency key, so a resend after a crash
is the same transaction, not a second one."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.custody.fireblocks_vault import CustodyError, FireblocksVault

APPROVERS_NEEDED = 2
Recorder = Callable[[str, dict[str, Any], str], None]
"""(audit kind, payload, actor): the gateway's `record`, so custody shares the audit log."""


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    asset: str = Field(pattern=r"^[A-Z0-9_]{1,20}$")
    amount: float = Field(gt=0, allow_inf_nan=False)
    address: str = Field(min_length=8, max_length=128)
    requested_by: str = Field(min_length=1, max_length=64)
    approvers: list[str] = Field(default_factory=list)
    status: Literal["pending", "approved", "sent", "rejected"] = "pending"
    tx_id: str | None = None
    created_at: datetime


def parse_whitelist(entries: str) -> dict[str, frozenset[str]]:
    """`ASSET:address,...` as each asset's allowed addresses."""
    out: dict[str, set[str]] = {}
    for n, entry in enumerate(filter(None, (e.strip() for e in entries.split(",")))):
        asset, sep, address = entry.partition(":")
        if not sep or not asset or not address:
            raise ValueError(f"custody whitelist entry {n + 1} is not ASSET:address")
        out.setdefault(asset.upper(), set()).add(address)
    return {k: frozenset(v) for k, v in out.items()}


class TransferDesk:
    def __init__(
        self,
        path: Path,
        whitelist: dict[str, frozenset[str]],
        vault: FireblocksVault | None,
        record: Recorder,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS transfers (id TEXT PRIMARY KEY, body TEXT)")
        self._lock = threading.Lock()
        self.whitelist = whitelist
        self.vault = vault
        self._record = record

    def close(self) -> None:
        self._db.close()

    def _save(self, request: TransferRequest) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO transfers (id, body) VALUES (?, ?)",
            (request.id, request.model_dump_json()),
        )

    def get(self, transfer_id: str) -> TransferRequest:
        row = self._db.execute("SELECT body FROM transfers WHERE id = ?", (transfer_id,)).fetchone()
        if row is None:
            raise CustodyError("TRANSFER_UNKNOWN", f"no transfer {transfer_id!r}")
        return TransferRequest.model_validate_json(row[0])

    def open(self) -> list[TransferRequest]:
        rows = self._db.execute("SELECT body FROM transfers").fetchall()
        found = [TransferRequest.model_validate_json(r[0]) for r in rows]
        return [t for t in found if t.status in ("pending", "approved")]

    def request(
        self, asset: str, amount: float, address: str, requested_by: str
    ) -> TransferRequest:
        """A new transfer waiting for approvers; an address off the whitelist is refused."""
        asset = asset.upper()
        wanted = {"asset": asset, "amount": amount, "address": address}
        if address not in self.whitelist.get(asset, frozenset()):
            self._record(
                "custody.transfer_refused", {**wanted, "why": "not whitelisted"}, requested_by
            )
            raise CustodyError(
                "ADDRESS_NOT_WHITELISTED", f"{address} is not a whitelisted {asset} address"
            )
        made = TransferRequest(
            id=f"qd-tr-{uuid.uuid4().hex[:20]}",
            asset=asset,
            amount=amount,
            address=address,
            requested_by=requested_by,
            created_at=datetime.now(UTC),
        )
        with self._lock:
            self._save(made)
        self._record("custody.transfer_requested", {**wanted, "transfer_id": made.id}, requested_by)
        return made

    def approve(self, transfer_id: str, approver: str) -> TransferRequest:
        """Count `approver` (not the requester, not twice); at two, send it."""
        with self._lock:
            transfer = self.get(transfer_id)
            if transfer.status not in ("pending", "approved"):
                raise CustodyError("TRANSFER_CLOSED", f"{transfer_id} is {transfer.status}")
            if approver == transfer.requested_by:
                self._record(
                    "custody.approval_refused",
                    {"transfer_id": transfer_id, "why": "the requester"},
                    approver,
                )
                raise CustodyError("APPROVER_IS_REQUESTER", "the requester cannot approve")
            if approver not in transfer.approvers:
                transfer.approvers.append(approver)
                if len(transfer.approvers) >= APPROVERS_NEEDED:
                    transfer.status = "approved"
                self._save(transfer)
                self._record(
                    "custody.transfer_approved",
                    {"transfer_id": transfer_id, "approvers": transfer.approvers},
                    approver,
                )
        return self.send(transfer_id) if transfer.status == "approved" else transfer

    def reject(self, transfer_id: str, who: str, reason: str) -> TransferRequest:
        with self._lock:
            transfer = self.get(transfer_id)
            if transfer.status != "pending":
                raise CustodyError("TRANSFER_CLOSED", f"{transfer_id} is {transfer.status}")
            transfer.status = "rejected"
            self._save(transfer)
        self._record(
            "custody.transfer_rejected", {"transfer_id": transfer_id, "reason": reason}, who
        )
        return transfer

    def send(self, transfer_id: str) -> TransferRequest:
        """Send an approved transfer (again, after a failure or a crash: the same one)."""
        with self._lock:
            transfer = self.get(transfer_id)
            if transfer.status != "approved":
                raise CustodyError("TRANSFER_NOT_APPROVED", f"{transfer_id} is {transfer.status}")
            if self.vault is None:
                raise CustodyError("CUSTODY_NOT_CONFIGURED", "Fireblocks is not configured")
            try:
                tx_id = self.vault.transfer(
                    transfer.asset, transfer.amount, transfer.address, transfer.id
                )
            except CustodyError as exc:
                self._record(
                    "custody.transfer_failed",
                    {"transfer_id": transfer_id, "code": exc.code},
                    "custody",
                )
                raise
            transfer.status, transfer.tx_id = "sent", tx_id
            self._save(transfer)
        self._record(
            "custody.transfer_sent",
            {"transfer_id": transfer_id, "tx_id": tx_id, "approvers": transfer.approvers},
            "custody",
        )
        return transfer
