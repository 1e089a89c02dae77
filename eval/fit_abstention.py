"""Fit the abstention model on the eval sets: ``python -m eval.fit_abstention``.

Every item's abstention signals (rag.abstention.features) are computed with the shipped
retriever; a logistic regression separates answerable from unanswerable items; the
threshold is the highest that keeps false abstention on answerable items at or under
``--max-false`` in the training data. Leave-one-set-out scores (fit on one set, test
on the other) are printed beside the pooled fit, so the numbers are not only in-sample.
Writes rag/abstention.json.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import rag
from eval.dataset import load_set, resolve_set
from eval.harness import index_for
from rag.abstention import FEATURES, MODEL_FILE, AbstentionModel
from rag.composer import candidates


def item_signals(assistant: rag.Assistant, eval_set) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels (1 = answerable) for the items that have candidate sentences."""
    rows, labels = [], []
    for item in eval_set.items:
        query = assistant.query_for(item.question, item.history)
        passages = assistant.search(query, k=assistant.settings.k)
        found = candidates(passages, assistant.splitter)
        if not found:
            continue
        ranked, _ = assistant.composer.score(item.question, found)
        signals = assistant.composer.signals(item.question, ranked, passages)
        rows.append([signals[name] for name in FEATURES])
        labels.append(int(item.answerable))
    return np.array(rows), np.array(labels)


def fit(x: np.ndarray, y: np.ndarray, max_false: float, embedding_model: str = "") -> AbstentionModel:
    from sklearn.linear_model import LogisticRegression

    # Every signal should only ever argue for "answerable". Correlated signals can get
    # negative weights that fit these sets but misbehave on unseen articles, so features
    # with a negative weight are dropped and the rest refitted until all weights are >= 0.
    kept = list(range(len(FEATURES)))
    while True:
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(x[:, kept], y)
        negative = [kept[i] for i, w in enumerate(model.coef_[0]) if w < 0]
        if not negative:
            break
        kept = [i for i in kept if i not in negative]
    weights = {FEATURES[i]: float(w) for i, w in zip(kept, model.coef_[0])}
    probabilities = model.predict_proba(x[:, kept])[:, 1]
    threshold = float(np.quantile(probabilities[y == 1], max_false)) if (y == 1).any() else 0.5
    return AbstentionModel(weights, float(model.intercept_[0]), threshold, embedding_model)


def scores(model: AbstentionModel, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Abstention precision, recall and false-abstention rate of ``model`` on rows ``x``."""
    abstain = np.array([model.probability(dict(zip(FEATURES, row))) < model.threshold for row in x])
    unanswerable = y == 0
    return {
        "abstention.precision": float((abstain & unanswerable).sum() / max(abstain.sum(), 1)),
        "abstention.recall": float((abstain & unanswerable).sum() / max(unanswerable.sum(), 1)),
        "abstention.false_rate": float((abstain & ~unanswerable).sum() / max((~unanswerable).sum(), 1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", default=["seeds", "bbc"])
    parser.add_argument("--max-false", type=float, default=0.05, help="false-abstention budget on the training items")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write rag/abstention.json")
    args = parser.parse_args()
    data = {}
    for name in args.sets:
        if not resolve_set(name)[2].is_dir():
            print(f"skipping {name}: corpus not here")
            continue
        eval_set = load_set(name)
        assistant = rag.Assistant.load(index_for(eval_set, None, progress=False))
        data[name] = item_signals(assistant, eval_set)
        embedding_model = assistant.settings.model
    x = np.vstack([d[0] for d in data.values()])
    y = np.concatenate([d[1] for d in data.values()])
    pooled = fit(x, y, args.max_false, embedding_model)
    report = {"pooled (in-sample)": {name: scores(pooled, *data[name]) for name in data}}
    for held_out in data if len(data) > 1 else []:
        rest = [n for n in data if n != held_out]
        model = fit(np.vstack([data[n][0] for n in rest]), np.concatenate([data[n][1] for n in rest]), args.max_false)
        report[f"fit on {'+'.join(rest)}, tested on {held_out}"] = {held_out: scores(model, *data[held_out])}
    print(json.dumps({"model": pooled.to_dict(), "scores": report}, indent=1))
    if not args.dry_run:
        payload = {**pooled.to_dict(), "features": list(FEATURES), "fitted_on": {n: int(len(d[1])) for n, d in data.items()},
                   "max_false": args.max_false, "scores": report}
        MODEL_FILE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
