"""``rag add``: fetch web pages and feeds into the corpus folder, then index what is new.

A page's main text, title, date and site come from trafilatura; an RSS or Atom feed
(feedparser) adds every linked article not already in the corpus. Each article is saved as
Markdown with front matter (title, date, source, url, added_at) under ``web/<host>/`` in
the corpus folder, so the folder stays the single source of truth: ``rag index`` rebuilds
the same index from it. The file name comes from the URL, so adding it again is a no-op.

Fetching is polite and guarded: a timeout on every request and on the whole download, a
size limit, a User-Agent naming the project, http/https only, redirects followed by hand
(at most ``max_redirects``, each target checked like the first), and no private, loopback
or link-local addresses unless ``allow_private``. One failure never stops the others.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import re
import socket
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urldefrag, urljoin, urlsplit

import yaml

from rag.errors import UserError
from rag.schema import IndexReport
from rag.settings import Settings, resolve

USER_AGENT = "rag-news-reader/0.1 (rag add: saves articles for offline cited answers)"
WEB_FOLDER = "web"
FEED_TYPES = ("rss", "atom", "xml")
FEED_MARKERS = (b"<rss", b"<feed", b"<rdf:rdf")
SLUG_CHARS = 60


class FetchError(Exception):
    """A URL that could not be fetched or used; the message is the reason shown to the user."""


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for every request ``rag add`` makes."""

    timeout: float = 15.0  # seconds per connect/read, and for a whole download
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False
    user_agent: str = USER_AGENT

    @classmethod
    def of(cls, settings: Settings) -> "FetchPolicy":
        """The policy that ``settings.fetch_*`` describe (a bad value is a user error)."""
        if settings.fetch_timeout <= 0 or settings.fetch_max_bytes <= 0:
            raise UserError("fetch_timeout and fetch_max_bytes must be positive")
        return cls(settings.fetch_timeout, settings.fetch_max_bytes, allow_private=settings.fetch_allow_private)


@dataclass(frozen=True)
class Page:
    """A fetched response: the URL it came from after redirects, its content type and bytes."""

    url: str
    content_type: str
    body: bytes


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


