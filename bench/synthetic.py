"""Larger corpora for the benchmark: new articles recombined from a real corpus's sentences.

Each synthetic article takes a real title of one category and 10-25 sentences drawn from
that category's articles, in paragraphs of 2-4 sentences. The text is real news prose (so
chunking, tokenising and embedding cost what they cost on real articles) but the articles
are new, so nothing is deduplicated or cached away.
"""

from __future__ import annotations

import math
import random
import re
import shutil
from pathlib import Path

from rag import read_corpus

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])|(?<=[.!?][\"'])\s+(?=[A-Z])")
# Real BBC: 8,765 chunks from 2,096 articles of ~390 words (150-token chunks, 30 overlap).
MARKER = ".synthetic-complete"


def _pools(corpus_dir: Path) -> tuple[dict[str, list[str]], dict[str, list[str]], float]:
    """Sentences and titles by category (first folder), and words per article on average."""
    sentences: dict[str, list[str]] = {}
    titles: dict[str, list[str]] = {}
    words = 0
    articles = read_corpus(corpus_dir).articles
    for article in articles:
        category = article.doc_id.split("/")[0] if "/" in article.doc_id else "news"
        sentences.setdefault(category, []).extend(s.strip() for s in SENTENCE_END.split(article.text) if len(s.split()) >= 4)
        titles.setdefault(category, []).append(article.title)
        words += len(article.text.split())
    return sentences, titles, words / max(1, len(articles))


def synthetic_corpus(source: Path, target: Path, passages: int, passages_per_article: float, seed: int = 0) -> Path:
    """Write about ``passages`` passages' worth of recombined articles into ``target`` (reused if complete).

    ``passages_per_article`` is the source corpus's chunks per article, from a real build,
    so the target size is hit within a few percent."""
    if (target / MARKER).is_file() and (target / MARKER).read_text() == f"{passages} {seed}":
        return target
    shutil.rmtree(target, ignore_errors=True)
    sentences, titles, words_per_article = _pools(source)
    words_per_passage = words_per_article / passages_per_article
    rng = random.Random(seed)
    categories = sorted(sentences)
    budget, number = passages * words_per_passage, 0
    while budget > 0:
        category = rng.choice(categories)
        pool = sentences[category]
        body = rng.sample(pool, min(len(pool), rng.randint(10, 25)))
        paragraphs, start = [], 0
        while start < len(body):
            size = rng.randint(2, 4)
            paragraphs.append(" ".join(body[start : start + size]))
            start += size
        title = f"{rng.choice(titles[category])} ({number})"
        path = target / category / f"syn-{number:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        budget -= max(1, sum(len(s.split()) for s in body))
        number += 1
    (target / MARKER).write_text(f"{passages} {seed}")
    return target


def changed_copy(source: Path, target: Path, fraction: float = 0.01, seed: int = 1) -> tuple[Path, int]:
    """A copy of ``source`` in which ``fraction`` of the articles gained a paragraph.

    Returns the copy and how many articles changed."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(MARKER))
    files = sorted(p for p in target.rglob("*.txt") if p.name not in {"LICENSE", "SOURCE.md"})
    rng = random.Random(seed)
    chosen = rng.sample(files, max(1, math.ceil(len(files) * fraction)))
    for path in chosen:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"\n\nUpdate {rng.randint(1, 10**6)}: the story was revised after publication with new figures.\n")
    return target, len(chosen)
