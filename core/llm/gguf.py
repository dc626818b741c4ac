"""A small pure-Python reader for a GGUF file's header and key/value metadata (not its
tensors): enough to say what a model file is without loading llama.cpp.

Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (little-endian)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict

GGUF_MAGIC = b"GGUF"
# Arrays longer than this (the tokenizer's 151k tokens and merges) are skipped and shown
# only by their type and length: nobody reads them, and keeping them costs memory.
KEEP_ARRAY_ITEMS = 64
# Longer than any real key or value (a chat template is a few KB): a length past this is a
# corrupt file, refused before it is allocated.
MAX_STRING_BYTES = 64 << 20

# Value type ids to struct formats for the fixed-size types.
_FIXED = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q"}
_FIXED |= {11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_TYPE_NAMES = {0: "uint8", 1: "int8", 2: "uint16", 3: "int16", 4: "uint32", 5: "int32"}
_TYPE_NAMES |= {6: "float32", 7: "bool", 8: "string", 9: "array", 10: "uint64", 11: "int64"}
_TYPE_NAMES |= {12: "float64"}
# llama.cpp's `llama_ftype` values for the files people usually meet.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 32: "BF16",
}  # fmt: skip

Scalar = int | float | bool | str


class GgufFormatError(ValueError):
    """The file is not a GGUF file, or its metadata section is cut short."""


class SkippedArray(BaseModel):
    """A long array left unread: its item type and length."""

    model_config = ConfigDict(frozen=True)
    item_type: str
    length: int


class GgufMetadata(BaseModel):
    """A GGUF file's version, tensor count and key/value metadata."""

    model_config = ConfigDict(frozen=True)
    version: int
    tensor_count: int
    values: dict[str, Scalar | list[Scalar] | SkippedArray]

    def _get(self, key: str) -> Scalar | None:
        value = self.values.get(key)
        return value if isinstance(value, int | float | bool | str) else None

    @property
    def architecture(self) -> str:
        return str(self._get("general.architecture") or "unknown")

    @property
    def name(self) -> str | None:
        found = self._get("general.name")
        return None if found is None else str(found)

    @property
    def size_label(self) -> str | None:
        found = self._get("general.size_label")
        return None if found is None else str(found)

    @property
    def file_type(self) -> str | None:
        found = self._get("general.file_type")
        if not isinstance(found, int):
            return None
        return FILE_TYPES.get(found, f"type {found}")

    @property
    def context_length(self) -> int | None:
        found = self._get(f"{self.architecture}.context_length")
        return found if isinstance(found, int) and not isinstance(found, bool) else None

    @property
    def chat_template(self) -> str | None:
        found = self._get("tokenizer.chat_template")
        return found if isinstance(found, str) else None

    def summary(self) -> str:
        """One line: what the file holds."""
        parts = [self.name or "?", self.architecture, self.size_label, self.file_type]
        ctx = self.context_length
        shown = ", ".join(p for p in parts if p)
        return f"{shown}, context {ctx}" if ctx else shown


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise GgufFormatError("the metadata section ends early (a truncated file?)")
    return data


def _fixed(f: BinaryIO, fmt: str) -> int | float | bool:
    value: int | float | bool = struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]
    return value


def _string(f: BinaryIO) -> str:
    length = int(_fixed(f, "<Q"))
    if length > MAX_STRING_BYTES:
        raise GgufFormatError(f"a metadata string of {length} bytes (a corrupt file?)")
    return _read(f, length).decode("utf-8", errors="replace")


def _scalar(f: BinaryIO, kind: int) -> Scalar:
    if kind == _STRING:
        return _string(f)
    if kind not in _FIXED:
        raise GgufFormatError(f"unknown metadata value type {kind}")
    return _fixed(f, _FIXED[kind])


def _array(f: BinaryIO) -> list[Scalar] | SkippedArray:
    kind, length = int(_fixed(f, "<I")), int(_fixed(f, "<Q"))
    if kind == _ARRAY:
        raise GgufFormatError("nested arrays are not read")
    if length <= KEEP_ARRAY_ITEMS:
        return [_scalar(f, kind) for _ in range(length)]
    if kind == _STRING:
        for _ in range(length):
            f.seek(int(_fixed(f, "<Q")), 1)
    elif kind in _FIXED:
        f.seek(struct.calcsize(_FIXED[kind]) * length, 1)
    else:
        raise GgufFormatError(f"unknown metadata value type {kind}")
    return SkippedArray(item_type=_TYPE_NAMES.get(kind, str(kind)), length=length)


def is_gguf(path: Path) -> bool:
    """Whether the file starts with the GGUF magic."""
    with path.open("rb") as f:
        return f.read(4) == GGUF_MAGIC


def read_metadata(path: Path) -> GgufMetadata:
    """The header and key/value metadata of a GGUF file (tensor data is not read)."""
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise GgufFormatError(f"{path} is not a GGUF file (no GGUF magic)")
        version = int(_fixed(f, "<I"))
        if version == 1:  # v1 used 32-bit counts; llama.cpp has not written it since 2023
            raise GgufFormatError(f"{path} is GGUF version 1, which is not read")
        tensor_count, kv_count = int(_fixed(f, "<Q")), int(_fixed(f, "<Q"))
        values: dict[str, Scalar | list[Scalar] | SkippedArray] = {}
        for _ in range(kv_count):
            key, kind = _string(f), int(_fixed(f, "<I"))
            values[key] = _array(f) if kind == _ARRAY else _scalar(f, kind)
    return GgufMetadata(version=version, tensor_count=tensor_count, values=values)
