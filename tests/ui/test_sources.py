"""The Corpus tab's web part: adding a feed from the chat, provenance, and reload on a new generation."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.ingest.pages import article_path
from tests.conftest import FAST, TINY, write_corpus
from tests.news_server import news_site, rss  # noqa: F401  (the fixture)

pytest.importorskip("gradio", reason="the chat needs gradio")

from ui import sources  # noqa: E402
from ui.app import build_app  # noqa: E402

LOCAL = {**FAST, "fetch_allow_private": True, "fetch_timeout": 1.0}


@pytest.fixture
def app(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus", TINY)
    rag.build_index(corpus, tmp_path / "index", **FAST)
    demo = build_app(str(tmp_path / "index"), str(corpus), **FAST)
    yield demo, corpus, tmp_path / "index"
    demo.rag_pool.close()


def test_adding_a_feed_from_the_chat_indexes_it_and_shows_its_provenance(app, news_site) -> None:
    demo, corpus, index = app
    news_site.feed("/feed.xml", rss(news_site.base, ["/news/harbour", "/broken"]))
    html = sources.add_from_web(f"{news_site.base}/feed.xml", corpus, str(index), LOCAL)
    assert "added 1, already present 0, failed 1" in html
    assert "Harbour opens in Port Elms" in html and "HTTP 500 Internal Server Error" in html
    assert "Index updated:</b> added 1" in html
    # The chat answers from the new generation without a restart.
    with demo.rag_pool.use() as assistant:
        passages = assistant.search("how many boats can the new harbour hold", k=3)
    doc_id = article_path(f"{news_site.base}/news/harbour").as_posix()
    assert doc_id in {p.doc_id for p in passages}
    listing = sources.articles_html(demo.rag_pool.default, corpus)
    item = listing[listing.index(doc_id):].split("</li>")[0]
    assert "Elms Post" in item and "2024-03-04" in item and f'href="{news_site.base}/news/harbour"' in item
    assert "added 20" in item  # when rag add saved it
    assert "file saved 20" in listing  # the local files: their modification time


def test_pool_reloads_after_an_outside_build(app) -> None:
    demo, corpus, index = app
    before = demo.rag_pool.default
    (corpus / "queen.txt").write_text(
        "Queen visits Port Elms\n\nThe Elms queen visited the harbour in Port Elms on Friday and named the lifeboat Ada.",
        encoding="utf-8",
    )
    rag.build_index(corpus, index, **FAST)  # as `rag watch` would, in another process
    with demo.rag_pool.use() as assistant:
        assert assistant is not before and assistant.store.article("queen.txt") is not None


def test_form_errors_are_shown_not_raised(tmp_path: Path) -> None:
    assert "No corpus folder" in sources.add_from_web("https://x.example/", None, "index", {})
    assert "Paste the address" in sources.add_from_web("  \n ", tmp_path, "index", {})
    many = " ".join(f"https://x.example/{i}" for i in range(sources.MAX_URLS + 1))
    assert "At most 50 addresses" in sources.add_from_web(many, tmp_path, "index", {})
    assert sources.parse_urls("a b,c\nd") == ["a", "b", "c", "d"]


def test_uploads_take_the_new_formats_checked_by_signature(tmp_path: Path) -> None:
    from ui.uploads import save_uploads

    files = {"a.csv": b"title,text\nT,The Elms council met on Monday.\n", "r.pdf": b"%PDF-1.7\n...",
             "w.docx": b"PK\x03\x04...", "fake.pdf": b"<html>not a pdf</html>", "fake.docx": b"plain text"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "corpus").mkdir()
    result = save_uploads([tmp_path / n for n in files], tmp_path / "corpus")
    assert sorted(result.saved) == ["a.csv", "r.pdf", "w.docx"]
    assert dict(result.rejected) == {"fake.pdf": "not a .pdf file (its content does not start like one)",
                                     "fake.docx": "not a .docx file (its content does not start like one)"}
