import json
import shutil

import pytest

import rag
from rag.store import generations, writing
from rag.store import local as store
from rag.embed.embedding import HashingEmbedder
from rag.errors import IndexMismatchError, UserError
from tests.conftest import FAST, TINY, write_corpus


def build(corpus, index, **extra):
    return rag.build_index(corpus, index, **FAST, **extra)


def test_first_build_then_unchanged_rerun_embeds_nothing(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    first = build(tiny_corpus, index)
    assert (first.added, first.updated, first.removed, first.unchanged) == (3, 0, 0, 0)
    assert first.embedded == first.chunks > 0
    generation = (index / "CURRENT").read_text()
    again = build(tiny_corpus, index)
    assert (again.added, again.updated, again.removed, again.unchanged, again.embedded) == (0, 0, 0, 3, 0)
    assert (index / "CURRENT").read_text() == generation, "an unchanged corpus is not rewritten"


def test_incremental_counts_and_only_changed_articles_embedded(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    (tiny_corpus / "bakery.txt").write_text(TINY["bakery.txt"] + " The bakery opens a second shop in May.", encoding="utf-8")
    (tiny_corpus / "rail" / "strike.txt").unlink()
    write_corpus(tiny_corpus, {"new.txt": "Library reopens\n\nThe town library reopened after a two-year refit costing 3 million pounds."})
    report = build(tiny_corpus, index)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    assert 0 < report.embedded < report.chunks
    assistant = rag.Assistant.load(index)
    assert {p.doc_id for p in assistant.search("library refit", k=10)} == {"harbour.txt", "bakery.txt", "new.txt"}


def test_manifest_records_settings_and_fingerprint(tiny_corpus, tmp_path):
    build(tiny_corpus, tmp_path / "index", chunk_tokens=80)
    manifest = store.read_manifest(tmp_path / "index")
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["settings"]["chunk_tokens"] == 80 and manifest["settings"]["model"] == "hashing"
    assert manifest["dimension"] == HashingEmbedder.dimension and len(manifest["corpus_fingerprint"]) == 64


def test_loading_with_other_settings_or_newer_format_says_how_to_rebuild(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    with pytest.raises(IndexMismatchError, match="chunk_tokens.*rag index"):
        rag.Assistant.load(index, chunk_tokens=99)
    manifest_path = index / (index / "CURRENT").read_text() / "manifest.json"
    data = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**data, "format_version": store.FORMAT_VERSION + 1}))
    with pytest.raises(IndexMismatchError, match="format.*rag index"):
        rag.Assistant.load(index)


def test_an_index_of_the_previous_format_loads_and_an_update_writes_the_current_one(tiny_corpus, tmp_path):
    """Format 2 (bm25s beside the vectors) is still read; its first update converts it."""
    index = tmp_path / "index"
    build(tiny_corpus, index)
    manifest_path = index / (index / "CURRENT").read_text() / "manifest.json"
    manifest_path.write_text(json.dumps({**json.loads(manifest_path.read_text()), "format_version": 2}))
    assert rag.Assistant.load(index).search("library refit", k=3)
    (tiny_corpus / "new.txt").write_text("Library refit\n\nThe town library reopens on Monday after a "
                                         "refit that added a reading room and a cafe.", encoding="utf-8")
    assert build(tiny_corpus, index).added == 1
    assert store.read_manifest(index)["format_version"] == store.FORMAT_VERSION == 3


def test_missing_index_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no index found"):
        rag.Assistant.load(tmp_path / "none")


