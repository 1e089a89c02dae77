"""Measure one more abstention signal held out (README, "Knowing when the answer is not there"): the best
sentence's similarity to the question *without its names and numbers* ("What prison sentence was given?"
for "What prison sentence was Scott Sullivan given?"), so that a sentence that only names the question's
people scores lower than one that says what is asked about them. Not shipped: it bought no held-out recall.

    python scripts/measure_relation_similarity.py --index seeds=DIR --index bbc=DIR --index reuters=DIR

Prints each set's ROC AUC (answerable vs not) of the sentence similarity and of this one, then the held-out
abstention precision, recall and false abstention of eval/fit_abstention.py's models (each set held out in
turn): the shipped signals, the shipped signals with this one, signals chosen by forward selection on the
training sets alone, a four-signal model chosen by hand *after* seeing the shipped model's weights on
all three sets (so its held-out figures are not out of sample), and the k strongest shipped signals of a
fit on the training sets alone (weight x spread), k = 3 ... 6, and with k chosen on the training sets.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval.fit_abstention as fit  # noqa: E402
import rag  # noqa: E402
from eval.dataset import load_set  # noqa: E402
from eval.harness import index_for  # noqa: E402
from rag.text.terms import names  # noqa: E402

EXTRA = ("relation_similarity",)
HAND_PICKED = ("relation_similarity", "names_found", "answer_constraints", "relevance")


def without_names(text: str) -> str:
    """``text`` with its names and numbers taken out: what it says about them."""
    for name in sorted(set(names(text)), key=len, reverse=True):
        text = text.replace(name, " ")
    return re.sub(r"\s+", " ", text).strip()


def rows(name: str, index: Path) -> tuple[np.ndarray, np.ndarray]:
    eval_set = load_set(name)
    assistant = rag.Assistant.load(index_for(eval_set, index, progress=False))
    x, y = [], []
    for item in eval_set.items:
        ranking = assistant.ranking(item.question, item.history, as_of=item.as_of)
        signals = assistant.abstention_signals(item.question, item.history, as_of=item.as_of)
        if not ranking.sentences or signals is None:
            continue
        best = ranking.sentences[0]
        relation = without_names(item.question) or item.question
        vectors = assistant.embedder.encode([relation, best.text])
        x.append([signals[f] for f in fit.FEATURES] + [float(vectors[0] @ vectors[1])])
        y.append(int(item.answerable))
    return np.array(x), np.array(y)


def forward_selection(parts, candidates: tuple[str, ...], min_gain: float = 0.01) -> tuple[str, ...]:
    """Signals added one at a time while the training sets' own held-out recall (``inner_folds``, at the
    budget ``choose_max_false`` would pick) gains at least ``min_gain``."""
    def recall(features):
        folds = fit.inner_folds(parts)
        best = -1.0
        for budget in fit.BUDGETS:
            try:
                held = [fit.scores(fit.fit(*train, budget, features=features), *test) for train, test in folds]
            except ValueError:  # every signal got a negative weight and was dropped: nothing to fit
                return -1.0
            if max(h["abstention.false_rate"] for h in held) <= fit.TARGET_FALSE:
                best = max(best, float(np.mean([h["abstention.recall"] for h in held])))
        return best

    chosen, best = (), -1.0
    while len(chosen) < len(candidates):
        gain, feature = max((recall(chosen + (f,)), f) for f in candidates if f not in chosen)
        if gain < best + min_gain:
            break
        chosen, best = chosen + (feature,), gain
    return chosen or candidates


def strongest(k: int, candidates: tuple[str, ...]):
    """A chooser of the ``k`` signals with the largest weight x spread in a fit on the training sets alone."""
    def choose(parts) -> tuple[str, ...]:
        x, y = fit._stack(parts)
        model = fit.fit(x, y, 0.03, features=candidates)
        spread = {f: float(x[:, fit.FEATURES.index(f)].std()) for f in model.weights}
        return tuple(sorted(model.weights, key=lambda f: -model.weights[f] * spread[f])[:k])
    return choose


def inner_k(candidates: tuple[str, ...], ks: tuple[int, ...] = (3, 4, 5, 6, 8)):
    """A chooser that picks k for ``strongest`` on the training sets alone: the k whose models abstain
    most on the held-out parts of ``inner_folds`` (each fold's signals chosen on its own training part,
    at the best budget keeping every fold's false abstention within target; the smaller k on a tie)."""
    ks = ks + (len(candidates),)

    def recall(parts, k: int) -> float:
        folds = fit.inner_folds(parts)
        chosen = [strongest(k, candidates)([train]) for train, _ in folds]
        best = -1.0
        for budget in fit.BUDGETS:
            held = [fit.scores(fit.fit(*train, budget, features=f), *test) for (train, test), f in zip(folds, chosen)]
            if max(h["abstention.false_rate"] for h in held) <= fit.TARGET_FALSE:
                best = max(best, float(np.mean([h["abstention.recall"] for h in held])))
        return best

    def choose(parts) -> tuple[str, ...]:
        k = max(ks, key=lambda k: (recall(parts, k), -k))
        return strongest(k, candidates)(parts)
    return choose


def held_out(data, features_for) -> str:
    held = []
    for name in data:
        parts = [data[n] for n in data if n != name]
        features = features_for(parts)
        budget = fit.choose_max_false(parts, features)
        model = fit.fit(*fit._stack(parts), budget, features=features)
        s = fit.scores(model, *data[name])
        held.append(f"{name} P {s['abstention.precision']:.2f} R {s['abstention.recall']:.2f} "
                    f"F {s['abstention.false_rate']:.3f} (budget {budget}, {len(model.weights)} signals)")
    return " | ".join(held)


def main() -> None:
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", action="append", required=True, help="SET=FOLDER, once per set")
    args = parser.parse_args()
    data = {name: rows(name, Path(folder)) for name, folder in (pair.split("=", 1) for pair in args.index)}
    fit.FEATURES = fit.FEATURES + EXTRA  # the fitting code indexes rows by this tuple
    for name, (x, y) in data.items():
        print(name, {f: round(roc_auc_score(y, x[:, fit.FEATURES.index(f)]), 3) for f in ("sentence_similarity",) + EXTRA})
    candidates = fit.DEFAULT_FEATURES + EXTRA
    print("shipped signals:", held_out(data, lambda parts: fit.DEFAULT_FEATURES))
    print("+ relation_similarity:", held_out(data, lambda parts: candidates))
    print("forward selection on the training sets:", held_out(data, lambda parts: forward_selection(parts, candidates)))
    print("hand-picked four (chosen after seeing all sets):", held_out(data, lambda parts: HAND_PICKED))
    for k in (3, 4, 5, 6):
        print(f"the {k} strongest shipped signals of each training fit:", held_out(data, strongest(k, fit.DEFAULT_FEATURES)))
    print("k chosen by inner folds on the training sets:", held_out(data, inner_k(fit.DEFAULT_FEATURES)))


if __name__ == "__main__":
    main()
