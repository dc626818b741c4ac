"""The GGUF metadata reader: the real 0.5B file, and a small file written here by the
format's rules (every value type, a long array skipped, a truncated file)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from core.llm.gguf import GgufFormatError, SkippedArray, read_metadata


def test_the_real_model_reads_as_qwen2(small_gguf: Path):
    meta = read_metadata(small_gguf)
    assert meta.architecture == "qwen2"
    assert meta.name == "Qwen2.5 Coder 0.5B Instruct AWQ"
    assert meta.size_label == "0.5B"
    assert meta.file_type == "Q4_K_M"
    assert meta.context_length == 32768
    assert (meta.version, meta.tensor_count) == (3, 291)
    assert meta.values["tokenizer.ggml.tokens"] == SkippedArray(item_type="string", length=151936)
    # Its own chat template knows tools: the server keeps it (--chat_format chat_template.default).
    assert meta.chat_template is not None
    assert "<tool_call>" in meta.chat_template
    assert meta.summary() == "Qwen2.5 Coder 0.5B Instruct AWQ, qwen2, 0.5B, Q4_K_M, context 32768"


def gguf_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def kv(key: str, kind: int, payload: bytes) -> bytes:
    return gguf_string(key) + struct.pack("<I", kind) + payload


def written(tmp_path: Path, entries: list[bytes], tensors: int = 7) -> Path:
    path = tmp_path / "small.gguf"
    header = b"GGUF" + struct.pack("<IQQ", 3, tensors, len(entries))
    path.write_bytes(header + b"".join(entries) + b"\0" * 64)
    return path


def test_every_value_type_reads(tmp_path: Path):
    long_ints = struct.pack("<IQ", 5, 1000) + struct.pack("<1000i", *range(1000))
    long_strings = struct.pack("<IQ", 8, 100) + b"".join(gguf_string(f"t{i}") for i in range(100))
    path = written(
        tmp_path,
        [
            kv("general.architecture", 8, gguf_string("llama")),
            kv("general.file_type", 4, struct.pack("<I", 7)),
            kv("llama.context_length", 10, struct.pack("<Q", 8192)),
            kv("u8", 0, struct.pack("<B", 255)), kv("i8", 1, struct.pack("<b", -1)),
            kv("u16", 2, struct.pack("<H", 65535)), kv("i16", 3, struct.pack("<h", -2)),
            kv("i32", 5, struct.pack("<i", -3)), kv("f32", 6, struct.pack("<f", 0.5)),
            kv("flag", 7, struct.pack("<?", True)), kv("i64", 11, struct.pack("<q", -4)),
            kv("f64", 12, struct.pack("<d", 0.25)),
            kv("short", 9, struct.pack("<IQ", 4, 3) + struct.pack("<3I", 1, 2, 3)),
            kv("ints", 9, long_ints), kv("strings", 9, long_strings),
            kv("after", 8, gguf_string("still read")),
        ],
    )  # fmt: skip
    meta = read_metadata(path)
    assert (meta.architecture, meta.file_type, meta.context_length) == ("llama", "Q8_0", 8192)
    assert meta.name is None
    assert meta.size_label is None
    values = meta.values
    assert [values[k] for k in ("u8", "i8", "u16", "i16", "i32", "f32", "flag", "i64", "f64")] == [
        255, -1, 65535, -2, -3, 0.5, True, -4, 0.25,
    ]  # fmt: skip
    assert values["short"] == [1, 2, 3]
    assert values["ints"] == SkippedArray(item_type="int32", length=1000)
    assert values["strings"] == SkippedArray(item_type="string", length=100)
    assert values["after"] == "still read"
    assert meta.tensor_count == 7


def test_a_file_that_is_not_gguf_or_is_cut_short_is_refused(tmp_path: Path):
    other = tmp_path / "other.bin"
    other.write_bytes(b"GGML" + b"\0" * 20)
    with pytest.raises(GgufFormatError, match="no GGUF magic"):
        read_metadata(other)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + gguf_string("general.name")[:6])
    with pytest.raises(GgufFormatError, match="ends early"):
        read_metadata(cut)
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"GGUF" + b"\xff" * 4096)
    with pytest.raises(GgufFormatError, match="a corrupt file"):
        read_metadata(garbage)
