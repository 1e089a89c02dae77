"""HTML for the chat page: answers, source cards, the sources panel, index reports.

Pure functions over ``rag`` objects (no Gradio here, so they test fast). Every piece
of article or user text goes through ``esc``; the only markup is our own. The output
never contains a blank line, so the chat's Markdown renderer passes it through as one
raw HTML block instead of reading ``*``, ``_`` or ``[1]`` in quotes as Markdown.
"""

from __future__ import annotations

import html
import re
from typing import Callable, Iterable, Iterator, Sequence

import rag

CONTEXT_CHARS = 360  # at most this much context each side of a highlighted quote
# Levels of a passage's cosine similarity to the question. With all-MiniLM-L6-v2 a passage that
# answers a news question mostly scores 0.5-0.75 and an unrelated one under 0.3.
MATCH_LEVELS = ((0.5, "strong match"), (0.3, "partial match"), (float("-inf"), "weak match"))

ArticleLookup = Callable[[str], "rag.Article | None"]


def esc(text: object) -> str:
    """``text`` HTML-escaped (quotes too; ``$`` too, so no template or LaTeX reads it), newlines as ``<br>``."""
    escaped = html.escape("" if text is None else str(text), quote=True).replace("$", "&#36;")
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _trim_left(text: str, limit: int) -> str:
    """The last ``limit`` characters of ``text``, cut at a word boundary, with a leading ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    space = cut.find(" ")
    return "…" + (cut[space + 1 :] if 0 <= space < 40 else cut)


def _trim_right(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit - 40 else cut) + "…"


def paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Start and end of the paragraph(s) of ``text`` (split at blank lines) around ``[start, end)``."""
    before = text.rfind("\n\n", 0, start)
    after = text.find("\n\n", end)
    return (0 if before < 0 else before + 2), (len(text) if after < 0 else after)


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` escaped, with each ``(start, end)`` span (offsets into ``text``) inside ``<mark>``."""
    out, pos = [], 0
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if end <= start or start < pos:
            continue  # empty or overlapping an earlier span
        out += [esc(text[pos:start]), "<mark>", esc(text[start:end]), "</mark>"]
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


CLOSEST = "Closest passages — the articles may not answer this."


def with_answer_span(quote: str, span: tuple[int, int] | None) -> str:
    """``quote`` escaped, the answer span (offsets into ``quote``) in ``<strong class="rag-short">``."""
    if span is None or not 0 <= span[0] < span[1] <= len(quote):
        return esc(quote)
    start, end = span
    return f'{esc(quote[:start])}<strong class="rag-short">{esc(quote[start:end])}</strong>{esc(quote[end:])}'


def answer_span(citation: rag.Citation) -> tuple[int, int] | None:
    """The answer span of a citation, as offsets into its quote (None when it marks none)."""
    if citation.answer_start is None or citation.answer_end is None:
        return None
    return citation.answer_start - citation.start, citation.answer_end - citation.start


def quote_in_context(citation: rag.Citation, article_text: str | None, context: int = CONTEXT_CHARS) -> str:
    """The cited sentence in ``<mark>`` (its answer span in bold), inside its paragraph of the
    article (trimmed to ``context``).

    Falls back to the bare quote when the article text is unavailable or does not match.
    """
    start, end = citation.start, citation.end
    quote = with_answer_span(citation.quote, answer_span(citation))
    if not article_text or article_text[start:end] != citation.quote:
        return f"<mark>{quote}</mark>"
    p_start, p_end = paragraph_bounds(article_text, start, end)
    before = _trim_left(article_text[p_start:start], context)
    after = _trim_right(article_text[end:p_end], context)
    return f"{esc(before)}<mark>{quote}</mark>{esc(after)}"


def match_html(similarity: float | None) -> str:
    """A passage's similarity to the question as people read it: ``strong match 62%`` (empty when unknown).

    The chat shows this instead of the ranking score: hybrid retrieval ranks by reciprocal-rank
    fusion, whose numbers (0.033, 0.016) say only the rank. ``--json`` keeps both.

    >>> match_html(0.624)
    '<span class="rag-score" title="similarity of this passage to the question">strong match 62%</span>'
    """
    if similarity is None:
        return ""
    level = next(name for floor, name in MATCH_LEVELS if similarity >= floor)
    percent = round(max(0.0, min(1.0, similarity)) * 100)
    return f'<span class="rag-score" title="similarity of this passage to the question">{level} {percent}%</span>'


def _meta(*parts: str | None) -> str:
    shown = [esc(p) for p in parts if p]
    return " · ".join(shown)


def answer_text_html(text: str, first: rag.Citation | None = None) -> str:
    """The answer text escaped, ``[n]`` markers styled (works on a partial, streaming text too);
    the answer span of the ``first`` citation in bold when the text opens with its quote."""
    span = answer_span(first) if first is not None and text.startswith(first.quote) else None
    if span is None:
        return rag.link_markers(esc(text))
    rest = text[len(first.quote):]
    return with_answer_span(first.quote, span) + rag.link_markers(esc(rest))


def _card(summary: str, doc_id: str, start: int, end: int, context: str, *, meta: str = "",
          cited: bool = False, is_open: bool = False) -> str:
    """One collapsible card: its summary line, where the text is (doc id, offsets), the text itself."""
    return (
        f'<details class="rag-card{" rag-cited" if cited else ""}"{" open" if is_open else ""}>'
        f"<summary>{summary}</summary>"
        f'<div class="rag-doc">{esc(doc_id)}{meta} · characters {start}–{end}</div>'
        f'<blockquote class="rag-context">{context}</blockquote>'
        "</details>"
    )


def _meta_span(date: str | None, source: str | None) -> str:
    meta = _meta(date, source)
    return f' <span class="rag-meta">{meta}</span>' if meta else ""


def citation_card(citation: rag.Citation, article_text: str | None) -> str:
    """A collapsible card for one citation: title, date/source, doc id, the quote in context."""
    summary = (f'<span class="rag-n">[{citation.n}]</span> <span class="rag-title">{esc(citation.title)}</span>'
               + _meta_span(citation.date, citation.source))
    return _card(summary, citation.doc_id, citation.start, citation.end, quote_in_context(citation, article_text))


def passage_card(passage: rag.Passage, rank: int) -> str:
    """A collapsible card for a retrieved passage (used for the closest passages of an abstention)."""
    summary = (f'<span class="rag-n">{rank}.</span> <span class="rag-title">{esc(passage.title)}</span>'
               f" {match_html(passage.similarity)}" + _meta_span(passage.date, passage.source))
    return _card(summary, passage.doc_id, passage.start, passage.end, esc(passage.text.strip()))


def answer_html(answer: rag.Answer, article: ArticleLookup, text: str | None = None, cards: bool = True) -> str:
    """The chat message for an answer: its text (or the ``text`` streamed so far), then source cards.

    Three outcomes, plainly: an answer (the asked-for span in bold) with its sources; "Closest
    passages — the articles may not answer this." with those passages; or "Not found in these
    articles." alone.
    """
    first = answer.citations[0] if answer.citations else None
    shown = answer.text if text is None else text
    if answer.outcome == "closest" and text is None:
        shown = CLOSEST
    body = answer_text_html(shown, first)
    kind = "rag-answer rag-abstained" if answer.abstained else "rag-answer"
    parts = [f'<div class="{kind}">', f'<p class="rag-text">{body}</p>']
    parts += [f'<p class="rag-note">{html.escape(note)}</p>' for note in answer.notes]  # e.g. BM25 only while a build embeds
    if cards and answer.outcome == "closest":
        parts.append('<div class="rag-cards"><div class="rag-cards-head">Closest passages</div>')
        parts += [passage_card(p, rank) for rank, p in enumerate(answer.passages[:3], start=1)]
        parts.append("</div>")
    elif cards and answer.citations:
        texts: dict[str, str | None] = {}
        for c in answer.citations:
            if c.doc_id not in texts:
                found = article(c.doc_id)
                texts[c.doc_id] = found.text if found else None
        parts.append('<div class="rag-cards"><div class="rag-cards-head">Sources</div>')
        parts += [citation_card(c, texts[c.doc_id]) for c in answer.citations]
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def draft_html(text: str) -> str:
    """The chat message for an LLM's answer while it is being written (checked and cited once it ends)."""
    return f'<div class="rag-answer rag-draft"><p class="rag-text">{answer_text_html(text)}</p></div>'


def stream_steps(text: str, max_steps: int = 40) -> Iterator[str]:
    """Growing prefixes of ``text`` ending at word boundaries, at most ``max_steps`` of them, ending with ``text``."""
    words = re.findall(r"\S+\s*", text)
    if not words:
        yield text
        return
    per_step = max(1, -(-len(words) // max_steps))
    for i in range(per_step, len(words), per_step):
        yield "".join(words[:i]).rstrip()
    yield text


def cited_in(passage: rag.Passage, citations: Sequence[rag.Citation]) -> list[rag.Citation]:
    """The citations whose quote lies inside ``passage``."""
    return [c for c in citations if c.doc_id == passage.doc_id and passage.start <= c.start and c.end <= passage.end]


SOURCES_EMPTY = (
    '<div class="rag-sources rag-empty">Ask a question: the passages it retrieved appear here, with how well each matches.</div>'
)


def sources_html(answer: rag.Answer | None) -> str:
    """The Sources panel: every retrieved passage with its match level; cited ones marked and highlighted."""
    if answer is None:
        return SOURCES_EMPTY
    if not answer.passages:
        return '<div class="rag-sources rag-empty">No passages were retrieved.</div>'
    rows = [
        '<div class="rag-sources">',
        f'<div class="rag-sources-q">Retrieved for: <q>{esc(answer.question)}</q></div>',
    ]
    opened = False  # the first cited passage starts open, the rest closed
    for rank, p in enumerate(answer.passages, start=1):
        cites = cited_in(p, answer.citations)
        is_open, opened = bool(cites) and not opened, opened or bool(cites)
        badge = "".join(f'<span class="rag-badge">cited [{c.n}]</span>' for c in cites)
        body = highlight(p.text.strip("\n"), [(c.start - p.start, c.end - p.start) for c in cites])
        meta = " · " + _meta(p.date, p.source) if p.date or p.source else ""
        summary = (f'<span class="rag-n">{rank}.</span> {match_html(p.similarity)} '
                   f'<span class="rag-title">{esc(p.title)}</span> {badge}')
        rows.append(_card(summary, p.doc_id, p.start, p.end, body, meta=meta, cited=bool(cites), is_open=is_open))
    rows.append("</div>")
    return "".join(rows)


def error_html(message: str) -> str:
    return f'<div class="rag-answer rag-error"><p class="rag-text">{esc(message)}</p></div>'


def stats_html(info: rag.IndexInfo | None, index_dir: str, corpus_dir: str | None) -> str:
    """What is indexed (``rag.index_info``): articles, chunks, model, last build, folders."""
    if info is None:
        return f'<div class="rag-empty">No index in {esc(index_dir)} yet.</div>'
    rows = [
        ("Articles", info.articles),
        ("Chunks", info.chunks),
        ("Embedding model", info.settings.get("model", "unknown")),
        ("Last build", (info.built_at or "unknown").replace("T", " ")),
        ("Index folder", index_dir),
        ("Corpus folder", corpus_dir or "none (start with --corpus DIR to add articles)"),
    ]
    items = "".join(f'<div class="rag-stat"><dt>{esc(name)}</dt><dd>{esc(value)}</dd></div>' for name, value in rows)
    return f'<dl class="rag-stats">{items}</dl>'


def report_html(
    report: rag.IndexReport | None,
    saved: Sequence[str] = (),
    rejected: Sequence[tuple[str, str]] = (),
    error: str | None = None,
) -> str:
    """The outcome of an upload or re-index: counts, files saved, files refused or skipped with reasons."""
    parts = ['<div class="rag-report">']
    if error:
        parts.append(f'<p class="rag-bad">Indexing failed: {esc(error)}</p>')
    if report is not None:
        counts = (
            f"added {report.added}, updated {report.updated}, removed {report.removed}, "
            f"unchanged {report.unchanged}"
        )
        parts.append(
            f'<p class="rag-ok"><b>Index updated:</b> {counts} · {report.chunks} chunks '
            f"({report.embedded} newly embedded) in {report.seconds:.1f}s</p>"
        )
    if saved:
        parts.append("<p>Saved to the corpus: " + ", ".join(f"<code>{esc(n)}</code>" for n in saved) + "</p>")
    problems = list(rejected)
    named = {name for name, _ in problems}
    problems += [(name, reason) for name, reason in (report.skipped if report is not None else []) if name not in named]
    if problems:
        parts.append('<p class="rag-bad"><b>Not indexed:</b></p><ul class="rag-bad">')
        parts += [f"<li><code>{esc(name)}</code>: {esc(reason)}</li>" for name, reason in problems]
        parts.append("</ul>")
    if len(parts) == 1:
        parts.append("<p>Nothing to do.</p>")
    parts.append("</div>")
    return "".join(parts)
