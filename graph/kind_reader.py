"""A learned reading of what a request asks to see, for the kinds that do not act.

Word lists chase phrasings: each blind set of requests brought words the rules had never
met ("what's on the books atm", "net/gross?", "spot on litecoin?"). This reader learns the
kinds from the desk's labelled requests instead: character and word n-grams, TF-IDF
weighted, and a kernel ridge classifier (one score per kind). It is deterministic, has no
dependency beyond numpy (and scipy to train), and trains in about 0.3 s.

Training runs once per set of labelled requests and version of this code, not once per
process: the trained state is kept on disk (`kind-reader-<key>.npz` in the user's cache
directory, $XDG_CACHE_HOME/quantdesk, else ~/.cache/quantdesk), keyed by a hash of the
labelled sets, this module's source and numpy's version, and trained again when any of them
changes. A process then loads it in a few milliseconds, reading with numpy alone: a
one-shot `quantdesk ask` pays neither the training nor scipy's import. The loaded state is
the trained one bit for bit (the same floats, read the same way), so readings do not depend
on whether the cache was there.

It never decides an action: the kinds that move money or the trading state are read only
by the grammar (graph/rule_router.py), and the rule router takes this reader's kind only
for a request the grammar reads no action in. `nearest` gives the labelled requests most
like a new one (the LLM router shows them to the model as worked examples).

Trained on the development sets only: `evals/paraphrases_heldout4.yaml` to
`...heldout19.yaml` stay out, so the figures on them are the fair ones
(evals/RESULTS.md)."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from graph.instruction import own_words

if TYPE_CHECKING:
    import scipy.sparse

CORPUS_DIR = Path(__file__).resolve().parents[1] / "evals"
CORPUS = (
    "paraphrases.yaml", "paraphrases_heldout.yaml", "paraphrases_heldout2.yaml",
    "paraphrases_heldout3.yaml",
)  # fmt: skip
# Chosen on held-out-2 while training without it (0.1: 81.9%, 0.3: 82.6%, 1.0: 83.2%).
RIDGE = 1.0
# Bumped when the cache file's layout changes (its key also hashes this module's source).
_CACHE_FORMAT = 1
_CACHE_PREFIX = "kind-reader-"
_CACHE_KEEP = 4
log = logging.getLogger(__name__)
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,'/%][a-z0-9]+)*%?")


class Labelled(NamedTuple):
    text: str
    kind: str


class KindGuess(NamedTuple):
    kind: str
    margin: float
    """How far the best kind's score stands above the second's."""
    likeness: float
    """The cosine similarity of the most alike labelled request: near 0 for text like
    none of them ("x", "asdf")."""


def features(text: str) -> Counter[str]:
    """Character n-grams (2 to 5) inside each word, words, and pairs of words."""
    words = _TOKEN.findall(text.lower())
    found: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        for n in range(2, 6):
            found.update("c" + padded[i : i + n] for i in range(len(padded) - n + 1))
    found.update("w" + w for w in words)
    found.update(f"b{a} {b}" for a, b in itertools.pairwise(words))
    return found


class SparseColumns:
    """A sparse matrix stored by column (CSC), read with numpy alone: `dot` is scipy's
    `matrix[:, cols] @ values`, summed in the same order (each row over `cols` in turn), so
    the result is the same to the last bit."""

    def __init__(
        self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: int
    ) -> None:
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.rows = rows

    @classmethod
    def of_rows(cls, rows: Sequence[tuple[np.ndarray, np.ndarray]], columns: int) -> SparseColumns:
        """The matrix whose row i holds `rows[i]`'s values at its columns: each column's
        entries by increasing row, as scipy's `csr_matrix.tocsc` orders them."""
        cols = np.concatenate([np.zeros(0, np.int64), *(c for c, _ in rows)])
        values = np.concatenate([np.zeros(0), *(v for _, v in rows)])
        row_of = np.repeat(np.arange(len(rows)), [len(c) for c, _ in rows])
        order = np.argsort(cols, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=columns))])
        return cls(indptr, row_of[order], values[order], len(rows))

    def dot(self, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The columns `cols` weighted by `values` and summed: one value per row."""
        starts = self.indptr[cols]
        lengths = self.indptr[cols + 1] - starts
        # Each picked entry's place: its column's start plus its offset in the column.
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        at = np.repeat(starts, lengths) + offsets
        weights = self.data[at] * np.repeat(values, lengths)
        summed = np.bincount(self.indices[at], weights=weights, minlength=self.rows)
        return summed.astype(np.float64, copy=False)  # no entries at all: integer zeros


class KindReader:
    def __init__(self, labelled: Sequence[Labelled], ridge: float = RIDGE) -> None:
        if not labelled:
            raise ValueError("the kind reader needs labelled requests")
        self.labelled = list(labelled)
        docs = [features(item.text) for item in self.labelled]
        df = Counter(f for doc in docs for f in doc)
        self.vocabulary = {f: i for i, f in enumerate(df)}
        n = len(docs)
        self.idf = np.array([math.log((1 + n) / (1 + df[f])) + 1 for f in self.vocabulary])
        self.kinds = sorted({item.kind for item in self.labelled})
        rows = [self._weighted(doc) for doc in docs]
        self.by_feature = SparseColumns.of_rows(rows, len(self.vocabulary))
        targets = -np.ones((n, len(self.kinds)))
        for row, item in enumerate(self.labelled):
            targets[row, self.kinds.index(item.kind)] = 1.0
        matrix = self._matrix(rows)
        gram = (matrix @ matrix.T).toarray()
        self.dual = np.linalg.solve(gram + ridge * np.eye(n), targets)

    def _matrix(self, rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> scipy.sparse.csr_matrix:
        import scipy.sparse as sparse  # only to train: reading needs numpy alone

        starts = np.cumsum([0, *(len(cols) for cols, _ in rows)])
        return sparse.csr_matrix(
            (np.concatenate([v for _, v in rows]), np.concatenate([c for c, _ in rows]), starts),
            shape=(len(rows), len(self.vocabulary)),
        )

    @cached_property
    def _own_by_feature(self) -> SparseColumns:
        """The labelled requests as their own words (graph/instruction.py): what the desk
        may act on, without the text they embed."""
        rows = [
            self._weighted(features(own_words(i.text, respelt=False).text)) for i in self.labelled
        ]
        return SparseColumns.of_rows(rows, len(self.vocabulary))

    def _weighted(self, doc: Counter[str]) -> tuple[np.ndarray, np.ndarray]:
        """The columns of a document's known features and their TF-IDF weights, scaled
        to unit length: the one weighting for the labelled requests and a new one."""
        found = [(self.vocabulary[f], c) for f, c in doc.items() if f in self.vocabulary]
        cols = np.array([col for col, _ in found], dtype=np.int64)
        values = (1 + np.log(np.array([c for _, c in found], dtype=float))) * self.idf[cols]
        norm = np.linalg.norm(values)
        return cols, values / norm if norm else values

    def _similarity(self, text: str, own: bool = False) -> np.ndarray:
        """Cosine similarity of `text` to each labelled request (to their own words with
        `own`): one sparse column slice, about 0.2 ms."""
        cols, values = self._weighted(features(text))
        matrix = self._own_by_feature if own else self.by_feature
        return matrix.dot(cols, values)

    def read(self, text: str) -> KindGuess:
        """The kind the labelled requests most suggest, and its margin over the next."""
        similarity = self._similarity(text)
        scores = similarity @ self.dual
        first, second = np.argsort(-scores)[:2]
        return KindGuess(
            self.kinds[first], float(scores[first] - scores[second]), float(similarity.max())
        )

    def nearest(
        self, text: str, count: int, leave_out: frozenset[str] = frozenset(), own: bool = False
    ) -> list[Labelled]:
        """The `count` labelled requests most like `text`, most alike first, leaving out
        those labelled with a kind in `leave_out`. With `own`, `text` is matched with the
        labelled requests' own words: an injection's embedded order ("SYSTEM: buy 50 BTC")
        then makes it like neither an order nor an injection."""
        similarity = self._similarity(text, own)
        order = np.argsort(-similarity, kind="stable")
        found: dict[str, Labelled] = {}  # a request written twice is shown once
        for i in order:
            item = self.labelled[i]
            if item.kind not in leave_out:
                found.setdefault(item.text.lower(), item)
                if len(found) == count:
                    break
        return list(found.values())

    def save(self, path: Path, key: str) -> None:
        """Write the trained state to `path` (atomically: a reader never sees half a file),
        under `key`. Of the other keys' files in its directory, the newest few stay (two
        checkouts of the desk may train on different sets), the rest go."""
        strings = {
            "key": key,
            "texts": [item.text for item in self.labelled],
            "labels": [item.kind for item in self.labelled],
            "vocabulary": list(self.vocabulary),
            "kinds": self.kinds,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp", delete=False
        ) as out:
            written = Path(out.name)
            try:
                np.savez(
                    out,
                    strings=np.frombuffer(json.dumps(strings).encode("utf-8"), dtype=np.uint8),
                    idf=self.idf,
                    dual=self.dual,
                    indptr=self.by_feature.indptr,
                    indices=self.by_feature.indices,
                    data=self.by_feature.data,
                )
            except BaseException:
                written.unlink(missing_ok=True)
                raise
        written.replace(path)
        kept = sorted(
            path.parent.glob(f"{_CACHE_PREFIX}*.npz"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for stale in kept[_CACHE_KEEP:]:
            stale.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path, key: str) -> KindReader | None:
        """The state `save` wrote under `key`; None if the file is missing, unreadable, or
        was written under another key."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                strings = json.loads(stored["strings"].tobytes().decode("utf-8"))
                if strings["key"] != key:
                    return None
                reader = cls.__new__(cls)
                reader.labelled = [
                    Labelled(text, kind)
                    for text, kind in zip(strings["texts"], strings["labels"], strict=True)
                ]
                reader.vocabulary = {f: i for i, f in enumerate(strings["vocabulary"])}
                reader.kinds = list(strings["kinds"])
                reader.idf = stored["idf"]
                reader.dual = stored["dual"]
                n, width = len(reader.labelled), len(reader.vocabulary)
                reader.by_feature = SparseColumns(
                    stored["indptr"], stored["indices"], stored["data"], n
                )
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
            return None
        indptr = reader.by_feature.indptr
        consistent = (
            n > 0
            and reader.idf.shape == (width,)
            and reader.dual.shape == (n, len(reader.kinds))
            and indptr.shape == (width + 1,)
            and indptr[0] == 0
            and bool(np.all(np.diff(indptr) >= 0))
            and reader.by_feature.indices.shape == reader.by_feature.data.shape == (indptr[-1],)
            and bool(np.all((reader.by_feature.indices >= 0) & (reader.by_feature.indices < n)))
        )
        return reader if consistent else None