@pytest.mark.parametrize("step", ["faiss", "sqlite", "manifest", "generation", "pointer"])
def test_crash_at_any_write_step_leaves_previous_index_loadable(tiny_corpus, tmp_path, monkeypatch, step):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    write_corpus(tiny_corpus, {"new.txt": "Ferry resumes\n\nThe island ferry resumed sailing after repairs to its engine."})

    def boom(*args, **kwargs):
        raise OSError(f"simulated crash at {step}")

    real_replace = generations.os.replace
    targets = {
        "faiss": lambda: monkeypatch.setattr(writing.faiss, "write_index", boom),
        "sqlite": lambda: (monkeypatch.setattr(writing, "_write_sqlite", boom), monkeypatch.setattr(writing, "patch_sqlite", boom)),
        "manifest": lambda: monkeypatch.setattr(generations, "_write_json", boom),
        "generation": lambda: monkeypatch.setattr(generations.os, "replace", lambda a, b: boom() if str(a).endswith(".partial") else real_replace(a, b)),
        "pointer": lambda: monkeypatch.setattr(generations.os, "replace", lambda a, b: boom() if str(b).endswith("CURRENT") else real_replace(a, b)),
    }
    targets[step]()
    with pytest.raises(OSError, match="simulated crash"):
        build(tiny_corpus, index)
    monkeypatch.undo()
    assistant = rag.Assistant.load(index)
    assert len(assistant.store.articles()) == 3, "the previous generation is still the live one"
    report = build(tiny_corpus, index)
    assert report.added == 1
    assert len(rag.Assistant.load(index).store.articles()) == 4


def test_interrupted_build_resumes_without_re_embedding(tmp_path, monkeypatch):
    articles = {f"a{i:03d}.txt": f"Story {i}\n\nThe item number {i} was sold for {i * 7} pounds at the fair." for i in range(150)}
    corpus = write_corpus(tmp_path / "corpus", articles)
    calls = {"n": 0}
    real = HashingEmbedder.encode

    def flaky(self, texts, batch_size=32):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, texts, batch_size)

    monkeypatch.setattr(HashingEmbedder, "encode", flaky)
    with pytest.raises(KeyboardInterrupt):
        build(corpus, tmp_path / "index", embed_batch_size=8)
    monkeypatch.setattr(HashingEmbedder, "encode", real)
    report = build(corpus, tmp_path / "index", embed_batch_size=8)
    assert report.chunks == 150
    assert report.embedded == 150 - 64, "the first committed batch came from the cache"


