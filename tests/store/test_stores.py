"""The retrieval contract, run on every store: the local one and Milvus (through Milvus Lite).

Milvus Lite is the real pymilvus client against the real embedded engine in this process;
no server runs here, so the one test of a cluster URI patches the client constructor only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from rag.errors import IndexMismatchError, UserError
from rag.retrieve.retrievers import make_retriever
from rag.store.local import read_manifest
from tests.conftest import FAST, TINY, write_corpus

try:
    import pymilvus  # noqa: F401

    MILVUS = None
except ImportError:
    MILVUS = 'pymilvus is not installed (pip install -e ".[milvus]")'

needs_milvus = pytest.mark.skipif(MILVUS is not None, reason=MILVUS or "")
STORES = ["local", pytest.param("milvus", marks=needs_milvus)]
ROOT = Path(__file__).resolve().parents[2]

DATED = {
    "wire/quake.md": "---\ntitle: Earthquake shakes coast\ndate: 2024-03-02\nsource: Wire\n---\n"
    "A strong earthquake shook the coast on Saturday. Buildings swayed in the harbour town but nobody was hurt.",
    "wire/flood.md": "---\ntitle: Floods close the harbour road\ndate: 2024-06-20\nsource: Wire\n---\n"
    "Heavy rain flooded the harbour road for two days. The council opened a shelter in the school.",
    'odd "quoted" name.txt': "Harbour fish market reopens\n\nThe fish market by the harbour reopened after repairs to its roof.",
}
QUERIES = ["rye loaf bread prize", "harbour boats jobs", "rail strike pay rise", "mayor ribbon", "union talks Sunday"]


def build(corpus: Path, index: Path, store: str, **settings):
    return rag.build_index(corpus, index, store=store, **FAST, **settings)


def keys(passages) -> list[tuple[str, int, int]]:
    return [(p.doc_id, p.start, p.end) for p in passages]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", {**TINY, **DATED})


@pytest.fixture(params=STORES)
def store(request) -> str:
    return request.param


@pytest.fixture
def loaded(corpus: Path, tmp_path: Path, store: str):
    build(corpus, tmp_path / "index", store)
    assistant = rag.Assistant.load(tmp_path / "index")
    yield assistant
    assistant.close()


def searches(assistant, retriever: str, queries=QUERIES, k=4, filters=None):
    assistant.retriever = make_retriever(retriever, assistant.store, assistant.embedder, assistant.settings)
    return {q: assistant.search(q, k=k, filters=filters) for q in queries}


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_the_matching_article_comes_first_with_exact_offsets(loaded, retriever):
    found = searches(loaded, retriever)
    assert found["rye loaf bread prize"][0].doc_id == "bakery.txt"
    assert found["rail strike pay rise"][0].doc_id == "rail/strike.txt"
    for passages in found.values():
        assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
        for p in passages:
            assert loaded.store.article(p.doc_id).text[p.start:p.end] == p.text
            assert p.similarity is not None


def test_the_store_is_read_from_the_manifest(loaded, store, tmp_path):
    assert read_manifest(tmp_path / "index")["store"]["name"] == store
    assert loaded.settings.store == store
    assert len(loaded.store) == read_manifest(tmp_path / "index")["chunks"]
    other = "local" if store == "milvus" else "milvus"
    with pytest.raises(IndexMismatchError, match=f"store: index has '{store}', asked for '{other}'"):
        rag.Assistant.load(tmp_path / "index", store=other)


@needs_milvus
@pytest.mark.slow
@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_milvus_returns_what_the_local_store_returns(corpus, tmp_path, retriever):
    # The real model: the hashing embedder ties unrelated passages at cosine 0, and ties may come in any order.
    results = {}
    for store in ("local", "milvus"):
        rag.build_index(corpus, tmp_path / store, store=store, progress=False)
        assistant = rag.Assistant.load(tmp_path / store)
        try:
            results[store] = {q: [(*key, round(p.similarity, 4)) for key, p in zip(keys(ps), ps)]
                              for q, ps in searches(assistant, retriever, QUERIES + ["harbour"], k=6).items()}
        finally:
            assistant.close()
    assert results["milvus"] == results["local"]


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_filters_by_article_source_and_date(loaded, retriever):
    def docs(filters, query="harbour"):
        return {p.doc_id for p in searches(loaded, retriever, [query], k=10, filters=filters)[query]}

    assert docs({"doc_id": ["rail/strike.txt"]}, "harbour rail") <= {"rail/strike.txt"}
    assert docs({"doc_id": 'odd "quoted" name.txt'}) == {'odd "quoted" name.txt'}
    assert docs({"source": "Wire"}) == {"wire/quake.md", "wire/flood.md"}
    assert docs({"source": "Nowhere"}) == set()
    assert docs({"doc_id": []}) == set()
    # Undated articles fail every date bound.
    assert docs({"date_from": "2024-04-01"}) == {"wire/flood.md"}
    assert docs({"date_to": "2024-04-01"}) == {"wire/quake.md"}
    assert docs({"date_from": "2024-01-01", "date_to": "2024-12-31", "source": "Wire"}) == {"wire/quake.md", "wire/flood.md"}
    with pytest.raises(UserError, match="unknown filter"):
        loaded.search("harbour", filters={"colour": "red"})


def test_incremental_build_deletes_and_upserts_whole_articles(corpus, tmp_path, store):
    index = tmp_path / "index"
    build(corpus, index, store)
    (corpus / "bakery.txt").write_text("Bakery closes\n\nThe Lowtown bakery closed its doors after a flood of orders for marzipan.", encoding="utf-8")
    (corpus / "rail" / "strike.txt").unlink()
    (corpus / "zoo.txt").write_text("Zoo welcomes panda\n\nA giant panda arrived at the city zoo on Friday.", encoding="utf-8")
    report = build(corpus, index, store)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 4)
    assert report.embedded == 2, "only the new and the changed article are embedded"
    assistant = rag.Assistant.load(index)
    try:
        everything = assistant.search("bakery strike panda marzipan", k=50)
        assert "rail/strike.txt" not in {p.doc_id for p in everything}
        assert len(everything) == len(assistant.store) == read_manifest(index)["chunks"]
        assert assistant.search("marzipan", k=1)[0].doc_id == "bakery.txt"
        assert "rye" not in " ".join(p.text for p in everything if p.doc_id == "bakery.txt")
        assert assistant.search("giant panda", k=1)[0].doc_id == "zoo.txt"
        assert set(assistant.store.articles()) == {p.relative_to(corpus).as_posix() for p in corpus.rglob("*.*")}
    finally:
        assistant.close()
    assert build(corpus, index, store).embedded == 0


def test_unchanged_corpus_writes_nothing(corpus, tmp_path, store):
    build(corpus, tmp_path / "index", store)
    before = read_manifest(tmp_path / "index")["built_at"]
    report = build(corpus, tmp_path / "index", store)
    assert report.unchanged == len(TINY) + len(DATED) and report.embedded == 0
    assert read_manifest(tmp_path / "index")["built_at"] == before


def test_reopen_in_a_new_process_gives_the_same_results(corpus, tmp_path, store):
    index = tmp_path / "index"
    build(corpus, index, store)
    script = (
        "import json, sys, rag\n"
        "a = rag.Assistant.load(sys.argv[1])\n"
        "print(json.dumps({q: [[p.doc_id, p.start, p.end] for p in a.search(q, k=4)] for q in sys.argv[2:]}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(index), *QUERIES], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    assistant = rag.Assistant.load(index)
    try:
        ours = {q: [list(key) for key in keys(assistant.search(q, k=4))] for q in QUERIES}
    finally:
        assistant.close()
    assert theirs == ours


@needs_milvus
def test_a_build_killed_halfway_is_repaired_by_the_next(corpus, tmp_path, monkeypatch):
    import rag.store.milvus as milvus_store

    index = tmp_path / "index"
    build(corpus, index, "milvus")
    (corpus / "bakery.txt").write_text("Bakery closes\n\nThe bakery closed after a run on marzipan.", encoding="utf-8")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # after the article was marked pending and its old passages deleted

    with monkeypatch.context() as patch:
        patch.setattr(milvus_store._Writer, "_chunk_row", staticmethod(killed))
        with pytest.raises(KeyboardInterrupt):
            build(corpus, index, "milvus")
    report = build(corpus, index, "milvus")
    assert report.updated == 1 and report.unchanged == len(TINY) + len(DATED) - 1
    assistant = rag.Assistant.load(index)
    try:
        assert assistant.search("marzipan", k=1, filters={"doc_id": "bakery.txt"})[0].text.startswith("The bakery closed")
        assert len(assistant.search("bakery", k=50)) == len(assistant.store)
    finally:
        assistant.close()


@needs_milvus
def test_milvus_lite_path_defaults_to_the_index_folder_and_keeps_no_token(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MILVUS_TOKEN", "s3cret-token")
    index = tmp_path / "index"
    build(corpus, index, "milvus")
    manifest = read_manifest(index)
    assert manifest["store"]["uri"] == "" and (index / "milvus.db").is_dir()
    assert manifest["store"]["token_env"] == "RAG_MILVUS_TOKEN"
    assert manifest["store"]["collection"].startswith("rag_index_")
    for path in index.rglob("*"):
        if path.is_file():
            assert b"s3cret-token" not in path.read_bytes(), path


@needs_milvus
def test_env_chooses_the_store_and_the_uri(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_STORE", "milvus")
    monkeypatch.setenv("RAG_MILVUS_URI", str(tmp_path / "elsewhere" / "data.db"))
    rag.build_index(corpus, tmp_path / "index", **FAST)
    assert read_manifest(tmp_path / "index")["store"]["uri"] == str((tmp_path / "elsewhere" / "data.db").resolve())
    assert (tmp_path / "elsewhere" / "data.db").is_dir()
    monkeypatch.delenv("RAG_MILVUS_URI")
    assistant = rag.Assistant.load(tmp_path / "index")
    try:
        assert assistant.search("rye bread", k=1)[0].doc_id == "bakery.txt"
    finally:
        assistant.close()


@needs_milvus
def test_a_dropped_collection_asks_for_a_rebuild(corpus, tmp_path):
    from rag.store.milvus import connect, disconnect

    build(corpus, tmp_path / "index", "milvus")
    target = read_manifest(tmp_path / "index")["store"]
    uri = str((tmp_path / "index" / "milvus.db").resolve())
    client = connect(uri, "RAG_MILVUS_TOKEN")
    client.drop_collection(target["collection"])
    disconnect(client, uri)
    with pytest.raises(IndexMismatchError, match="not found .*rag index CORPUS --index .* --store milvus"):
        rag.Assistant.load(tmp_path / "index")
    report = build(corpus, tmp_path / "index", "milvus")  # the next build writes everything again
    assert report.chunks == len(rag.Assistant.load(tmp_path / "index").store)


@needs_milvus
def test_a_cluster_uri_and_token_reach_the_client_unchanged(corpus, tmp_path, monkeypatch):
    """No Milvus server here: only MilvusClient's constructor is replaced, to record its arguments."""
    import pymilvus

    build(corpus, tmp_path / "index", "milvus")
    seen = []

    class Unreachable(Exception):
        pass

    def recording_client(*args, **kwargs):
        seen.append((args, kwargs))
        raise Unreachable

    monkeypatch.setattr(pymilvus, "MilvusClient", recording_client)
    monkeypatch.setenv("MY_MILVUS_TOKEN", "root:Milvus")
    uri = "https://milvus.internal.example:19530"
    with pytest.raises(Unreachable):
        rag.Assistant.load(tmp_path / "index", milvus_uri=uri, milvus_token_env="MY_MILVUS_TOKEN")
    with pytest.raises(Unreachable):
        rag.build_index(corpus, tmp_path / "cluster-index", store="milvus", milvus_uri=uri,
                        milvus_token_env="MY_MILVUS_TOKEN", **FAST)
    assert seen == [((), {"uri": uri, "token": "root:Milvus"})] * 2
    assert read_manifest(tmp_path / "cluster-index") is None, "no manifest for a write that never happened"


