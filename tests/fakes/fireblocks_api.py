"""A loopback server that answers as Fireblocks' REST API v1 does for the calls the desk makes
(a vault account, creating a transaction), and checks every request the way Fireblocks does:
`X-API-Key` names the API user, and `Authorization: Bearer <JWT>` must be an RS256 token
signed with that user's private key whose claims bind it to this request (`uri` the path and
query, `bodyHash` the SHA-256 of the body, `sub` the key, a fresh `iat`/`exp`, a `nonce`
never seen before). Anything else is 401 and changes nothing."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from interfaces.server import serve_in_background


@dataclass
class FakeFireblocks:
    api_key: str
    public_key_pem: str
    vault_id: str
    assets: dict[str, str]
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    verified: int = 0
    nonces: set[str] = field(default_factory=set)
    base_url: str = ""

    async def check(self, request: Request) -> str | None:
        """Why `request` is not authentic, or None."""
        if request.headers.get("x-api-key") != self.api_key:
            return "unknown API key"
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return "no bearer token"
        try:
            claims = jwt.decode(auth[7:], self.public_key_pem, algorithms=["RS256"])
        except jwt.PyJWTError as exc:
            return f"bad token: {type(exc).__name__}"
        uri = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        body = await request.body()
        if claims.get("sub") != self.api_key:
            return "token for another API user"
        if claims.get("uri") != uri:
            return f"token for {claims.get('uri')}, not {uri}"
        if claims.get("bodyHash") != hashlib.sha256(body).hexdigest():
            return "body differs from the signed one"
        if not claims.get("iat", 0) <= time.time() + 5 < claims.get("exp", 0) + 5:
            return "token expired"
        if claims.get("nonce") in self.nonces:
            return "nonce reused"
        self.nonces.add(str(claims.get("nonce")))
        self.verified += 1
        return None


def _app(fake: FakeFireblocks) -> Starlette:
    async def refuse(why: str) -> Response:
        fake.refused.append(why)
        return JSONResponse({"message": "Unauthorized", "code": -7}, 401)

    async def vault(request: Request) -> Response:
        if (why := await fake.check(request)) is not None:
            return await refuse(why)
        if request.path_params["vault_id"] != fake.vault_id:
            return JSONResponse({"message": "Vault account not found", "code": 11001}, 404)
        return JSONResponse(
            {"id": fake.vault_id, "name": "desk", "hiddenOnUI": False, "autoFuel": False,
             "assets": [{"id": a, "total": t, "balance": t, "available": t, "pending": "0",
                         "frozen": "0", "lockedAmount": "0"} for a, t in fake.assets.items()]}
        )  # fmt: skip

    async def transactions(request: Request) -> Response:
        if (why := await fake.check(request)) is not None:
            return await refuse(why)
        body = json.loads(await request.body())
        external = body.get("externalTxId")
        for tx_id, seen in fake.transactions.items():
            if external and seen.get("externalTxId") == external:
                return JSONResponse({"id": tx_id, "status": "SUBMITTED"})  # the same one again
        if body.get("source", {}).get("id") != fake.vault_id:
            return JSONResponse({"message": "Source not found", "code": 1427}, 400)
        tx_id = str(uuid.uuid4())
        fake.transactions[tx_id] = body
        return JSONResponse({"id": tx_id, "status": "SUBMITTED"})

    return Starlette(
        routes=[
            Route("/v1/vault/accounts/{vault_id}", vault),
            Route("/v1/transactions", transactions, methods=["POST"]),
        ]
    )


@contextmanager
def serve_fireblocks(
    api_key: str, public_key_pem: str, vault_id: str, assets: dict[str, str]
) -> Iterator[FakeFireblocks]:
    fake = FakeFireblocks(api_key, public_key_pem, vault_id, assets)
    with serve_in_background(_app(fake)) as url:  # type: ignore[arg-type]
        fake.base_url = f"{url}/v1"
        yield fake