# ---- safe fetching ----------------------------------------------------------------------


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host} ({exc})") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_url(url: str, allow_private: bool = False) -> None:
    """Raise ``FetchError`` unless ``url`` is http(s) to a public address (any address with ``allow_private``).

    >>> check_url("ftp://example.org/feed")
    Traceback (most recent call last):
    rag.ingest.fetching.FetchError: only http and https URLs are fetched, not ftp
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs are fetched, not {parts.scheme or 'a bare path'}")
    if not parts.hostname:
        raise FetchError("the URL has no host")
    if allow_private:
        return
    for address in _addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)):
        if not address.is_global:
            raise FetchError(f"{parts.hostname} is a private or local address ({address}); pass --allow-private to fetch it")


def _read_limited(response: Any, policy: FetchPolicy, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(f"too large ({int(declared):,} bytes; the limit is {policy.max_bytes:,})")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > policy.max_bytes:
            raise FetchError(f"too large (over the limit of {policy.max_bytes:,} bytes)")
        if time.monotonic() > deadline:  # a server trickling bytes never trips the read timeout
            raise FetchError(f"timed out after {policy.timeout:g}s")
    return bytes(body)


def _get(client: Any, url: str, policy: FetchPolicy, deadline: float) -> tuple[str | None, Page | None]:
    """One request: (the redirect target, None) or (None, the page)."""
    with client.stream("GET", url) as response:
        if response.is_redirect:
            location = response.headers.get("location")
            if not location:
                raise FetchError(f"redirect ({response.status_code}) without a target")
            return urljoin(url, location), None
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
        body = _read_limited(response, policy, deadline)
        return None, Page(url, response.headers.get("content-type", "").lower(), body)


def fetch(url: str, client: Any, policy: FetchPolicy = FetchPolicy()) -> Page:
    """GET ``url`` within ``policy``, following redirects by hand; raises ``FetchError`` with the reason."""
    import httpx

    deadline = time.monotonic() + policy.timeout
    try:
        for _ in range(policy.max_redirects + 1):
            check_url(url, policy.allow_private)
            target, page = _get(client, url, policy, deadline)
            if page is not None:
                return page
            url = target  # type: ignore[assignment]
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {policy.timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"network error ({type(exc).__name__}: {exc})") from None
    raise FetchError(f"more than {policy.max_redirects} redirects")


def make_client(policy: FetchPolicy = FetchPolicy()) -> Any:
    """An httpx client for ``fetch``: the project's User-Agent, the timeout, no automatic redirects.

    Proxies from the environment are not used: the address check must see the real target.
    """
    import httpx

    headers = {"User-Agent": policy.user_agent, "Accept": "text/html, application/rss+xml, application/atom+xml, */*;q=0.5"}
    return httpx.Client(timeout=policy.timeout, follow_redirects=False, headers=headers, trust_env=False)


# ---- pages, feeds and the corpus folder -------------------------------------------------


def is_feed(page: Page) -> bool:
    """An RSS/Atom document, by content type or by its first element."""
    if "html" in page.content_type:
        return False
    if any(kind in page.content_type for kind in FEED_TYPES):
        return True
    return any(marker in page.body[:2048].lower() for marker in FEED_MARKERS)


def feed_links(page: Page) -> list[tuple[str, dict[str, Any]]]:
    """(article URL, what the feed says about it) for every entry that links somewhere."""
    import feedparser

    parsed = feedparser.parse(page.body, response_headers={"content-location": page.url})
    if not parsed.entries:
        problem = f" ({parsed.bozo_exception})" if parsed.get("bozo") else ""
        raise FetchError(f"the feed has no entries{problem}")
    source = parsed.feed.get("title")
    links = []
    for entry in parsed.entries:
        if entry.get("link"):
            date = entry.get("published") or entry.get("updated")
            links.append((urljoin(page.url, entry.link), {"title": entry.get("title"), "date": date, "source": source}))
    return links


def extract_article(page: Page, fallback: dict[str, Any] | None = None) -> dict[str, Any]:
    """Title, date, source, url and text of an article page (trafilatura), the feed's values as fallback."""
    import trafilatura

    if "html" not in page.content_type and not page.body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
        raise FetchError(f"not an HTML page or a feed (content type {page.content_type or 'unknown'})")
    doc = trafilatura.bare_extraction(
        page.body, url=page.url, with_metadata=True, include_comments=False, include_tables=False, config=_trafilatura_config()
    )
    if doc is None or not (doc.text or "").strip():
        raise FetchError("no article text found on the page")
    fallback = fallback or {}
    title = doc.title or fallback.get("title")
    return {
        "title": title,
        "date": doc.date or fallback.get("date"),
        "source": doc.sitename or fallback.get("source") or doc.hostname,
        "url": page.url,
        "text": _paragraphs(doc.text, title),
    }


@functools.cache
def _trafilatura_config() -> Any:
    """Trafilatura's defaults, but short articles kept: below MIN_EXTRACTED_SIZE (250 characters) it
    falls back to a baseline extractor, which on a two-paragraph news item of 240 characters ran
    headline, byline and paragraphs into one line (tests/ingest/test_fetching.py)."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "50")
    return config


def _paragraphs(text: str, title: str | None) -> str:
    """Trafilatura's lines as Markdown paragraphs, without the page's own headline repeated on top.

    (A headline left in the text would be quoted as if it were a sentence of the article.)
    """
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if title and len(lines) > 1 and " ".join(lines[0].split()).casefold() == " ".join(title.split()).casefold():
        lines = lines[1:]
    return "\n\n".join(lines)


def article_path(url: str) -> Path:
    """Where the article from ``url`` is saved, relative to the corpus: ``web/<host>/<slug>-<hash>.md``.

    >>> article_path("https://news.example/2024/harbour-opens.html#top").as_posix()
    'web/news.example/harbour-opens-3e9d2a6c.md'
    """
    url = urldefrag(url).url
    parts = urlsplit(url)
    stem = Path(parts.path.rstrip("/")).stem or "index"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()[:SLUG_CHARS] or "article"
    host = re.sub(r"[^A-Za-z0-9.-]+", "_", parts.hostname or "unknown").strip(".") or "unknown"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    return Path(WEB_FOLDER) / host / f"{slug}-{digest}.md"


def markdown_article(article: dict[str, Any], added_at: str, requested: str, feed: str | None = None) -> str:
    """The saved file: YAML front matter, then the text."""
    meta = {key: article.get(key) for key in ("title", "date", "source", "url") if article.get(key)}
    meta["added_at"] = added_at
    if requested != article["url"]:
        meta["requested_url"] = requested
    if feed:
        meta["feed"] = feed
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n{article['text'].strip()}\n"


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
