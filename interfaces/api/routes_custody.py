"""Custody at Fireblocks: the vault against the ledger, and transfers out as desk actions. A
trader requests a transfer to a whitelisted address; it goes only once two approvers (other
than the requester, each with their own key) have approved it. Every step is audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from interfaces.api.keys import Caller
from interfaces.api.models import Problem
from interfaces.api.routes_desk import host_of
from interfaces.api.security import Approver, Trader, Viewer
from tools.custody.fireblocks_vault import CustodyError
from tools.custody.transfers import TransferDesk, TransferRequest, parse_whitelist

router = APIRouter(prefix="/v1/custody", tags=["custody"])
TransferId = Annotated[str, Path(pattern=r"^qd-tr-[0-9a-f]{20}$")]
_STATUS = {"ADDRESS_NOT_WHITELISTED": 400, "TRANSFER_UNKNOWN": 404, "TRANSFER_CLOSED": 409,
           "APPROVER_IS_REQUESTER": 409, "TRANSFER_NOT_APPROVED": 409,
           "CUSTODY_NOT_CONFIGURED": 409}  # fmt: skip


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset: str = Field(pattern=r"^[A-Za-z0-9_]{1,20}$")
    amount: float = Field(gt=0, le=1e12, allow_inf_nan=False)
    address: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9:._-]+$")


def transfers_of(request: Request) -> TransferDesk:
    desk = getattr(request.app.state, "transfers", None)
    if desk is None:
        host = host_of(request)
        settings = host.session.desk.settings
        desk = TransferDesk(
            settings.data_dir / "custody.sqlite", parse_whitelist(settings.custody_whitelist),
            host.session.desk.custody, host.record,
        )  # fmt: skip
        request.app.state.transfers = desk
    return desk


def _refused(exc: CustodyError) -> HTTPException:
    # Fireblocks' own refusals and outages are a bad gateway; the desk's rules are the caller's.
    return HTTPException(_STATUS.get(exc.code, 502), str(exc))


@router.get("/balances", responses={404: {"model": Problem}, 502: {"model": Problem}})
def balances(request: Request, caller: Caller = Viewer) -> dict[str, Any]:
    """The vault's assets, the ledger's, and where they differ (reading changes nothing; the
    risk review is what reduces on a mismatch)."""
    from tools.custody.reconcile import ledger_assets, vault_mismatches

    host = host_of(request)
    vault = host.session.desk.custody
    if vault is None:
        raise HTTPException(404, "custody is not configured (QUANTDESK_FIREBLOCKS_API_KEY)")
    try:
        held = vault.balances()
    except CustodyError as exc:
        raise _refused(exc) from None
    ledger = host.read(lambda desk: ledger_assets(desk.gateway))
    found = vault_mismatches(ledger, held)
    return {"vault": held, "ledger": ledger, "mismatches": [m.model_dump() for m in found]}


@router.get("/transfers", response_model=list[TransferRequest])
def open_transfers(request: Request, caller: Caller = Viewer) -> list[TransferRequest]:
    """Transfers waiting for approvers or to be sent."""
    return transfers_of(request).open()


@router.post("/transfers", response_model=TransferRequest, responses={400: {"model": Problem}})
def request_transfer(
    body: TransferIn, request: Request, caller: Caller = Trader
) -> TransferRequest:
    """Ask for a transfer out of the vault; only to an address on the whitelist."""
    try:
        return transfers_of(request).request(
            body.asset, body.amount, body.address, f"api:{caller.name}"
        )
    except CustodyError as exc:
        raise _refused(exc) from None


@router.post(
    "/transfers/{transfer_id}/approve",
    response_model=TransferRequest,
    responses={409: {"model": Problem}, 502: {"model": Problem}},
)
def approve_transfer(
    transfer_id: TransferId, request: Request, caller: Caller = Approver
) -> TransferRequest:
    """Count this approver; the second distinct one sends it to Fireblocks."""
    try:
        return transfers_of(request).approve(transfer_id, f"api:{caller.name}")
    except CustodyError as exc:
        raise _refused(exc) from None


@router.post(
    "/transfers/{transfer_id}/reject",
    response_model=TransferRequest,
    responses={409: {"model": Problem}},
)
def reject_transfer(
    transfer_id: TransferId, request: Request, caller: Caller = Approver
) -> TransferRequest:
    try:
        return transfers_of(request).reject(transfer_id, f"api:{caller.name}", "rejected")
    except CustodyError as exc:
        raise _refused(exc) from None
