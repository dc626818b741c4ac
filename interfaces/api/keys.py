"""API keys and roles. Keys come from settings as `name:role:key` entries; only their
SHA-256 digests are held, compared in constant time. Roles are ordered: each one may do what
the roles below it may."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    viewer = 1
    trader = 2
    approver = 3
    admin = 4


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role


class KeyConfigError(ValueError):
    """The configured key list is malformed (the message names the bad entry, not the key)."""


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class KeyRing:
    def __init__(self, entries: str | None) -> None:
        self._keys: list[tuple[bytes, Caller]] = []
        for position, entry in enumerate(
            filter(None, (e.strip() for e in (entries or "").split(",")))
        ):
            parts = entry.split(":", 2)
            if len(parts) != 3 or not all(parts):
                raise KeyConfigError(f"api key entry {position + 1} is not name:role:key")
            name, role, key = parts
            if role not in Role.__members__:
                raise KeyConfigError(
                    f"api key entry {position + 1} ({name}): unknown role {role!r}; "
                    f"roles are {', '.join(Role.__members__)}"
                )
            if len(key) < 16:
                raise KeyConfigError(f"api key entry {position + 1} ({name}): key shorter than 16")
            self._keys.append((_digest(key), Caller(name, Role[role])))

    def __len__(self) -> int:
        return len(self._keys)

    def identify(self, key: str | None) -> Caller | None:
        if not key:
            return None
        digest = _digest(key)
        found = None
        for known, caller in self._keys:
            # Every entry is compared, so the time taken does not say which one matched.
            if hmac.compare_digest(known, digest):
                found = caller
        return found