def test_an_index_remembers_its_corpus_and_reindexes_it_by_default(tiny_corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    info = rag.index_info(index)
    assert info.corpus_dir == str(tiny_corpus.resolve()) and (info.articles, info.chunks) == (3, info.chunks)
    assert info.settings["model"] == "hashing" and info.built_at and info.newest_date is None
    monkeypatch.chdir(tmp_path)  # the recorded path is absolute: it holds from any working directory
    write_corpus(tiny_corpus, {"new.txt": "Library reopens\n\nThe town library reopened after a refit.\n"})
    again = rag.build_index(index_dir=index, **FAST)
    assert (again.added, again.unchanged) == (1, 3) and again.corpus_dir == str(tiny_corpus.resolve())


def test_building_from_another_folder_is_refused_unless_replace(tiny_corpus, tmp_path):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    other = write_corpus(tmp_path / "other", {"x.txt": "Other story\n\nMayor Ada Quill opened the new town museum on Friday with 200 guests.\n"})
    with pytest.raises(UserError, match=r"holds the articles of .*corpus.*--replace") as refused:
        build(other, index)
    assert "\n" not in str(refused.value)
    assert rag.index_info(index).articles == 3, "a refused build changes nothing"
    replaced = build(other, index, replace=True)
    assert (replaced.added, replaced.removed) == (1, 3)
    assert rag.index_info(index).corpus_dir == str(other.resolve())


def test_no_corpus_and_none_recorded_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no corpus folder given"):
        rag.build_index(None, tmp_path / "index", **FAST)
    assert not (tmp_path / "index").exists()
    assert rag.index_info(tmp_path / "index") is None


def test_plan_counts_changes_without_embedding(tiny_corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    (tiny_corpus / "bakery.txt").unlink()
    (tiny_corpus / "rail" / "strike.txt").write_text("Rail strike on\n\nThe strike goes ahead after talks failed.\n")
    write_corpus(tiny_corpus, {"new.txt": "Library reopens\n\nThe town library reopened after a refit.\n"})
    monkeypatch.setattr(HashingEmbedder, "encode", lambda *a, **k: pytest.fail("planning must not embed"))
    assert rag.plan_index(None, index, **FAST) == {"added": 1, "updated": 1, "removed": 1, "unchanged": 1}
    assert rag.plan_index(tmp_path / "corpus", index) == rag.plan_index(None, index)


def test_an_index_path_that_is_a_file_is_a_user_error(tiny_corpus, tmp_path):
    path = tmp_path / "not-a-folder"
    path.write_text("x")
    for call in (lambda: build(tiny_corpus, path), lambda: rag.Assistant.load(path), lambda: rag.index_info(path)):
        with pytest.raises(UserError, match="is a file, not an index folder"):
            call()


def test_report_counts_hidden_files(tiny_corpus, tmp_path):
    write_corpus(tiny_corpus, {".git/HEAD.txt": "ref", ".notes.txt": "Notes\n\nSome private notes here.\n"})
    report = build(tiny_corpus, tmp_path / "index")
    assert sorted(report.hidden) == [".git", ".notes.txt"] and "2 hidden not read" in report.summary()


def test_report_names_files_of_no_article_type_once(tiny_corpus, tmp_path, caplog):
    write_corpus(tiny_corpus, {"photo.png": b"\x89PNG\r\n", "LICENSE": "MIT"})
    report = build(tiny_corpus, tmp_path / "index")
    assert report.ignored == ["LICENSE", "photo.png"]
    assert "2 not of an article type (LICENSE, photo.png)" in report.summary()
    warnings = [r.getMessage() for r in caplog.records if "no article type" in r.getMessage()]
    assert len(warnings) == 1 and "LICENSE, photo.png" in warnings[0]


def test_plan_index_logs_nothing_so_the_build_after_it_warns_once(tiny_corpus, tmp_path, caplog):
    index = tmp_path / "index"
    build(tiny_corpus, index)
    write_corpus(tiny_corpus, {"broken.txt": b"\x00\x01binary"})
    caplog.clear()
    assert rag.plan_index(tiny_corpus, index)["unchanged"] == 3
    build(tiny_corpus, index)
    skips = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipping broken.txt")]
    assert len(skips) == 1, skips


def test_a_copy_of_the_indexed_folder_elsewhere_is_the_same_corpus(tiny_corpus, tmp_path):
    """make chat: index/ built from seeds/, then `rag index corpus` where corpus/ is a copy of seeds/."""
    index = tmp_path / "index"
    build(tiny_corpus, index)
    copy = tmp_path / "copy"
    shutil.copytree(tiny_corpus, copy)
    report = build(copy, index)
    assert report.unchanged == 3 and report.embedded == 0
    assert rag.index_info(index).corpus_dir == str(copy.resolve())
    (copy / "harbour.txt").write_text("Another story\n\nNothing like the indexed one.\n")
    other = tmp_path / "other"
    shutil.copytree(copy, other)
    with pytest.raises(UserError, match="--replace"):
        build(other, index)


def test_the_model_is_loaded_before_the_chunking_bar_starts(tiny_corpus, tmp_path, monkeypatch):
    import rag.store.build as indexing

    events = []
    real_tqdm, real_get = indexing.tqdm, indexing.get_embedder
    monkeypatch.setattr(indexing, "tqdm", lambda *a, **k: events.append(("bar", k.get("desc"))) or real_tqdm(*a, **k))
    monkeypatch.setattr(indexing, "get_embedder", lambda *a: events.append(("model", None)) or real_get(*a))
    build(tiny_corpus, tmp_path / "index")
    assert events.index(("model", None)) < events.index(("bar", "chunking"))


def test_a_large_folder_is_chunked_in_worker_processes_in_order_and_as_one_process_would(monkeypatch):
    from rag.store import build as indexing
    from rag.schema import Article
    from rag.settings import resolve

    text = "The council met on Monday. It voted to close the library. Residents protested outside the hall. " * 12
    articles = [Article(doc_id=f"a{i:02d}.txt", title=f"Story {i}", text=f"{i}. {text}") for i in range(24)]
    settings = resolve(env={}, **FAST)
    serial = indexing.chunk_articles(articles, settings=settings)
    monkeypatch.setattr(indexing, "PARALLEL_MIN_ARTICLES", 8)
    monkeypatch.setattr(indexing.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert indexing._workers(settings, len(articles)) == 2
    parallel = indexing.chunk_articles(articles, settings=settings)
    assert parallel == serial
    assert [chunks[0].doc_id for chunks in parallel] == [a.doc_id for a in articles]
    assert indexing._workers(settings, 7) == 1  # a small folder: no pool
