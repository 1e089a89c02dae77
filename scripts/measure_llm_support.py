"""How many invented or spliced LLM sentences the support check lets through, and how many honest ones it rejects.

Runs the LLM writer's check (``LLMComposer.checked``, what ``enforce`` applies to every sentence
of a model's answer) on ``eval/llm_claims.jsonl``: claims over the two seed articles, each with
the passages the model was given (whole articles, so every sentence and adjacent pair can support
it) and the marker it wrote. Three checks are compared: content words and cosine only; plus the
names and numbers a claim states (main before issue 15 item 5); the shipped default, which adds
spaCy's amounts and dates, the split into clauses, sentence pairs only inside a paragraph and the
run of unmatched words. Real MiniLM, no LLM server needed.

``eval/llm_claims_heldout.jsonl`` holds 39 claims written after the check was calibrated, over
BBC and Reuters articles (``"corpus"``; read from ``../shared/corpora``): the held-out figures.
``_heldout2`` (50) and ``_heldout3`` (40) were written on 2026-12-03 by a writer who read no code
of the checker; the paraphrase mechanisms of that day were fitted on ``_heldout2``, so
``_heldout3`` is the out-of-sample set. ``_heldout4`` (44) was written the same way later that day,
before the two-sentence support was fitted on the other four sets: it is the out-of-sample set of that.

    python scripts/measure_llm_support.py [--set eval/llm_claims.jsonl] [--json OUT.json]
    python scripts/measure_llm_support.py --set eval/llm_claims_heldout.jsonl
    python scripts/measure_llm_support.py --set eval/llm_claims_heldout3.jsonl
    python scripts/measure_llm_support.py --set eval/llm_claims_heldout4.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rag import file_articles
from rag.answer.claim_check import fallback_entities, tagged_entities
from rag.embed.embedding import get_embedder
from rag.answer.factory import make_composer
from rag.answer.llm import Claim, LLMComposer, cited_windows
from rag.schema import Passage
from rag.text.sentences import get_splitter
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# Each check: LLMComposer keywords, then attributes set on it (the first two are the checks as
# they were: sentence pairs across paragraphs, no run of unmatched words).
BEFORE = {"max_unmatched_run": None, "pairs_across_paragraphs": True, "two_sentence_support": False}
CHECKS = {
    "words and cosine": ({"entities": None, "split": False}, BEFORE),
    "+ names and numbers (main)": ({"entities": fallback_entities, "split": False}, BEFORE),
    "+ spaCy amounts, clauses, paragraphs, unmatched runs": ({"entities": tagged_entities, "split": True}, {}),
}


class CachedEmbedder:
    """The real embedder, each text encoded once: every item is checked against the same windows."""

    def __init__(self, embedder) -> None:
        self.embedder, self.cache = embedder, {}

    def encode(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if new:
            self.cache.update(zip(new, self.embedder.encode(new)))
        return np.stack([self.cache[t] for t in texts])


CORPORA = {"bbc": ROOT.parent / "shared" / "corpora" / "bbc", "reuters": ROOT.parent / "shared" / "corpora" / "reuters"}


def seed_passage(n: int, name: str) -> Passage:
    text = (ROOT / "seeds" / name).read_text(encoding="utf-8")
    return Passage(n, name, text.splitlines()[0], text, 0, len(text), 1.0)


def corpus_passage(n: int, corpus: str, name: str) -> Passage:
    """A whole article of ``../shared/corpora/CORPUS`` as the index reads it (front matter and title split off)."""
    article = file_articles(CORPORA[corpus] / name, name)[0]
    return Passage(n, name, article.title, article.text, 0, len(article.text), 1.0, date=article.date)


def item_passages(item: dict) -> list[Passage]:
    corpus = item.get("corpus", "seeds")
    if corpus == "seeds":
        return [seed_passage(n, name) for n, name in enumerate(item["passages"])]
    return [corpus_passage(n, corpus, name) for n, name in enumerate(item["passages"])]


def outcome(composer: LLMComposer, item: dict) -> dict:
    """``passed`` (cited as written), ``split`` (some clauses cited, the rest flagged) or ``rejected``,
    and whether a cited part states the item's invented ``detail``."""
    windows = composer.windows(item_passages(item))
    parts, supports = composer.checked([Claim(item["claim"], list(item["cited"]))], windows)
    cited = [p.text for p, s in zip(parts, supports) if s]
    kind = "passed" if len(parts) == 1 and cited else "split" if cited else "rejected"
    detail = item.get("detail", "").lower()
    # What the reader sees: each cited part's quotes, as ``enforce`` picks them. A splice cited to
    # the other article's sentence that states it is true and checkable; a detail no quote holds is not.
    quotes = [[w.text for w in cited_windows(p, s)] for p, s in zip(parts, supports) if s]
    unquoted = bool(detail) and any(detail in c.lower() and not any(detail in q.lower() for q in qs)
                                    for c, qs in zip(cited, quotes))
    return {"outcome": kind, "cited": cited, "quotes": quotes,
            "detail_cited": bool(detail) and any(detail in c.lower() for c in cited), "detail_unquoted": unquoted}


def summarise(items: list[dict], results: list[dict]) -> dict:
    bad = [r for i, r in zip(items, results) if i["kind"] != "honest"]
    honest = [r for i, r in zip(items, results) if i["kind"] == "honest"]
    with_detail = [r for i, r in zip(items, results) if i["kind"] != "honest" and i.get("detail")]
    return {
        "bad": len(bad),
        "bad_passed": sum(r["outcome"] == "passed" for r in bad),
        "bad_split": sum(r["outcome"] == "split" for r in bad),
        "detail_items": len(with_detail),
        "detail_cited": sum(r["detail_cited"] for r in with_detail),
        "detail_unquoted": sum(r["detail_unquoted"] for r in with_detail),
        "honest": len(honest),
        "honest_rejected": sum(r["outcome"] == "rejected" for r in honest),
        "honest_split": sum(r["outcome"] == "split" for r in honest),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=ROOT / "eval" / "llm_claims.jsonl")
    parser.add_argument("--json", type=Path, help="write every item's outcome under each check here")
    args = parser.parse_args()
    items = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    missing = sorted({c for c in (i.get("corpus", "seeds") for i in items) if c != "seeds" and not CORPORA[c].is_dir()})
    if missing:
        raise SystemExit(f"error: {args.set.name} needs ../shared/corpora/{missing[0]}, which is absent")
    settings = Settings()
    embedder, splitter = CachedEmbedder(get_embedder(settings.model)), get_splitter("pysbd")
    report = {}
    print("| check | invented/spliced passed as written | split: supported clauses cited, the rest flagged "
          "| invented detail cited | ... to a quote that does not hold it | honest rejected | honest split |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, (options, attributes) in CHECKS.items():
        composer = make_composer("llm", embedder, splitter, settings, **options)
        for attribute, value in attributes.items():
            setattr(composer, attribute, value)
        results = [outcome(composer, item) for item in items]
        s = summarise(items, results)
        report[name] = {"summary": s, "items": {i["id"]: r for i, r in zip(items, results)}}
        print(f"| {name} | {s['bad_passed']}/{s['bad']} | {s['bad_split']}/{s['bad']} "
              f"| {s['detail_cited']}/{s['detail_items']} | {s['detail_unquoted']}/{s['detail_items']} | {s['honest_rejected']}/{s['honest']} | {s['honest_split']}/{s['honest']} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
