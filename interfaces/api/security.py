"""Every API route names the least role it needs; this dependency checks the caller's key
(header `X-API-Key`), its role and its rate, and refuses with 401, 403 or 429."""

from __future__ import annotations

from collections.abc import Callable
from math import ceil

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from interfaces.api.keys import Caller, KeyRing, Role
from interfaces.api.rate_limit import RateLimiter

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The caller's API key."
)


def require(role: Role) -> Callable[..., Caller]:
    def check(request: Request, key: str | None = Security(api_key_header)) -> Caller:
        keys: KeyRing = request.app.state.keys
        caller = keys.identify(key)
        if caller is None:
            raise HTTPException(
                401,
                "missing API key" if not key else "unknown API key",
                headers={"WWW-Authenticate": "X-API-Key"},
            )
        if caller.role < role:
            raise HTTPException(
                403, f"{caller.name} is a {caller.role.name}; this needs {role.name}"
            )
        limiter: RateLimiter = request.app.state.limiter
        allowed, wait = limiter.allow(caller.name)
        if not allowed:
            raise HTTPException(429, "rate limit reached", headers={"Retry-After": str(ceil(wait))})
        request.state.caller = caller
        return caller

    return check


Viewer = Depends(require(Role.viewer))
Trader = Depends(require(Role.trader))
Approver = Depends(require(Role.approver))
Admin = Depends(require(Role.admin))
