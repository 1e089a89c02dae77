"""Pages and feeds as articles: trafilatura's main text and metadata, feedparser's links, our Markdown files."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import yaml

from rag.ingest.web import FetchError, Page

WEB_FOLDER = "web"
FEED_TYPES = ("rss", "atom", "xml")
FEED_MARKERS = (b"<rss", b"<feed", b"<rdf:rdf")
SLUG_CHARS = 60


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
