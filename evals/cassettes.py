"""The LLM's recorded HTTP exchanges for the evals: one vcrpy cassette per scenario under
`<root>/<model>/<router prompt version>/<scenario id>.yaml`, and a `meta.json` beside them
saying which endpoint and settings they were recorded with, so that a replay runs with the
same settings and no network. Recording one category rewrites only its scenarios' files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field

import prompts
from core.settings import Settings
from evals.graders import Check

CassetteMode = Literal["record", "replay"]
# A checkout's committed cassettes; an installed package has none and is given --cassettes.
DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "tests" / "cassettes" / "evals"
SECRET_HEADERS = ["authorization", "helicone-auth", "api-key", "x-api-key"]
# The body is matched, so a changed prompt, tool schema or scenario message misses instead
# of replaying a stale answer. Scheme, host and port are not: the same model served on
# another machine or port answers the same requests (the body names the model).
MATCH_ON = ["method", "path", "query", "body"]
RECORD_HINT = "record them with `quantdesk eval --router llm --record` against the served model"


class CassetteError(ValueError):
    """No usable recording: the message names the folder and how to record one."""


def path_part(name: str) -> str:
    """`name` as one safe path component (a served alias may hold '/', ':' or spaces)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "_"


def shelf(root: Path, model: str) -> Path:
    """Where `model`'s cassettes for the current router prompt live."""
    version, _ = prompts.load("router")
    return root / path_part(model) / path_part(version)


class CassetteMeta(BaseModel):
    """What a folder of cassettes was recorded with, and how its scenarios did then."""

    model_config = ConfigDict(extra="ignore")  # the computed counts come back on load

    base_url: str
    """The endpoint the requests went to (Helicone's gateway when recorded through it)."""
    model: str
    prompt_version: str
    recorded_at: datetime
    max_retries: int
    token_budget: int
    request_token_budget: int
    results: dict[str, bool]
    """Scenario id -> passed when last recorded, or when last replayed (below)."""
    replayed_at: datetime | None = None
    """When `results` were last re-derived by replaying these cassettes against a changed
    desk (a guard or grammar change): the model's answers are the recorded ones."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def scenario_ids(self) -> list[str]:
        return sorted(self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> int:
        return sum(self.results.values())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def scenarios(self) -> int:
        return len(self.results)

    def settings(self, base: Settings) -> Settings:
        """`base` pointed at what was recorded: the replayed requests match only then."""
        return base.model_copy(update={
            "llm_base_url": self.base_url, "llm_model": self.model,
            "llm_max_retries": self.max_retries, "llm_token_budget": self.token_budget,
            "llm_request_token_budget": self.request_token_budget, "helicone_api_key": None,
        })  # fmt: skip


def read_meta(folder: Path) -> CassetteMeta:
    path = folder / "meta.json"
    if not path.is_file():
        raise CassetteError(f"no cassettes recorded in {folder}: {RECORD_HINT}")
    return CassetteMeta.model_validate_json(path.read_text())


def write_meta(folder: Path, settings: Settings, results: dict[str, bool]) -> CassetteMeta:
    """Record what `results` were recorded with, keeping earlier scenarios' results."""
    earlier = read_meta(folder).results if (folder / "meta.json").is_file() else {}
    through_helicone = settings.helicone_api_key is not None
    meta = CassetteMeta(
        base_url=settings.helicone_base_url if through_helicone else settings.llm_base_url or "",
        model=settings.llm_model, prompt_version=prompts.load("router")[0],
        recorded_at=datetime.now(UTC), max_retries=settings.llm_max_retries,
        token_budget=settings.llm_token_budget,
        request_token_budget=settings.llm_request_token_budget,
        results=dict(sorted((earlier | results).items())),
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps(meta.model_dump(mode="json"), indent=2) + "\n")
    return meta


def replay_settings(settings: Settings, root: Path) -> Settings:
    """`settings` as recorded for its model under `root`; CassetteError when none were."""
    folder = shelf(root, settings.llm_model)
    if not (folder / "meta.json").is_file():
        found = sorted(p.parent.parent.name for p in root.glob("*/*/meta.json"))
        raise CassetteError(
            f"no cassettes for model {settings.llm_model!r} and the current router prompt in "
            f"{folder} (recorded: {found or 'none'}); {RECORD_HINT}"
        )
    return read_meta(folder).settings(settings)


@dataclass
class Tape:
    """What one scenario's cassette saw."""

    path: Path
    mode: CassetteMode
    existed: bool
    missed: list[str] = field(default_factory=list)
    """The requests a replay could not answer, each with vcr's reason."""
    played: int = 0
    recorded: int = 0

    def check(self) -> Check | None:
        """On replay, a failed `cassette` check when the recording did not answer the
        scenario: the router would otherwise fall back to the rules and hide the miss."""
        if self.mode == "record":
            return None
        missing = f"request missing from the cassette: {self.path}"
        if not self.existed:
            return Check("cassette", False, f"{missing} (no cassette recorded; {RECORD_HINT})")
        if self.missed:
            return Check("cassette", False, f"{missing}: {'; '.join(self.missed)}")
        if self.played < self.recorded:
            return Check("cassette", False, f"{self.recorded - self.played} of {self.recorded} "
                         f"recorded exchanges were not asked for: {self.path}")  # fmt: skip
        return Check("cassette", True, f"replayed {self.played} exchanges from {self.path}")


def _describe(cassette: Any, request: Any) -> str:
    from vcr.errors import CannotOverwriteExistingCassetteException

    # vcr's own verdict on the miss (no_match, already_played, cassette_not_found, ...).
    why = CannotOverwriteExistingCassetteException(cassette=cassette, failed_request=request)
    differs = sorted({name for _, _, fails in why.similar_requests for name, _ in fails})
    return f"{request.method} {request.path} ({why.reason}" + (
        f", differs in {', '.join(differs)})" if differs else ")"
    )


@contextmanager
def tape(folder: Path, scenario_id: str, mode: CassetteMode) -> Iterator[Tape]:
    """Record (auth headers filtered) or replay (no network) one scenario's exchanges."""
    import vcr

    path = folder / f"{scenario_id}.yaml"
    if mode == "record":
        folder.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # "all" mode would keep the old exchanges beside the new
    seen = Tape(path, mode, existed=path.is_file())
    recorder = vcr.VCR(
        record_mode="all" if mode == "record" else "none", filter_headers=SECRET_HEADERS,
        match_on=MATCH_ON, ignore_localhost=False, decode_compressed_response=True,
    )  # fmt: skip
    with recorder.use_cassette(str(path)) as cassette:
        answers = cassette.can_play_response_for

        # The LLM router catches the error vcr raises for a miss and lets the rules decide,
        # so the miss is noted where vcr decides it: a request the write-protected cassette
        # cannot answer.
        def can_play(request: Any) -> bool:
            playable = bool(answers(request))
            if not playable and cassette.write_protected:
                seen.missed.append(_describe(cassette, request))
            return playable

        cassette.can_play_response_for = can_play
        seen.recorded = len(cassette)
        yield seen
        seen.played = cassette.play_count
