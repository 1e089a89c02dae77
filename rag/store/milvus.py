"""``store = "milvus"``: the index in Milvus, from Milvus Lite (a local ``.db`` folder) to a cluster.

The same ``pymilvus.MilvusClient`` code talks to Milvus Lite (``milvus_uri`` a local path ending
in ``.db``; the default is ``<index>/milvus.db``) and to a Milvus standalone or cluster
(``http(s)://host:19530``, passed through unchanged, with the token read from the environment
variable that ``milvus_token_env`` names; the token is never written anywhere).

Two collections per index, named after the index folder (``rag_<folder>_<hash>``):

- ``<name>``: one row per passage: text, doc id, title, date (``day``: days since 0001-01-01,
  -1 when undated), source, url, chunk offsets, the embedding-text hash, a dense vector
  (HNSW, inner product) and a sparse one that Milvus's own BM25 ``Function`` fills from ``terms``.
- ``<name>_articles``: the articles' text (16,000 characters a row, under VARCHAR's 65,535
  bytes) and metadata, for citations and the UI. Milvus wants a vector field in every
  collection, so this one carries a constant 2-d placeholder.

``terms`` holds the passage's ``content_terms`` (the local store's BM25 tokens: stop words
out, Snowball stems) joined by spaces, analysed by ``standard`` + ``lowercase``: Milvus Lite
refuses the ``english`` analyzer and ignores stemmer filters, and this way both stores rank
the same tokens. The index folder keeps the manifest; the embedding cache stays in the client.

Writes (through ``rag.build_index`` only) replace whole articles: a first build, or one with
other settings, recreates the collections; later builds delete the passages of changed and
removed articles and upsert the new ones. Part 0 of an article's row carries its content
hash and is written last, with an empty hash until its passages are in, so a build killed
halfway is redone by the next one instead of leaving an article half-indexed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import threading
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from tqdm.auto import tqdm

from rag.ingest.dates import normalise_date
from rag.errors import IndexMismatchError, UserError
from rag.retrieve.fusion import reciprocal_rank_fusion
from rag.store.bm25 import PARAMS as LEXICAL_PARAMS
from rag.schema import Article, Chunk, Passage
from rag.settings import Settings, env_value
from rag.store.local import (
    Filter,
    Generation,
    Ranked,
    live_generation,
    StoredChunk,
    publish_generation,
    read_manifest,
    rebuild_hint,
)
from rag.text.terms import content_terms
from rag.store.vectors import HNSW_M

INSTALL_HINT = 'store "milvus" needs pymilvus and milvus-lite: pip install -e ".[milvus]"'
LITE_FILE = "milvus.db"
DEFAULT_TOKEN_ENV = Settings.milvus_token_env
ANALYZER = {"tokenizer": "standard", "filter": ["lowercase"]}
CONSISTENCY = "Strong"
MAX_VARCHAR = 65_535
TEXT_PIECE = 16_000  # characters: at most 64,000 UTF-8 bytes
ROW_BATCH = 500
DOC_BATCH = 200
# Milvus caps a search's limit (topk) at 16,384.
MAX_TOPK = 16_384
NOTHING = "pk < 0"  # primary keys are non-negative: an expression no row passes
MAX_KEY = 2**63 - 1
SCAN_ROWS = 8_000  # rows a scan asks for at a time (a query returns at most MAX_TOPK)
PASSAGE_FIELDS = ["pk", "doc_id", "title", "text", "start", "end", "date", "source", "dense"]
ARTICLE_FIELDS = ["doc_id", "part", "title", "text", "date", "source", "url", "content_hash"]


def _pymilvus() -> Any:
    try:
        import pymilvus
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return pymilvus


def is_local(uri: str) -> bool:
    """A Milvus Lite path rather than a server URI (``http://``, ``https://``, ``tcp://``, ``unix:``)."""
    return "://" not in uri and not uri.startswith("unix:")


def resolve_uri(uri: str, index_dir: Path) -> str:
    """What to connect to: server URIs unchanged; Lite paths absolute (empty: ``<index>/milvus.db``)."""
    if uri and not is_local(uri):
        return uri
    path = Path(uri).expanduser() if uri else Path(index_dir) / LITE_FILE
    if path.suffix != ".db":
        raise UserError(f"milvus_uri {uri!r}: a Milvus Lite path must end in .db (e.g. {path / LITE_FILE}), "
                        "or give a server as http(s)://host:19530")
    return str(path.resolve())


def collection_name(index_dir: Path) -> str:
    """``rag_<folder>_<hash of the folder's absolute path>``: two indexes named ``index`` do not collide."""
    resolved = Path(index_dir).resolve()
    slug = re.sub(r"[^A-Za-z0-9_]", "_", resolved.name)[:48] or "index"
    return f"rag_{slug}_{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"


def row_key(doc_id: str, number: int) -> int:
    """A stable non-negative 63-bit primary key for (article, chunk ordinal or text part)."""
    digest = hashlib.blake2b(f"{doc_id}\0{number}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


def day_number(value: Any) -> int:
    """Days since 0001-01-01 of a date-like value; -1 when it is no date (fails every date bound)."""
    iso = normalise_date(value)
    return date.fromisoformat(iso).toordinal() if iso else -1


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a Milvus string literal: quotes and backslashes escaped


def filter_expression(where: Filter | None) -> str:
    """``where`` as a Milvus boolean expression ("" for no filter)."""
    if where is None:
        return ""
    clauses = []
    for field, values in (("doc_id", where.doc_ids), ("source", where.sources)):
        if values is not None:
            if not values:
                return NOTHING
            clauses.append(f"{field} in [{', '.join(_quote(v) for v in values)}]")
    if where.date_from:
        clauses.append(f"day >= {day_number(where.date_from)}")
    if where.date_to:
        clauses.append(f"day >= 0 and day <= {day_number(where.date_to)}")
    return " and ".join(clauses)


def _clip(text: str | None, limit: int = MAX_VARCHAR) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes without splitting a character."""
    data = (text or "").encode("utf-8")
    return text or "" if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


# Milvus Lite serves one process per .db folder; the last client closed here frees it for others.
_lite_clients: dict[str, int] = defaultdict(int)
_lite_lock = threading.Lock()


def connect(uri: str, token_env: str) -> Any:
    """A ``MilvusClient`` for ``uri`` with the token from the variable ``token_env`` names (if set)."""
    pymilvus = _pymilvus()
    if is_local(uri):
        if importlib.util.find_spec("milvus_lite") is None:
            raise UserError(f"milvus_uri {uri} is a Milvus Lite path, and milvus-lite is not installed; {INSTALL_HINT}")
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        client = pymilvus.MilvusClient(uri=uri, token=env_value(token_env) or "")
    except pymilvus.exceptions.MilvusException as exc:
        if is_local(uri):
            raise UserError(f"Milvus Lite at {uri} could not be opened ({exc.message}); Milvus Lite serves one "
                            "process per .db folder: close the other one, or use a Milvus server") from None
        raise UserError(f"cannot connect to Milvus at {uri}: {exc.message}") from None
    if is_local(uri):
        with _lite_lock:
            _lite_clients[uri] += 1
    return client


def disconnect(client: Any, uri: str) -> None:
    client.close()
    if not is_local(uri):
        return
    with _lite_lock:
        _lite_clients[uri] -= 1
        last = _lite_clients[uri] <= 0
        if last:
            _lite_clients.pop(uri, None)
    if last:
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


def _connection(manifest: dict[str, Any], index_dir: Path, settings: Any) -> tuple[str, str]:
    """The URI and token variable to use: the reader's settings first, then the manifest's."""
    target = manifest["store"]
    uri = getattr(settings, "milvus_uri", "") or target.get("uri", "")
    token_env = target.get("token_env") or DEFAULT_TOKEN_ENV
    asked = getattr(settings, "milvus_token_env", None)
    if asked and asked != DEFAULT_TOKEN_ENV:
        token_env = asked
    return resolve_uri(uri, index_dir), token_env


def _load(client: Any, collection: str) -> None:
    """Load ``collection`` unless it is loaded: an operator's replica count (``replica_number``) is kept."""
    state = client.get_load_state(collection).get("state")
    if getattr(state, "name", str(state)) != "Loaded":
        client.load_collection(collection)


def _count(client: Any, collection: str) -> int:
    rows = client.query(collection, filter="", output_fields=["count(*)"], consistency_level=CONSISTENCY)
    return int(rows[0]["count(*)"]) if rows else 0


def _scan(client: Any, collection: str, fields: list[str]) -> Iterator[dict[str, Any]]:
    """Every row of ``collection``, by ranges of its (uniformly hashed) primary keys.

    Not ``query_iterator``: Milvus Lite lacks the timestamp call it starts with and logs a
    traceback for each scan. A query returns at most 16,384 rows, so crowded ranges are split.
    """
    parts = max(1, -(-_count(client, collection) // SCAN_ROWS))
    step = -(-MAX_KEY // parts)
    ranges = [(i * step, min((i + 1) * step - 1, MAX_KEY)) for i in range(parts)]
    while ranges:
        low, high = ranges.pop()
        rows = client.query(collection, filter=f"pk >= {low} and pk <= {high}", output_fields=fields,
                            limit=MAX_TOPK, consistency_level=CONSISTENCY)
        if len(rows) >= MAX_TOPK and high > low:
            middle = (low + high) // 2
            ranges += [(low, middle), (middle + 1, high)]
            continue
        yield from rows


class MilvusStore:
    """The read side on Milvus: the ``Store`` Protocol over one index's two collections."""

    def __init__(self, index_dir: Path, manifest: dict[str, Any], client: Any, uri: str) -> None:
        self.index_dir = index_dir
        self.generation = live_generation(index_dir)  # the manifest's folder: Assistant.is_current compares it
        self.manifest = manifest
        self.uri = uri
        self.client = client
        self.collection = manifest["store"]["collection"]
        self.articles_collection = f"{self.collection}_articles"
        spec = manifest.get("vector_index") or {}
        self.ef_search = int(spec.get("ef_search") or 64)
        self._check()
        for name in (self.collection, self.articles_collection):
            _load(client, name)
        self._recent: dict[int, np.ndarray] = {}

    def _check(self) -> None:
        hint = rebuild_hint(self.index_dir, self.manifest)
        for name in (self.collection, self.articles_collection):
            if not self.client.has_collection(name):
                raise IndexMismatchError(f"index {self.index_dir}: Milvus collection {name} not found at {self.uri}; {hint}")
        fields = {f["name"]: f for f in self.client.describe_collection(self.collection)["fields"]}
        dim = int((fields.get("dense", {}).get("params") or {}).get("dim", -1))
        if dim != self.manifest.get("dimension"):
            raise IndexMismatchError(f"index {self.index_dir}: Milvus collection {self.collection} holds {dim}-d vectors, "
                                     f"the manifest says {self.manifest.get('dimension')}; {hint}")

    @classmethod
    def open(cls, index_dir: Path, manifest: dict[str, Any], settings: Any = None) -> "MilvusStore":
        uri, token_env = _connection(manifest, index_dir, settings)
        client = connect(uri, token_env)
        try:
            return cls(index_dir, manifest, client, uri)
        except Exception:
            disconnect(client, uri)
            raise

    def close(self) -> None:
        if self.client is not None:
            disconnect(self.client, self.uri)
            self.client = None

    def __len__(self) -> int:
        return int(self.manifest.get("chunks", 0))

    def _search(self, data: list, field: str, k: int, where: Filter | None, params: dict) -> Ranked:
        expr = filter_expression(where)
        k = min(k, len(self), MAX_TOPK)
        if expr == NOTHING or k <= 0:
            return []
        hits = self.client.search(self.collection, data=data, anns_field=field, limit=k, filter=expr,
                                  search_params=params, output_fields=["pk"], consistency_level=CONSISTENCY)
        return [(int(hit["pk"]), float(hit["distance"])) for hit in hits[0]]

    def _dense_params(self, k: int) -> dict[str, Any]:
        return {"metric_type": "IP", "params": {"ef": max(self.ef_search, k)}}

    def dense(self, vector: np.ndarray, k: int, where: Filter | None = None) -> Ranked:
        return self._search([vector[0].tolist()], "dense", k, where, self._dense_params(k))

    def knows_any(self, terms: Iterable[str]) -> bool:
        """Whether any of ``terms`` (stemmed content terms) occurs in the indexed texts: BM25 returns
        only passages that share a term with the query."""
        terms = [t for t in terms if t]
        return bool(terms) and bool(self._search([" ".join(terms)], "sparse", 1, None, {"metric_type": "BM25"}))

    def lexical(self, query: str, k: int, where: Filter | None = None) -> Ranked:
        terms = content_terms(query)
        if not terms:
            return []
        ranked = self._search([" ".join(terms)], "sparse", k, where, {"metric_type": "BM25"})
        # Milvus Lite returns BM25 scores negated; a server returns them positive. Order is what counts.
        return [(i, abs(score)) for i, score in ranked]

    def hybrid(self, query, vector, k, depth, where, weights, rrf_k) -> Ranked:
        terms = content_terms(query)
        if tuple(weights) != (1.0, 1.0) or float(rrf_k) != int(rrf_k) or not terms:
            # RRFRanker has neither weights nor a fractional k: fuse the two rankings here.
            dense = [i for i, _ in self.dense(vector, depth, where)]
            lexical = [i for i, _ in self.lexical(query, depth, where)]
            return reciprocal_rank_fusion([dense, lexical], list(weights), rrf_k)[:k]
        expr = filter_expression(where)
        depth = min(depth, len(self), MAX_TOPK)
        if expr == NOTHING or depth <= 0:
            return []
        pymilvus = _pymilvus()
        requests = [
            pymilvus.AnnSearchRequest(data=[vector[0].tolist()], anns_field="dense", param=self._dense_params(depth),
                                      limit=depth, expr=expr or None),
            pymilvus.AnnSearchRequest(data=[" ".join(terms)], anns_field="sparse", param={"metric_type": "BM25"},
                                      limit=depth, expr=expr or None),
        ]
        hits = self.client.hybrid_search(self.collection, requests, pymilvus.RRFRanker(int(rrf_k)), limit=min(k, depth),
                                         output_fields=["pk"], consistency_level=CONSISTENCY)
        return [(int(hit["pk"]), float(hit["distance"])) for hit in hits[0]]

    def passages(self, ids: list[int], scores: list[float]) -> list[Passage]:
        if not ids:
            return []
        rows = {int(r["pk"]): r for r in self.client.get(self.collection, ids=list(ids), output_fields=PASSAGE_FIELDS)}
        self._recent = {i: np.asarray(r["dense"], dtype=np.float32) for i, r in rows.items()}
        return [
            Passage(chunk_id=i, doc_id=r["doc_id"], title=r["title"], text=r["text"], start=int(r["start"]),
                    end=int(r["end"]), score=float(s), date=r["date"] or None, source=r["source"] or None)
            for i, s in zip(ids, scores)
            if (r := rows.get(int(i)))
        ]

    def vectors_of(self, ids: list[int]) -> np.ndarray:
        recent = self._recent  # vectors fetched with the passages just before (one round trip)
        missing = [i for i in ids if i not in recent]
        if missing:
            rows = self.client.get(self.collection, ids=missing, output_fields=["pk", "dense"])
            recent = {**recent, **{int(r["pk"]): np.asarray(r["dense"], dtype=np.float32) for r in rows}}
        dimension = int(self.manifest.get("dimension", 0))
        return np.stack([recent[i] for i in ids]) if ids else np.zeros((0, dimension), np.float32)

    def _articles(self, rows: Iterable[dict[str, Any]]) -> dict[str, Article]:
        by_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_doc[row["doc_id"]].append(row)
        result = {}
        for doc_id, parts in by_doc.items():
            parts.sort(key=lambda r: r["part"])
            head = parts[0]
            text = "".join(p["text"] for p in parts)
            result[doc_id] = Article(doc_id, head["title"], text, head["date"] or None, head["source"] or None,
                                     head["url"] or None, head["content_hash"])
        return result

    def article(self, doc_id: str) -> Article | None:
        rows = self.client.query(self.articles_collection, filter=f"doc_id == {_quote(doc_id)}",
                                 output_fields=ARTICLE_FIELDS, consistency_level=CONSISTENCY)
        return self._articles(rows).get(doc_id)

    def articles(self) -> dict[str, Article]:
        return self._articles(_scan(self.client, self.articles_collection, ARTICLE_FIELDS))

    def stored_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk id and its vector (a full scan: for benchmarks' exact-recall checks)."""
        rows = list(_scan(self.client, self.collection, ["pk", "dense"]))
        dimension = int(self.manifest.get("dimension", 0))
        vectors = np.asarray([r["dense"] for r in rows], dtype=np.float32).reshape(len(rows), dimension)
        return np.asarray([int(r["pk"]) for r in rows], dtype=np.int64), vectors

    def stored_chunks(self) -> dict[str, list[StoredChunk]]:
        by_doc: dict[str, list[StoredChunk]] = defaultdict(list)
        for r in _scan(self.client, self.collection, ["doc_id", "ordinal", "start", "end", "embed_hash"]):
            by_doc[r["doc_id"]].append(StoredChunk(r["doc_id"], int(r["ordinal"]), int(r["start"]), int(r["end"]), r["embed_hash"]))
        return {doc: sorted(rows, key=lambda c: c.ordinal) for doc, rows in by_doc.items()}


def _passage_schema(pymilvus: Any, client: Any, dimension: int) -> Any:
    types = pymilvus.DataType
    schema = client.create_schema(auto_id=False)
    schema.add_field("pk", types.INT64, is_primary=True)
    for name in ("doc_id", "title", "text", "date", "source", "url"):
        schema.add_field(name, types.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("terms", types.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True, analyzer_params=ANALYZER)
    schema.add_field("embed_hash", types.VARCHAR, max_length=128)
    for name in ("ordinal", "start", "end", "day"):
        schema.add_field(name, types.INT64)
    schema.add_field("dense", types.FLOAT_VECTOR, dim=dimension)
    schema.add_field("sparse", types.SPARSE_FLOAT_VECTOR)
    schema.add_function(pymilvus.Function(name="bm25", function_type=pymilvus.FunctionType.BM25,
                                          input_field_names=["terms"], output_field_names=["sparse"]))
    return schema


def _article_schema(pymilvus: Any, client: Any) -> Any:
    types = pymilvus.DataType
    schema = client.create_schema(auto_id=False)
    schema.add_field("pk", types.INT64, is_primary=True)
    for name in ("doc_id", "title", "text", "date", "source", "url", "content_hash"):
        schema.add_field(name, types.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("part", types.INT64)
    schema.add_field("placeholder", types.FLOAT_VECTOR, dim=2)  # Milvus needs a vector field in a collection
    return schema


def _create(client: Any, collection: str, dimension: int, spec: dict[str, Any]) -> None:
    pymilvus = _pymilvus()
    passages = client.prepare_index_params()
    passages.add_index("dense", index_type="HNSW", metric_type="IP",
                       params={"M": spec["m"], "efConstruction": spec["ef_construction"]})
    passages.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                       params={"bm25_k1": LEXICAL_PARAMS["k1"], "bm25_b": LEXICAL_PARAMS["b"]})
    client.create_collection(collection, schema=_passage_schema(pymilvus, client, dimension),
                             index_params=passages, consistency_level=CONSISTENCY)
    articles = client.prepare_index_params()
    articles.add_index("placeholder", index_type="FLAT", metric_type="IP")
    client.create_collection(f"{collection}_articles", schema=_article_schema(pymilvus, client),
                             index_params=articles, consistency_level=CONSISTENCY)


def _article_rows(article: Article, content_hash: str) -> list[dict[str, Any]]:
    pieces = [article.text[i : i + TEXT_PIECE] for i in range(0, len(article.text), TEXT_PIECE)] or [""]
    return [
        {"pk": row_key(article.doc_id, n), "doc_id": article.doc_id, "part": n, "text": piece,
         "title": _clip(article.title), "date": _clip(article.date), "source": _clip(article.source),
         "url": _clip(article.url), "content_hash": content_hash if n == 0 else "", "placeholder": [1.0, 0.0]}
        for n, piece in enumerate(pieces)
    ]


def _chunk_row(article: Article, chunk: Chunk, embed_hash: str, vector: np.ndarray, terms: str) -> dict[str, Any]:
    return {"pk": row_key(chunk.doc_id, chunk.ordinal), "doc_id": chunk.doc_id, "title": _clip(chunk.title),
            "text": _clip(chunk.text), "terms": _clip(terms), "embed_hash": embed_hash, "ordinal": chunk.ordinal,
            "start": chunk.start, "end": chunk.end, "day": day_number(article.date), "date": _clip(article.date),
            "source": _clip(article.source), "url": _clip(article.url), "dense": vector.tolist()}


def _batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _Writer:
    """Brings one index's collections in line with a ``Generation``, article by article."""

    def __init__(self, client: Any, collection: str) -> None:
        self.client = client
        self.collection = collection
        self.articles = f"{collection}_articles"

    def _in(self, doc_ids: list[str]) -> str:
        return f"doc_id in [{', '.join(_quote(d) for d in doc_ids)}]"

    def remove(self, doc_ids: list[str]) -> None:
        """Passages first, then the article rows: a surviving article row means "look again"."""
        for batch in _batches(doc_ids, DOC_BATCH):
            self.client.delete(self.collection, filter=self._in(batch))
            self.client.delete(self.articles, filter=self._in(batch))

    def write(self, generation: Generation, docs: set[str], progress: bool, fresh: bool = False) -> None:
        """Write the articles ``docs`` and their passages; ``fresh``: the collections are new and empty."""
        by_doc: dict[str, list[int]] = defaultdict(list)
        for row, (chunk, _) in enumerate(generation.chunks):
            by_doc[chunk.doc_id].append(row)
        articles = [a for a in generation.articles if a.doc_id in docs]
        batches = list(_batches(articles, DOC_BATCH))
        for batch in tqdm(batches, desc="writing to Milvus", unit="batch", disable=not progress or len(batches) < 2, leave=False):
            ids = [a.doc_id for a in batch]
            # 1. the article, hash pending; 2. its old passages out; 3. the new ones in; 4. the hash.
            self.client.upsert(self.articles, [r for a in batch for r in _article_rows(a, "")])
            if not fresh:  # an article that shrank leaves text parts behind; old passages go
                for a in batch:
                    parts = len(_article_rows(a, ""))
                    self.client.delete(self.articles, filter=f"doc_id == {_quote(a.doc_id)} and part >= {parts}")
                self.client.delete(self.collection, filter=self._in(ids))
            rows = [self._chunk_row(generation, a, i) for a in batch for i in by_doc.get(a.doc_id, [])]
            for part in _batches(rows, ROW_BATCH):
                self.client.upsert(self.collection, part)
            self.client.upsert(self.articles, [_article_rows(a, a.content_hash)[0] for a in batch])

    @staticmethod
    def _chunk_row(generation: Generation, article: Article, row: int) -> dict[str, Any]:
        chunk, embed_hash = generation.chunks[row]
        terms = " ".join(content_terms(generation.lexical_texts[row]))
        return _chunk_row(article, chunk, embed_hash, generation.vectors[row], terms)

    def present(self) -> set[str]:
        """Articles with any row stored (a killed build may have left passages of a pending article)."""
        return {r["doc_id"] for r in _scan(self.client, self.articles, ["doc_id"])}


class MilvusBackend:
    """``store = "milvus"``: where the data goes, how to write it, how to open it."""

    name = "milvus"

    @staticmethod
    def target(index_dir: Path, settings: Any) -> dict[str, Any]:
        """The manifest's ``store`` entry: URI (Lite paths absolute), collection, token variable name.

        An index already on Milvus keeps its URI, collection and token variable unless the
        settings name others, so a rebuild (the chat's "Rebuild", say) updates it in place."""
        known = (read_manifest(Path(index_dir)) or {}).get("store") or {}
        known = known if known.get("name") == "milvus" else {}
        uri = settings.milvus_uri
        if uri:
            resolve_uri(uri, index_dir)  # a bad path is refused before any work
            uri = uri if not is_local(uri) else str(Path(uri).expanduser().resolve())
        else:
            uri = known.get("uri", "")
        token_env = settings.milvus_token_env
        if token_env == DEFAULT_TOKEN_ENV:
            token_env = known.get("token_env") or DEFAULT_TOKEN_ENV
        same_place = bool(known) and known.get("uri", "") == uri and known.get("collection")
        collection = known["collection"] if same_place else collection_name(index_dir)
        return {"name": "milvus", "uri": uri, "collection": collection, "token_env": token_env}

    @staticmethod
    def prepare(index_dir: Path, target: dict[str, Any]) -> None:
        """Connect once before the corpus is read and embedded: an unreachable server fails in seconds, not after."""
        uri = resolve_uri(target["uri"], index_dir)
        disconnect(connect(uri, target["token_env"]), uri)

    @staticmethod
    def vector_spec(settings: Any, count: int) -> dict[str, Any]:
        return {"kind": "milvus-hnsw", "m": HNSW_M, "ef_construction": settings.hnsw_ef_construction,
                "ef_search": settings.hnsw_ef_search}

    @staticmethod
    def open(index_dir: Path, manifest: dict[str, Any], settings: Any = None) -> MilvusStore:
        return MilvusStore.open(index_dir, manifest, settings)

    @staticmethod
    def write(index_dir: Path, generation: Generation, settings: Any) -> None:
        """Write the changes to Milvus, then publish the manifest in the index folder."""
        manifest = generation.manifest
        target = manifest["store"]
        uri = resolve_uri(target["uri"], index_dir)
        client = connect(uri, target["token_env"])
        try:
            writer = _Writer(client, target["collection"])
            exists = client.has_collection(writer.collection) and client.has_collection(writer.articles)
            if generation.full or not exists:
                for name in (writer.collection, writer.articles):
                    client.drop_collection(name)
                _create(client, writer.collection, int(manifest["dimension"]), manifest["vector_index"])
            for name in (writer.collection, writer.articles):
                _load(client, name)
            fresh = generation.full or not exists
            current = {a.doc_id for a in generation.articles}
            keep = set() if fresh else set(generation.unchanged)
            stale = set() if fresh else writer.present() - keep
            writer.remove(sorted(stale - current))
            writer.write(generation, current - keep, getattr(settings, "progress", False), fresh)
            for name in (writer.collection, writer.articles):
                client.flush(name)
        finally:
            disconnect(client, uri)
        publish_generation(Path(index_dir), manifest)
