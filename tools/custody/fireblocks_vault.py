"""One Fireblocks vault account through the official `fireblocks` SDK, which signs every
request as Fireblocks requires (an RS256 JWT over the path, a nonce, the time and the body's
SHA-256, with the API user's private key). Balances in, transfers out; the desk's rules on
transfers (two approvers, the whitelist) live in `tools/custody/transfers.py`, before this."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)


class CustodyError(RuntimeError):
    """Fireblocks refused or could not be reached; `code` says which (never the keys)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class FireblocksVault:
    """The desk's vault account at Fireblocks (`base_url` points at a proxy or loopback)."""

    def __init__(
        self, api_key: SecretStr, secret_key: SecretStr, vault_id: str, *, base_url: str
    ) -> None:
        from fireblocks.client import Fireblocks
        from fireblocks.client_configuration import ClientConfiguration

        self.vault_id = vault_id
        self.base_url = base_url
        self._client = Fireblocks(
            ClientConfiguration(
                api_key=api_key.get_secret_value(), secret_key=secret_key.get_secret_value(),
                base_path=base_url,
            )
        )  # fmt: skip

    @classmethod
    def from_settings(cls, settings: Settings) -> FireblocksVault | None:
        """The configured vault, or None when Fireblocks is not configured."""
        if settings.fireblocks_api_key is None or settings.fireblocks_secret_key_path is None:
            return None
        pem = Path(settings.fireblocks_secret_key_path).read_text(encoding="utf-8")
        return cls(
            settings.fireblocks_api_key, SecretStr(pem), settings.fireblocks_vault_id,
            base_url=settings.fireblocks_base_url,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"FireblocksVault(vault={self.vault_id!r}, base_url={self.base_url!r}, keys=***)"

    def _call(self, what: str, future: Any) -> Any:
        from fireblocks.exceptions import ApiException

        try:
            return future.result().data
        except ApiException as exc:
            code = "CUSTODY_AUTH" if exc.status in (401, 403) else "CUSTODY_REFUSED"
            log.warning("fireblocks %s failed: %s (%s)", what, code, exc.status)
            raise CustodyError(code, f"fireblocks {what}: HTTP {exc.status}") from None
        except OSError as exc:
            raise CustodyError("CUSTODY_UNREACHABLE", f"fireblocks {what}: {exc}") from None

    def balances(self) -> dict[str, float]:
        """Each asset's total in the vault, by Fireblocks' asset id (BTC, ETH, ...)."""
        account = self._call(
            "get_vault_account", self._client.vaults.get_vault_account(self.vault_id)
        )
        return {a.id: float(a.total or 0.0) for a in account.assets or [] if a.id}

    def transfer(self, asset: str, amount: float, address: str, external_id: str) -> str:
        """Send `amount` of `asset` from the vault to `address`; `external_id` makes a resend
        (after a crash) the same transaction at Fireblocks. Returns its transaction id."""
        from fireblocks.models.destination_transfer_peer_path import (
            DestinationTransferPeerPath,
        )
        from fireblocks.models.one_time_address import OneTimeAddress
        from fireblocks.models.source_transfer_peer_path import SourceTransferPeerPath
        from fireblocks.models.transaction_request import TransactionRequest
        from fireblocks.models.transaction_request_amount import TransactionRequestAmount
        from fireblocks.models.transfer_peer_path_type import TransferPeerPathType

        request = TransactionRequest(
            asset_id=asset,
            amount=TransactionRequestAmount(f"{amount:.8f}"),
            source=SourceTransferPeerPath(
                type=TransferPeerPathType.VAULT_ACCOUNT, id=self.vault_id
            ),
            destination=DestinationTransferPeerPath(
                type=TransferPeerPathType.ONE_TIME_ADDRESS,
                one_time_address=OneTimeAddress(address=address),
            ),
            external_tx_id=external_id,
            note=f"quantdesk transfer {external_id}",
        )
        created = self._call(
            "create_transaction",
            self._client.transactions.create_transaction(
                transaction_request=request, idempotency_key=external_id
            ),
        )
        return str(created.id)
