"""Who acts on the gate: a named human, an agent or a service (`gateway/src/actor.rs`).

The desk spells an actor `kind:name` ("human:alice", "agent:risk"). The engine parses that
text again and decides on the kind: only a human with a name may rearm.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ActorKind = Literal["human", "agent", "service"]
KINDS: tuple[ActorKind, ...] = ("human", "agent", "service")
MAX_ACTOR_LEN = 64
"""The longest `kind:name` the audit log's actor column holds (as in the Rust crate)."""


class Actor(BaseModel):
    """A typed actor; `str(actor)` is the `kind:name` form the engine and audit log use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ActorKind
    name: str = Field(min_length=1, description="Who, by the name the desk knows them by.")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        # The same rules as the engine's: what an audit row shows is exactly who acted.
        if name.strip() != name or any(unicodedata.category(c) == "Cc" for c in name):
            raise ValueError(f"actor name {name!r} has surrounding blanks or control characters")
        return name

    @model_validator(mode="after")
    def _fits_the_audit_log(self) -> Actor:
        if len(str(self)) > MAX_ACTOR_LEN:
            raise ValueError(f"actor {self} is longer than {MAX_ACTOR_LEN} characters")
        return self

    @classmethod
    def human(cls, name: str) -> Actor:
        return cls(kind="human", name=name)

    @classmethod
    def agent(cls, name: str) -> Actor:
        return cls(kind="agent", name=name)

    @classmethod
    def service(cls, name: str) -> Actor:
        return cls(kind="service", name=name)

    @classmethod
    def parse(cls, text: str) -> Actor:
        """Read `kind:name` strictly: a known kind in lower case, then a valid name."""
        kind, sep, name = text.partition(":")
        if not sep:
            raise ValueError(
                f"actor {text!r} is not 'kind:name' (human:<name>, agent:<name> or service:<name>)"
            )
        for known in KINDS:
            if kind == known:
                return cls(kind=known, name=name)
        raise ValueError(f"actor kind {kind!r} is not human, agent or service")

    @property
    def is_human(self) -> bool:
        return self.kind == "human"

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


__all__ = ["MAX_ACTOR_LEN", "Actor", "ActorKind"]
