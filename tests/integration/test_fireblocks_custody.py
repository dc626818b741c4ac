"""Custody at Fireblocks through the official SDK, against a loopback server that speaks
Fireblocks' REST API and verifies each request's signed JWT: vault balances reconciled with
the ledger on a risk review (a mismatch is an audit row and REDUCING, which alerts), and
transfers that need two distinct approvers and a whitelisted address. A bad signature, an
unlisted address and a single approver are each refused, and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from core.models.trading import TradingState
from core.store import Store
from graph.session import DeskSession
from interfaces.api import create_app
from interfaces.desk_host import DeskHost
from tests.fakes.fireblocks_api import FakeFireblocks, serve_fireblocks
from tests.interfaces.conftest import auth, desk_settings
from tools.custody.fireblocks_vault import CustodyError, FireblocksVault
from tools.custody.transfers import TransferDesk, parse_whitelist

API_KEY = "fb-api-user-5b1e0c7a"
ADDRESS = "bc1qdesk0cold0storage0whitelisted0addr"


def pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return pem_pair()


@pytest.fixture
def fake(keys: tuple[str, str]) -> Iterator[FakeFireblocks]:
    with serve_fireblocks(API_KEY, keys[1], "7", {"BTC": "1.5", "ETH": "0"}) as f:
        yield f


def vault(fake: FakeFireblocks, private_pem: str) -> FireblocksVault:
    return FireblocksVault(SecretStr(API_KEY), SecretStr(private_pem), "7", base_url=fake.base_url)


class Audit:
    def __init__(self) -> None:
        self.rows: list[tuple[str, dict[str, object], str]] = []

    def __call__(self, kind: str, payload: dict[str, object], actor: str) -> None:
        self.rows.append((kind, payload, actor))

    def kinds(self) -> list[str]:
        return [k for k, _, _ in self.rows]


def transfers(tmp_path: Path, fake: FakeFireblocks, pem: str, audit: Audit) -> TransferDesk:
    return TransferDesk(
        tmp_path / "custody.sqlite", parse_whitelist(f"BTC:{ADDRESS}"), vault(fake, pem), audit
    )


def test_balances_are_read_with_a_signed_request(fake: FakeFireblocks, keys: tuple[str, str]):
    assert vault(fake, keys[0]).balances() == {"BTC": 1.5, "ETH": 0.0}
    assert fake.verified == 1
    assert fake.refused == []


def test_a_bad_signature_is_refused_and_sends_nothing(
    fake: FakeFireblocks, keys: tuple[str, str], tmp_path: Path
):
    forged_pem, _ = pem_pair()
    with pytest.raises(CustodyError, match="CUSTODY_AUTH") as info:
        vault(fake, forged_pem).balances()
    assert forged_pem not in str(info.value)
    audit = Audit()
    desk = transfers(tmp_path, fake, forged_pem, audit)
    made = desk.request("BTC", 0.25, ADDRESS, "alice")
    desk.approve(made.id, "bob")
    with pytest.raises(CustodyError, match="CUSTODY_AUTH"):
        desk.approve(made.id, "carol")
    assert fake.transactions == {}
    assert fake.refused == ["bad token: InvalidSignatureError"] * 2
    assert desk.get(made.id).status == "approved"  # kept, to send once the key is right
    assert "custody.transfer_failed" in audit.kinds()
    # The right key sends the same transfer, once.
    fixed = transfers(tmp_path, fake, keys[0], audit)
    sent = fixed.send(made.id)
    assert sent.status == "sent"
    [body] = fake.transactions.values()
    assert body["externalTxId"] == made.id


def test_an_address_off_the_whitelist_is_refused(
    fake: FakeFireblocks, keys: tuple[str, str], tmp_path: Path
):
    audit = Audit()
    desk = transfers(tmp_path, fake, keys[0], audit)
    with pytest.raises(CustodyError, match="ADDRESS_NOT_WHITELISTED"):
        desk.request("BTC", 0.25, "bc1qattacker0address0not0listed0000", "alice")
    with pytest.raises(CustodyError, match="ADDRESS_NOT_WHITELISTED"):
        desk.request("ETH", 1.0, ADDRESS, "alice")  # listed, but for another asset
    assert desk.open() == []
    assert fake.transactions == {}
    assert fake.verified == 0
    assert audit.kinds() == ["custody.transfer_refused"] * 2


def test_one_approver_is_not_enough_and_two_distinct_send_it_once(
    fake: FakeFireblocks, keys: tuple[str, str], tmp_path: Path
):
    audit = Audit()
    desk = transfers(tmp_path, fake, keys[0], audit)
    made = desk.request("btc", 0.25, ADDRESS, "alice")
    with pytest.raises(CustodyError, match="APPROVER_IS_REQUESTER"):
        desk.approve(made.id, "alice")
    assert desk.approve(made.id, "bob").status == "pending"
    assert desk.approve(made.id, "bob").status == "pending"  # the same person counts once
    assert fake.transactions == {}
    # A restart forgets nothing: the approvals are on disk.
    desk.close()
    desk = transfers(tmp_path, fake, keys[0], audit)
    assert desk.get(made.id).approvers == ["bob"]
    sent = desk.approve(made.id, "carol")
    assert (sent.status, sent.approvers) == ("sent", ["bob", "carol"])
    [(tx_id, body)] = fake.transactions.items()
    assert sent.tx_id == tx_id
    assert (body["assetId"], body["amount"], body["externalTxId"]) == ("BTC", "0.25000000", made.id)
    assert body["destination"] == {
        "type": "ONE_TIME_ADDRESS",
        "oneTimeAddress": {"address": ADDRESS},
    }
    assert body["source"] == {"type": "VAULT_ACCOUNT", "id": "7"}
    with pytest.raises(CustodyError, match="TRANSFER_NOT_APPROVED"):
        desk.send(made.id)  # sent already: never twice
    assert len(fake.transactions) == 1
    assert audit.kinds()[-1] == "custody.transfer_sent"


@pytest.fixture
def custody_host(
    loaded: Store, tmp_path: Path, fake: FakeFireblocks, keys: tuple[str, str]
) -> Iterator[DeskHost]:
    pem = tmp_path / "fireblocks.pem"
    pem.write_text(keys[0])
    settings = desk_settings(
        tmp_path, fireblocks_api_key=SecretStr(API_KEY), fireblocks_secret_key_path=pem,
        fireblocks_vault_id="7", fireblocks_base_url=fake.base_url,
        custody_whitelist=f"BTC:{ADDRESS}",
    )  # fmt: skip
    with DeskSession(settings, loaded) as session:
        yield DeskHost(session)


def test_a_risk_review_reconciles_the_vault_and_a_mismatch_reduces(
    custody_host: DeskHost, fake: FakeFireblocks
):
    fake.assets = {"BTC": "0", "ETH": "0"}
    turn = custody_host.ask("what is our exposure?", "r1")
    review = turn.results["risk"]["custody"]
    assert review["mismatches"] == []
    gateway = custody_host.session.desk.gateway
    assert gateway.trading_state is TradingState.ACTIVE
    fake.assets = {"BTC": "1.5", "ETH": "0"}  # coins the ledger knows nothing of
    turn = custody_host.ask("what is our exposure?", "r2")
    assert turn.results["risk"]["custody"]["mismatches"] == [
        {"asset": "BTC", "ledger": 0.0, "vault": 1.5}
    ]
    assert gateway.trading_state is TradingState.REDUCING
    rows = custody_host.session.store.client.query(
        "SELECT actor FROM audit_log WHERE kind = 'custody.mismatch'"
    ).result_rows
    assert rows == [("risk",)]
    assert fake.verified == 2


def test_transfers_over_the_api_need_two_approvers_with_their_own_keys(
    custody_host: DeskHost, fake: FakeFireblocks, tmp_path: Path
):
    settings = custody_host.session.desk.settings
    with TestClient(create_app(settings, custody_host)) as client:
        held = client.get("/v1/custody/balances", headers=auth("viewer")).json()
        assert held["mismatches"] == [{"asset": "BTC", "ledger": 0.0, "vault": 1.5}]
        unlisted = client.post(
            "/v1/custody/transfers", headers=auth("trader"),
            json={"asset": "BTC", "amount": 0.5, "address": "bc1qnot0on0the0list0000000"},
        )  # fmt: skip
        assert unlisted.status_code == 400
        assert "not a whitelisted BTC address" in unlisted.json()["detail"]
        made = client.post(
            "/v1/custody/transfers", headers=auth("trader"),
            json={"asset": "BTC", "amount": 0.5, "address": ADDRESS},
        ).json()  # fmt: skip
        path = f"/v1/custody/transfers/{made['id']}/approve"
        assert client.post(path, headers=auth("trader")).status_code == 403
        first = client.post(path, headers=auth("approver")).json()
        assert (first["status"], first["approvers"]) == ("pending", ["api:approver"])
        again = client.post(path, headers=auth("approver")).json()
        assert again["approvers"] == ["api:approver"]
        assert fake.transactions == {}
        sent = client.post(path, headers=auth("approver2")).json()
        assert (sent["status"], sent["approvers"]) == ("sent", ["api:approver", "api:approver2"])
        assert client.get("/v1/custody/transfers", headers=auth("viewer")).json() == []
    [body] = fake.transactions.values()
    assert (body["externalTxId"], body["amount"]) == (made["id"], "0.50000000")
    kinds = [
        k for (k,) in custody_host.session.store.client.query(
            "SELECT kind FROM audit_log WHERE kind LIKE 'custody.%' ORDER BY ts"
        ).result_rows
    ]  # fmt: skip
    assert sorted(kinds) == sorted(
        ["custody.transfer_refused", "custody.transfer_requested", "custody.transfer_approved",
         "custody.transfer_approved", "custody.transfer_sent"]
    )  # fmt: skip


@pytest.fixture
def loaded(store: Store, bitstamp_btc_raw: pd.DataFrame) -> Store:
    from core.models.market import SessionCalendar
    from tools.ingest.pipeline import ingest_bars

    ingest_bars(store, bitstamp_btc_raw, source="crypto", calendar=SessionCalendar.CONTINUOUS)
    return store
