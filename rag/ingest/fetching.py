"""``rag add``: fetch web pages and feeds into the corpus folder, then index what is new.

A page's main text, title, date and site come from trafilatura; an RSS or Atom feed
(feedparser) adds every linked article not already in the corpus. Each article is saved as
Markdown with front matter (title, date, source, url, added_at) under ``web/<host>/`` in
the corpus folder, so the folder stays the single source of truth: ``rag index`` rebuilds
the same index from it. The file name comes from the URL, so adding it again is a no-op.

Fetching is polite and guarded (``rag.ingest.web``); pages and feeds become articles in
``rag.ingest.pages``. One failure never stops the others.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import yaml

from rag.errors import UserError
from rag.ingest.pages import WEB_FOLDER, article_path, extract_article, feed_links, is_feed, markdown_article
from rag.ingest.web import FetchError, FetchPolicy, Page, fetch, make_client
from rag.schema import IndexReport
from rag.settings import resolve


@dataclass(frozen=True)
class AddResult:
    """What happened to one URL: ``status`` is "added", "present" or "failed" (with ``reason``)."""

    url: str
    status: str
    reason: str = ""
    path: str = ""  # the saved file, relative to the corpus folder
    title: str = ""


@dataclass(frozen=True)
class AddReport:
    """Every URL's result, and the index update (None when nothing new was indexed)."""

    results: list[AddResult] = field(default_factory=list)
    index: IndexReport | None = None

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def summary(self) -> str:
        """One line: ``added 2, already present 1, failed 1 (https://x/slow: timed out after 15s)``."""
        failed = [f"{r.url}: {r.reason}" for r in self.results if r.status == "failed"]
        line = f"added {self.count('added')}, already present {self.count('present')}, failed {len(failed)}"
        return line + (f" ({'; '.join(failed)})" if failed else "")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=".tmp-", suffix=".md", delete=False)
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Adder:
    """Adds URLs to one corpus folder with one HTTP client; ``add(url)`` yields a result per article."""

    def __init__(self, corpus_dir: Path, client: Any, policy: FetchPolicy) -> None:
        self.corpus_dir, self.client, self.policy = corpus_dir, client, policy

    def _present(self, url: str) -> bool:
        return (self.corpus_dir / article_path(url)).is_file()

    def _save(self, url: str, page: Page, fallback: dict[str, Any] | None, feed: str | None) -> AddResult:
        from rag.ingest.reading import SkipFile, read_markdown

        article = extract_article(page, fallback)
        relative = article_path(url)
        text = markdown_article(article, _now(), url, feed)
        try:  # saved only if `rag index` will read it: the same cleaning decides
            read_markdown(relative.as_posix(), text)
        except SkipFile as exc:
            raise FetchError(str(exc)) from None
        _write_atomically(self.corpus_dir / relative, text)
        return AddResult(url, "added", path=relative.as_posix(), title=article["title"] or "")

    def _article(self, url: str, fallback: dict[str, Any] | None = None, feed: str | None = None) -> AddResult:
        if self._present(url):
            return AddResult(url, "present", path=article_path(url).as_posix())
        try:
            return self._save(url, fetch(url, self.client, self.policy), fallback, feed)
        except FetchError as exc:
            return AddResult(url, "failed", str(exc))

    def add(self, url: str) -> Iterator[AddResult]:
        """Results for ``url``: one for a page, one per linked article for a feed."""
        if self._present(url):
            yield AddResult(url, "present", path=article_path(url).as_posix())
            return
        try:
            page = fetch(url, self.client, self.policy)
            if not is_feed(page):
                yield self._save(url, page, None, None)
                return
            links = feed_links(page)
        except FetchError as exc:
            yield AddResult(url, "failed", str(exc))
            return
        for link, about in links:
            yield self._article(link, about, feed=url)


def add_to_corpus(
    urls: Iterable[str],
    corpus_dir: str | Path,
    policy: FetchPolicy = FetchPolicy(),
    on_result: Callable[[AddResult], None] | None = None,
) -> list[AddResult]:
    """Fetch ``urls`` (pages or feeds) into ``corpus_dir``; never raises for one URL's failure."""
    corpus = Path(corpus_dir)
    if corpus.exists() and not corpus.is_dir():
        raise UserError(f"corpus folder is a file: {corpus}")
    results = []
    with make_client(policy) as client:
        adder = Adder(corpus, client, policy)
        for url in urls:
            for result in adder.add(url.strip()):
                results.append(result)
                if on_result:
                    on_result(result)
    return results


def add(
    urls: Iterable[str],
    corpus_dir: str | Path | None = None,
    index_dir: str | Path | None = "index",
    *,
    on_result: Callable[[AddResult], None] | None = None,
    **settings: Any,
) -> AddReport:
    """Add web pages and feeds to the corpus, then update the index incrementally (``index_dir=None``: don't).

    ``corpus_dir`` defaults to the folder the index was built from. ``settings`` override
    ``Settings`` (``fetch_timeout``, ``fetch_max_bytes``, ``fetch_allow_private``...); the index
    is updated with the settings it was built with, so adding never changes the model.

    >>> rag.add(["https://news.example/feed.xml"], "corpus", "index").summary()  # doctest: +SKIP
    'added 12, already present 0, failed 1 (https://news.example/live: HTTP 404 Not Found)'
    """
    from rag.ingest.watching import index_settings_of, update_index

    urls = [u for u in urls if u and u.strip()]
    if not urls:
        raise UserError("no URL given; name a web page or an RSS/Atom feed")
    corpus = Path(corpus_dir) if corpus_dir else default_corpus(index_dir)
    check_corpus_of_index(corpus, index_dir)
    results = add_to_corpus(urls, corpus, FetchPolicy.of(resolve(**settings)), on_result)
    report = AddReport(results)
    if index_dir is not None and report.count("added"):
        report = AddReport(results, update_index(corpus, index_dir, **{**index_settings_of(index_dir), **settings}))
    return report


def default_corpus(index_dir: str | Path | None) -> Path:
    """The corpus folder the index in ``index_dir`` was built from."""
    from rag.store.local import read_manifest

    manifest = read_manifest(Path(index_dir)) if index_dir else None
    if not manifest or not manifest.get("corpus_dir"):
        raise UserError(f"no index in {index_dir} to take the corpus folder from; name one with --corpus DIR")
    return Path(manifest["corpus_dir"])


def check_corpus_of_index(corpus_dir: Path, index_dir: str | Path | None) -> None:
    """Refuse to update an index from another folder than it was built from: that would replace its articles."""
    from rag.store.local import read_manifest

    manifest = read_manifest(Path(index_dir)) if index_dir else None
    built_from = (manifest or {}).get("corpus_dir")
    if built_from and Path(built_from).resolve() != corpus_dir.resolve():
        raise UserError(
            f"index {index_dir} was built from {built_from}, not {corpus_dir}; "
            f"add to that folder (leave out --corpus) or use another --index"
        )


def saved_articles(corpus_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Front matter of the articles ``rag add`` saved, by doc id (``web/host/x.md``): url, source, added_at..."""
    root = Path(corpus_dir) / WEB_FOLDER
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*.md")) if root.is_dir() else []:
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        match = re.match(r"\A---\n(.*?)\n---\n", head, re.S)
        try:
            meta = yaml.safe_load(match.group(1)) if match else None
        except yaml.YAMLError:
            continue
        if isinstance(meta, dict):
            found[path.relative_to(corpus_dir).as_posix()] = meta
    return found