@needs_milvus
def test_milvus_lite_held_by_another_process_is_a_user_error(corpus, tmp_path):
    build(corpus, tmp_path / "index", "milvus")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, rag; rag.Assistant.load(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
         str(tmp_path / "index")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(UserError, match="one process per .db folder"):
            rag.Assistant.load(tmp_path / "index")
    finally:
        holder.communicate("", timeout=60)


def test_a_bad_milvus_uri_is_one_line_exit_2(corpus, tmp_path, capsys):
    from rag.cli import main

    assert main(["index", str(corpus), "--index", str(tmp_path / "i"), "--store", "milvus", "--milvus-uri", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and ("must end in .db" in err or "needs pymilvus" in err)
    assert main(["index", str(corpus), "--index", str(tmp_path / "i"), "--store", "mongo"]) == 2
    assert "unknown store 'mongo'; choose from: local, milvus" in capsys.readouterr().err


@needs_milvus
def test_cli_builds_and_searches_on_milvus(corpus, tmp_path, capsys, no_config, monkeypatch):
    from rag.cli import main

    monkeypatch.setenv("RAG_MODEL", "hashing")  # model-free; the flags under test are --store and --milvus-uri
    uri = tmp_path / "m" / "rag.db"
    assert main(["index", str(corpus), "--index", str(tmp_path / "i"), "--store", "milvus", "--milvus-uri", str(uri), "--quiet"]) == 0
    assert "added 6" in capsys.readouterr().out and uri.is_dir()
    assert main(["search", "rye loaf", "--index", str(tmp_path / "i"), "--json", "--k", "1"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["doc_id"] == "bakery.txt"


def test_missing_pymilvus_names_the_extra(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymilvus", None)  # import pymilvus now fails as if not installed
    with pytest.raises(UserError, match=r'pip install -e "\.\[milvus\]"'):
        build(corpus, tmp_path / "index", "milvus")


def test_concurrent_searches_give_the_serial_results(loaded):
    from concurrent.futures import ThreadPoolExecutor

    queries = QUERIES * 4
    serial = [keys(loaded.search(q, k=4, filters={"source": "Wire"} if i % 3 == 0 else None)) for i, q in enumerate(queries)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda item: keys(loaded.search(item[1], k=4, filters={"source": "Wire"} if item[0] % 3 == 0 else None)),
                                 enumerate(queries)))
    assert parallel == serial


@needs_milvus
def test_a_shrunk_article_leaves_no_text_behind(corpus, tmp_path, monkeypatch):
    import rag.store.milvus as milvus_store

    monkeypatch.setattr(milvus_store, "TEXT_PIECE", 40)  # several text rows per article
    index = tmp_path / "index"
    long_text = "Long story\n\n" + " ".join(f"Sentence number {i} tells of the harbour and its boats." for i in range(80))
    (corpus / "long.txt").write_text(long_text, encoding="utf-8")
    build(corpus, index, "milvus")
    (corpus / "long.txt").write_text("Long story\n\nThe harbour story is now much shorter, the editor of the Port Elms paper said on Monday.", encoding="utf-8")
    assert build(corpus, index, "milvus").updated == 1
    assistant = rag.Assistant.load(index)
    try:
        assert assistant.store.article("long.txt").text == "The harbour story is now much shorter, the editor of the Port Elms paper said on Monday."
        assert assistant.store.article("nowhere.txt") is None
        assert len(assistant.store.stored_chunks()["long.txt"]) == 1, "the old article's extra passages are gone"
        assert all("Sentence number" not in p.text for p in assistant.search("sentence number harbour", k=50))
    finally:
        assistant.close()


@needs_milvus
def test_scans_split_crowded_key_ranges(corpus, tmp_path, monkeypatch):
    import rag.store.milvus as milvus_store

    build(corpus, tmp_path / "index", "milvus")
    assistant = rag.Assistant.load(tmp_path / "index")
    try:
        whole = assistant.store.stored_chunks()
        monkeypatch.setattr(milvus_store, "MAX_TOPK", 2)  # every range holds "too many": split down to single rows
        monkeypatch.setattr(milvus_store, "SCAN_ROWS", 100)
        assert assistant.store.stored_chunks() == whole and len(whole) == len(TINY) + len(DATED)
        assert set(assistant.store.articles()) == set(whole)
    finally:
        assistant.close()


@needs_milvus
def test_an_unreachable_server_fails_before_anything_is_embedded(corpus, tmp_path, monkeypatch):
    import rag.store.build

    def no_embedding(*args, **kwargs):
        raise AssertionError("embedded before connecting")

    monkeypatch.setattr(rag.store.build, "get_embedder", no_embedding)
    with pytest.raises(UserError, match="cannot connect to Milvus at http://127.0.0.1:1"):
        build(corpus, tmp_path / "index", "milvus", milvus_uri="http://127.0.0.1:1")  # nothing listens on port 1
    assert read_manifest(tmp_path / "index") is None


@needs_milvus
def test_a_rebuild_without_uri_stays_where_the_index_is(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("ELSEWHERE_TOKEN", "t0ken")
    lite = tmp_path / "data" / "news.db"
    build(corpus, tmp_path / "index", "milvus", milvus_uri=str(lite), milvus_token_env="ELSEWHERE_TOKEN")
    (corpus / "zoo.txt").write_text("Zoo welcomes panda\n\nA giant panda arrived at the city zoo on Friday.", encoding="utf-8")
    report = build(corpus, tmp_path / "index", "milvus")  # as the chat's rebuild does: index settings only
    assert (report.added, report.embedded) == (1, 1)
    target = read_manifest(tmp_path / "index")["store"]
    assert target["uri"] == str(lite.resolve()) and target["token_env"] == "ELSEWHERE_TOKEN"
    assert not (tmp_path / "index" / "milvus.db").exists()


@needs_milvus
def test_a_plain_rebuild_keeps_the_store_and_an_explicit_one_moves_it(corpus, tmp_path):
    index = tmp_path / "index"
    build(corpus, index, "milvus")
    report = rag.build_index(corpus, index, **FAST)  # no store named: the index's own
    assert report.embedded == 0 and report.unchanged == len(TINY) + len(DATED)
    assert read_manifest(index)["store"]["name"] == "milvus"
    report = build(corpus, index, "local")  # named: everything moves (vectors from the embedding cache)
    assert report.embedded == 0 and read_manifest(index)["store"] == {"name": "local"}
    assistant = rag.Assistant.load(index)
    try:
        assert assistant.settings.store == "local" and assistant.search("rye bread", k=1)[0].doc_id == "bakery.txt"
    finally:
        assistant.close()


@needs_milvus
def test_a_newer_format_names_the_milvus_rebuild(corpus, tmp_path):
    from rag.store import local as local_store

    lite = tmp_path / "data" / "news.db"
    build(corpus, tmp_path / "index", "milvus", milvus_uri=str(lite))
    path = next((tmp_path / "index").glob("gen-*")) / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "format_version": local_store.FORMAT_VERSION + 1}))
    hint = f"rag index CORPUS --index {tmp_path / 'index'} --store milvus --milvus-uri {lite.resolve()}"
    with pytest.raises(IndexMismatchError, match="newer format") as raised:
        rag.Assistant.load(tmp_path / "index")
    assert str(raised.value).endswith(hint)


def test_local_chunk_filters_select_what_sqlite_selects(corpus, tmp_path):
    # The filters run on arrays read once from the chunk table; SQLite is the oracle.
    import sqlite3

    from rag.store.generations import CHUNKS_DB

    build(corpus, tmp_path / "index", "local")
    assistant = rag.Assistant.load(tmp_path / "index")
    store = assistant.store
    db = sqlite3.connect(store.generation / CHUNKS_DB)
    try:
        def sql(where: str, params: list) -> list[int]:
            rows = db.execute(f"SELECT c.id FROM chunks c JOIN articles a USING (doc_id) WHERE {where}", params)
            return sorted(row[0] for row in rows)

        cases = [
            ((None, None, (None, None)), "1", []),
            ((["wire/quake.md", "rail/strike.txt"], None, (None, None)), "a.doc_id IN (?, ?)", ["wire/quake.md", "rail/strike.txt"]),
            ((None, ["Wire"], (None, None)), "a.source = ?", ["Wire"]),
            ((None, None, ("2024-04-01", None)), "substr(a.date, 1, 10) >= ?", ["2024-04-01"]),
            ((None, None, (None, "2024-04-01")), "substr(a.date, 1, 10) <= ?", ["2024-04-01"]),
            ((None, ["Wire"], ("2024-01-01", "2024-12-31")), "a.source = ? AND substr(a.date, 1, 10) BETWEEN ? AND ?",
             ["Wire", "2024-01-01", "2024-12-31"]),
            (([], None, (None, None)), "0", []),
        ]
        for (doc_ids, sources, dates), where, params in cases:
            assert sorted(store.chunk_ids(doc_ids, sources, dates).tolist()) == sql(where, params), where
        assert sql("a.date IS NULL", []), "the corpus has undated articles, which fail every date bound"
    finally:
        db.close()
        assistant.close()
