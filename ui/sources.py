"""The Corpus tab's web part: add a page or a feed (``rag.add``), and where each article came from.

``add_web_form`` lays out its components inside the current Gradio block and wires them;
``articles_html`` lists the indexed articles with their source, link and when they were added.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import gradio as gr

import rag
from ui import render

log = logging.getLogger("rag.ui")

MAX_LISTED = 500
MAX_URLS = 50
SAFE_LINK = re.compile(r"^https?://", re.I)


def parse_urls(text: str | None) -> list[str]:
    """URLs in a text box: one per line, or separated by spaces or commas.

    >>> parse_urls("https://a.example/feed.xml, https://b.example/x\\n")
    ['https://a.example/feed.xml', 'https://b.example/x']
    """
    return [part for part in re.split(r"[\s,]+", text or "") if part]


def _added_at(doc_id: str, saved: dict[str, dict[str, Any]], corpus: Path | None) -> tuple[str, str] | None:
    """("added", when) for an article ``rag add`` saved; ("file saved", mtime) for other files."""
    if doc_id in saved and saved[doc_id].get("added_at"):
        return "added", str(saved[doc_id]["added_at"]).replace("T", " ")
    path = corpus / doc_id.split("#")[0] if corpus else None
    if path is not None and path.is_file():
        when = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(sep=" ", timespec="seconds")
        return "file saved", when
    return None


def _provenance(article: rag.Article, added: tuple[str, str] | None) -> str:
    parts = []
    if article.source:
        parts.append(render.esc(article.source))
    if article.date:
        parts.append(render.esc(article.date))
    if article.url and SAFE_LINK.match(article.url):
        url = render.esc(article.url)
        parts.append(f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">{url}</a>')
    if added:
        parts.append(f"{added[0]} {render.esc(added[1])}")
    return " · ".join(parts)


def articles_html(assistant: rag.Assistant, corpus_dir: str | Path | None) -> str:
    """The indexed articles, each with its doc id, source, date, link and when it was added."""
    articles = sorted(assistant.store.articles().values(), key=lambda a: a.doc_id)
    if not articles:
        return '<div class="rag-empty">No articles indexed.</div>'
    corpus = Path(corpus_dir) if corpus_dir else None
    saved = rag.saved_articles(corpus) if corpus and corpus.is_dir() else {}
    rows = []
    for a in articles[:MAX_LISTED]:
        about = _provenance(a, _added_at(a.doc_id, saved, corpus))
        rows.append(
            f'<li><b>{render.esc(a.title)}</b> <span class="rag-meta">{render.esc(a.doc_id)}</span>'
            + (f'<br><span class="rag-meta rag-provenance">{about}</span>' if about else "")
            + "</li>"
        )
    more = len(articles) - MAX_LISTED
    tail = f'<p class="rag-meta">… and {more} more.</p>' if more > 0 else ""
    return f'<ul class="rag-articles">{"".join(rows)}</ul>{tail}'


def add_report_html(report: rag.AddReport | None, error: str | None = None) -> str:
    """Each URL's outcome, the index update, and the summary line."""
    if report is None:
        return f'<div class="rag-report"><p class="rag-bad">{render.esc(error or "Nothing to add.")}</p></div>'
    items = []
    for r in report.results:
        url = render.esc(r.url)
        if r.status == "added":
            items.append(f"<li>added <b>{render.esc(r.title)}</b> <code>{render.esc(r.path)}</code> from {url}</li>")
        elif r.status == "present":
            items.append(f"<li>already present: {url}</li>")
        else:
            items.append(f'<li class="rag-bad">failed: {url}: {render.esc(r.reason)}</li>')
    index = render.report_html(report.index) if report.index is not None else ""
    summary = render.esc(report.summary().split(" (")[0])
    return f'<div class="rag-report"><p><b>{summary}</b></p><ul>{"".join(items)}</ul>{index}</div>'


def add_from_web(urls_text: str, corpus: Path | None, index_dir: str, settings: dict[str, Any]) -> str:
    """Add the URLs in ``urls_text`` to ``corpus`` and the index, as ``rag add`` does; the report as HTML."""
    if corpus is None:
        return add_report_html(None, "No corpus folder: start with `rag chat --corpus DIR` to add articles.")
    urls = parse_urls(urls_text)
    if not urls:
        return add_report_html(None, "Paste the address of a web page or an RSS/Atom feed first.")
    if len(urls) > MAX_URLS:
        return add_report_html(None, f"At most {MAX_URLS} addresses at a time ({len(urls)} given).")
    try:
        return add_report_html(rag.add(urls, corpus, index_dir, **settings))
    except rag.UserError as exc:
        return add_report_html(None, str(exc))
    except Exception as exc:  # never a traceback in the page; the log has it
        log.exception("adding %s failed", urls)
        return add_report_html(None, f"unexpected error ({type(exc).__name__}); the server log has the details")


def add_web_form(
    corpus: Path | None,
    index_dir: str,
    build_lock: threading.Lock,
    after: Callable[[], tuple[str, str]],
    outputs: list[gr.components.Component],
    settings: dict[str, Any] | None = None,
) -> None:
    """A URL box and a button (inside the current block): adds pages and feeds, then refreshes ``outputs``.

    ``after()`` returns the new values of ``outputs`` (the stats and the article list).
    """
    enabled = corpus is not None
    box = gr.Textbox(
        label="Web page or RSS/Atom feed (one address per line; a feed adds every article it links)",
        placeholder="https://example.org/news/feed.xml",
        lines=2, max_lines=8, elem_id="rag-add-urls", interactive=enabled,
    )
    button = gr.Button("Add from the web", elem_id="rag-add-web", interactive=enabled)
    report = gr.HTML("", elem_id="rag-add-report")

    def run(text: str):
        with build_lock:
            html = add_from_web(text, corpus, index_dir, dict(settings or {}))
        return html, *after(), ""

    button.click(run, box, [report, *outputs, box], api_visibility="private", concurrency_id="index", concurrency_limit=1)