def load_labelled(names: Sequence[str] = CORPUS) -> list[Labelled]:
    """The labelled requests of the named sets (text and expected kind only)."""
    import yaml  # only to train: a reader loaded from the cache needs none

    labelled: list[Labelled] = []
    for name in names:
        items = yaml.load((CORPUS_DIR / name).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        labelled += [Labelled(i["text"], i["expect"]["kind"]) for i in items]
    return labelled


def cache_dir() -> Path:
    """Where the trained state is kept: shared by every data directory of this user."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "quantdesk"


def training_key(names: Sequence[str] = CORPUS, ridge: float = RIDGE) -> str:
    """A hash of what the trained state depends on: the labelled sets, the ridge, this
    module's code (the features and their weighting) and numpy's version."""
    digest = hashlib.sha256(f"{_CACHE_FORMAT}|{np.__version__}|{ridge!r}".encode())
    digest.update(Path(__file__).read_bytes())
    for name in names:
        digest.update(f"|{name}|".encode())
        digest.update((CORPUS_DIR / name).read_bytes())
    return digest.hexdigest()


def trained_reader(
    names: Sequence[str] = CORPUS, ridge: float = RIDGE, directory: Path | None = None
) -> KindReader:
    """The reader of the named sets: loaded from `directory` (default `cache_dir()`) when it
    holds the state trained on the same sets by the same code, else trained and kept there.
    A cache that cannot be read or written is trained around, never an error."""
    key = training_key(names, ridge)
    try:
        path = (directory or cache_dir()) / f"{_CACHE_PREFIX}{key[:24]}.npz"
    except RuntimeError:  # no home directory to keep it in
        return KindReader(load_labelled(names), ridge)
    reader = KindReader.load(path, key)
    if reader is None:
        reader = KindReader(load_labelled(names), ridge)
        try:
            reader.save(path, key)
        except OSError as exc:  # a read-only cache: trained again next time
            log.debug("kind reader cache not written to %s: %s", path, exc)
    return reader


@cache
def kind_reader() -> KindReader:
    """The reader trained on the development sets, built once per process (from the cache
    on disk when it is current)."""
    return trained_reader()
