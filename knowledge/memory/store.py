"""The agents' retrievable memory: research notes, decisions and incidents in Qdrant.

Local mode (files under data_dir) by default; `QDRANT_URL` for a server. Point ids derive
from the collection and text, so remembering the same note twice keeps one copy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.closing import Closing
from core.settings import Settings
from knowledge.memory.embedder import DIMENSIONS, MODEL_NAME, embed

# qdrant_client takes about a second to import: it loads when memory is opened or queried,
# not when the desk or the CLI starts.
if TYPE_CHECKING:
    from qdrant_client import QdrantClient, models

Collection = Literal["research_notes", "decisions", "incidents"]
COLLECTIONS: tuple[Collection, ...] = ("research_notes", "decisions", "incidents")
KEYWORD_FIELDS = ("strategy", "instrument", "agent", "source")


class MemoryUnavailableError(RuntimeError):
    """Memory cannot open: local mode's folder is held by another process, or no server."""


class MemoryItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    at: datetime
    strategy: str | None = Field(default=None, max_length=200)
    instrument: str | None = Field(default=None, max_length=200)
    agent: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=500)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Recall(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    query: str = Field(min_length=1, max_length=2_000)
    collection: Collection = "research_notes"
    limit: int = Field(default=5, ge=1, le=50)
    strategy: str | None = None
    instrument: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class Memory(BaseModel):
    id: str
    score: float
    item: MemoryItem


def _filter(q: Recall) -> models.Filter | None:
    from qdrant_client import models

    must: list[models.Condition] = []
    for key in ("strategy", "instrument"):
        value = getattr(q, key)
        if value is not None:
            must.append(models.FieldCondition(key=key, match=models.MatchValue(value=value)))
    if q.since is not None or q.until is not None:
        must.append(
            models.FieldCondition(
                key="ts",
                range=models.Range(
                    gte=q.since.timestamp() if q.since else None,
                    lte=q.until.timestamp() if q.until else None,
                ),
            )
        )
    return models.Filter(must=must) if must else None


class MemoryStore(Closing):
    def __init__(self, client: QdrantClient, indexed: bool = False) -> None:
        """`indexed`: create payload indexes (a server uses them; local mode ignores them)."""
        from qdrant_client import models

        self.client = client
        for name in COLLECTIONS:
            if not client.collection_exists(name):
                client.create_collection(
                    name,
                    vectors_config=models.VectorParams(
                        size=DIMENSIONS, distance=models.Distance.COSINE
                    ),
                    metadata={"embedding_model": MODEL_NAME},
                )
                if indexed:
                    for key in KEYWORD_FIELDS:
                        client.create_payload_index(name, key, models.PayloadSchemaType.KEYWORD)
                    client.create_payload_index(name, "ts", models.PayloadSchemaType.FLOAT)

    @classmethod
    def open(cls, settings: Settings) -> MemoryStore:
        from qdrant_client import QdrantClient

        if settings.qdrant_url is not None:
            key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
            return cls(QdrantClient(url=settings.qdrant_url, api_key=key), indexed=True)
        path = Path(settings.data_dir / "qdrant").resolve()
        path.mkdir(parents=True, exist_ok=True)
        try:
            client = QdrantClient(path=str(path))
        except RuntimeError as exc:  # local mode allows one process per folder
            raise MemoryUnavailableError(
                f"memory at {path} is open in another process (a running desk?); "
                "stop it, or set QDRANT_URL to share a Qdrant server"
            ) from exc
        return cls(client)

    def remember(self, collection: Collection, items: list[MemoryItem]) -> list[str]:
        from qdrant_client import models

        vectors = embed([i.text for i in items])
        ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{collection}\n{i.text}")) for i in items]
        self.client.upsert(
            collection,
            points=[
                models.PointStruct(
                    id=pid,
                    vector=vector.tolist(),
                    payload=item.model_dump(mode="json") | {"ts": item.at.timestamp()},
                )
                for pid, item, vector in zip(ids, items, vectors, strict=True)
            ],
        )
        return ids

    def recall(self, q: Recall) -> list[Memory]:
        vector = embed([q.query])[0].tolist()
        hits = self.client.query_points(
            q.collection, query=vector, query_filter=_filter(q), limit=q.limit, with_payload=True
        ).points
        out = []
        for hit in hits:
            payload = dict(hit.payload or {})
            payload.pop("ts", None)
            out.append(Memory(id=str(hit.id), score=hit.score, item=MemoryItem(**payload)))
        return out

    def count(self, collection: Collection) -> int:
        return self.client.count(collection).count

    def close(self) -> None:
        self.client.close()
