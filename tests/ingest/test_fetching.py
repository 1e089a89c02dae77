"""rag add: pages and feeds from a real HTTP server on 127.0.0.1 into the corpus and the index."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rag.assistant import Assistant
from rag.cli import main
from rag.errors import UserError
from rag.store.build import build_index
from rag.ingest.fetching import add, saved_articles
from rag.ingest.pages import article_path
from rag.ingest.web import FetchError, FetchPolicy, check_url, fetch, make_client
from rag.ingest.reading import read_corpus
from tests.conftest import FAST, TINY, write_corpus
from tests.news_server import news_site  # noqa: F401  (the fixture)

QUICK = {"fetch_allow_private": True, "fetch_timeout": 1.0, "fetch_max_bytes": 1_000_000}


def _front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def test_feed_adds_each_article_and_reports_every_failure(news_site, tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    report = add([f"{news_site.base}/feed.xml"], corpus, index, **QUICK, **FAST)
    by_url = {r.url.removeprefix(news_site.base): r for r in report.results}
    assert {u: r.status for u, r in by_url.items()} == {
        "/news/harbour": "added", "/news/bakery": "added",
        "/broken": "failed", "/slow": "failed", "/huge": "failed", "/empty": "failed",
    }
    assert by_url["/broken"].reason == "HTTP 500 Internal Server Error"
    assert by_url["/slow"].reason == "timed out after 1s"
    assert by_url["/huge"].reason.startswith("too large (")
    assert by_url["/empty"].reason == "no article text after removing site boilerplate"  # only its menu was left
    assert report.summary().startswith("added 2, already present 0, failed 4 (")
    assert report.index is not None and report.index.added == 2
    # Every request named the project.
    assert {agent for _, agent in news_site.requests} == {FetchPolicy.user_agent}


def test_saved_article_is_clean_markdown_with_its_provenance(news_site, tmp_path: Path) -> None:
    url = f"{news_site.base}/news/harbour"
    add([url], tmp_path / "corpus", None, **QUICK)
    saved = tmp_path / "corpus" / article_path(url)
    meta = _front_matter(saved)
    assert meta["title"] == "Harbour opens in Port Elms"
    assert (meta["date"], meta["source"], meta["url"]) == ("2024-03-04", "Elms Post", url)
    assert meta["added_at"].endswith("+00:00")
    (article,) = read_corpus(tmp_path / "corpus").articles
    assert article.doc_id == article_path(url).as_posix() and article.url == url and article.date == "2024-03-04"
    assert article.text.startswith("The new harbour in Port Elms opened on Monday")  # not the headline again
    assert "\n\nIt cost 42 million pounds and can hold 300 boats" in article.text  # paragraphs kept
    for chrome in ("Subscribe", "Most read", "Share this", "Copyright", "Sign in"):
        assert chrome not in article.text
    assert saved_articles(tmp_path / "corpus")[article.doc_id]["url"] == url


def test_a_short_news_item_keeps_its_paragraphs_without_headline_or_byline(news_site, tmp_path: Path) -> None:
    url = f"{news_site.base}/news/brief"
    add([url], tmp_path / "corpus", None, **QUICK)
    (article,) = read_corpus(tmp_path / "corpus").articles
    assert article.title == "Port Elms names its new lifeboat"
    assert article.text == ("The new lifeboat of Port Elms was named Ada Quill on Friday, after the mayor who opened "
                            "the harbour.\n\nThe boat cost 2.1 million pounds, paid for by a public appeal that ran for three years.")


def test_adding_again_fetches_nothing_new_and_keeps_the_index(news_site, tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    add([f"{news_site.base}/feed.xml"], corpus, index, **QUICK, **FAST)
    fetched = len(news_site.requests)
    again = add([f"{news_site.base}/feed.xml", f"{news_site.base}/news/bakery"], corpus, index, **QUICK, **FAST)
    assert again.count("present") == 3 and again.count("added") == 0 and again.index is None
    # The feed and the four failed links are asked again; the two saved articles are not.
    assert sorted(p for p, _ in news_site.requests[fetched:]) == ["/broken", "/empty", "/feed.xml", "/huge", "/slow"]


def test_atom_feed_with_relative_links_and_an_existing_corpus(news_site, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", TINY)
    report = add([f"{news_site.base}/atom.xml"], corpus, tmp_path / "index", **QUICK, **FAST)
    assert sorted(r.url.removeprefix(news_site.base) for r in report.results if r.status == "added") == [
        "/news/ferry", "/news/harbour"]
    assert report.index.added == 5  # the three local articles and the two fetched ones
    assistant = Assistant.load(tmp_path / "index", **FAST)
    ferry = assistant.store.article(article_path(f"{news_site.base}/news/ferry").as_posix())
    assert ferry.source == "Elms Post" and ferry.title == "Ferry to Stoney Isle returns"


def test_redirects_followed_limited_and_each_target_checked(news_site, tmp_path: Path) -> None:
    policy = FetchPolicy(allow_private=True, timeout=2, max_redirects=3)
    with make_client(policy) as client:
        page = fetch(f"{news_site.base}/redirect/3", client, policy)
        assert page.url == f"{news_site.base}/news/harbour" and b"Harbour opens" in page.body
        with pytest.raises(FetchError, match="more than 3 redirects"):
            fetch(f"{news_site.base}/redirect/4", client, policy)
        with pytest.raises(FetchError, match="only http and https URLs are fetched, not file"):
            fetch(f"{news_site.base}/to-file", client, policy)
        with pytest.raises(FetchError, match="too large"):  # no Content-Length: stopped while reading
            fetch(f"{news_site.base}/huge-stream", client, policy)


def test_private_addresses_refused_without_the_flag(news_site, tmp_path: Path) -> None:
    report = add([f"{news_site.base}/news/harbour"], tmp_path / "corpus", None)
    (result,) = report.results
    assert result.status == "failed" and "private or local address (127.0.0.1)" in result.reason
    assert "--allow-private" in result.reason and news_site.requests == []
    for url in ("http://10.1.2.3/x", "http://[::1]/", "http://169.254.169.254/latest/meta-data", "http://localhost/"):
        with pytest.raises(FetchError, match="private or local address"):
            check_url(url)
    for url, reason in (("ftp://example.org/f", "not ftp"), ("/etc/passwd", "not a bare path"), ("http:///x", "no host")):
        with pytest.raises(FetchError, match=reason):
            check_url(url)


def test_non_html_pages_and_user_errors(news_site, tmp_path: Path) -> None:
    report = add([f"{news_site.base}/report.pdf", "not a url"], tmp_path / "corpus", None, **QUICK)
    reasons = [r.reason for r in report.results]
    assert reasons == ["not an HTML page or a feed (content type application/pdf)",
                       "only http and https URLs are fetched, not a bare path"]
    with pytest.raises(UserError, match="no URL given"):
        add([], tmp_path / "corpus", None)
    with pytest.raises(UserError, match="name one with --corpus"):
        add([f"{news_site.base}/news/harbour"], None, tmp_path / "no-index")
    build_index(write_corpus(tmp_path / "other", TINY), tmp_path / "index", **FAST)
    with pytest.raises(UserError, match="was built from .*other, not .*corpus; add to that folder"):
        add([f"{news_site.base}/news/harbour"], tmp_path / "corpus", tmp_path / "index")


def test_cli_add_prints_each_article_and_the_summary(news_site, tmp_path: Path, capsys, no_config, monkeypatch) -> None:
    monkeypatch.setenv("RAG_MODEL", "hashing")
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    code = main(["add", f"{news_site.base}/feed.xml", "--corpus", str(corpus), "--index", str(index),
                 "--allow-private", "--timeout", "1", "--max-bytes", "1000000"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.count("added    ") == 2 and err.count("failed   ") == 4
    assert out.rstrip().splitlines()[-1].startswith("added 2, already present 0, failed 4 (")
    # The index's corpus folder is the default for the next add.
    code = main(["add", f"{news_site.base}/news/ferry", "--index", str(index), "--allow-private"])
    out, _ = capsys.readouterr()
    assert code == 0 and (corpus / article_path(f"{news_site.base}/news/ferry")).is_file()
    assert "added 1, updated 0" in out
    # Only failures: exit 1.
    assert main(["add", f"{news_site.base}/broken", "--index", str(index), "--allow-private"]) == 1
