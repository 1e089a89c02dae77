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

import re

import numpy as np
from signal_measure import held_out, load

import eval.fit_abstention as fit
from rag.text.terms import names

EXTRA = ("relation_similarity",)
HAND_PICKED = ("relation_similarity", "names_found", "answer_constraints", "relevance")


def without_names(text: str) -> str:
    """``text`` with its names and numbers taken out: what it says about them."""
    for name in sorted(set(names(text)), key=len, reverse=True):
        text = text.replace(name, " ")
    return re.sub(r"\s+", " ", text).strip()


def relation_similarity(assistant, item, ranking) -> list[float]:
    """The best sentence's similarity to the question without its names and numbers."""
    relation = without_names(item.question) or item.question
    vectors = assistant.embedder.encode([relation, ranking.sentences[0].text])
    return [float(vectors[0] @ vectors[1])]


def best_recall(folds, feature_sets) -> float:
    """The mean held-out recall of ``folds`` (``fit.inner_folds``), each fitted on its own signals of
    ``feature_sets``, at the budget that abstains most while every fold's false abstention stays
    within target (as ``fit.choose_max_false`` picks it); -1 when no budget does or nothing can be fitted."""
    best = -1.0
    for budget in fit.BUDGETS:
        try:
            held = [fit.scores(fit.fit(*train, budget, features=f), *test) for (train, test), f in zip(folds, feature_sets)]
        except ValueError:  # every signal got a negative weight and was dropped: nothing to fit
            return -1.0
        if max(h["abstention.false_rate"] for h in held) <= fit.TARGET_FALSE:
            best = max(best, float(np.mean([h["abstention.recall"] for h in held])))
    return best


def forward_selection(parts, candidates: tuple[str, ...], min_gain: float = 0.01) -> tuple[str, ...]:
    """Signals added one at a time while the training sets' own held-out recall (``best_recall`` over
    ``inner_folds``) gains at least ``min_gain``."""
    folds = fit.inner_folds(parts)
    chosen, best = (), -1.0
    while len(chosen) < len(candidates):
        gain, feature = max((best_recall(folds, [chosen + (f,)] * len(folds)), f) for f in candidates if f not in chosen)
        if gain < best + min_gain:
            break
        chosen, best = chosen + (feature,), gain
    return chosen or candidates


def strongest(k: int, candidates: tuple[str, ...]):
    """A chooser of the ``k`` signals with the largest weight x spread in a fit on the training sets alone."""
    def choose(parts) -> tuple[str, ...]:
        x, y = fit._stack(parts)
        model = fit.fit(x, y, 0.03, features=candidates)  # the budget sets only the threshold, not the weights
        spread = {f: float(x[:, fit.FEATURES.index(f)].std()) for f in model.weights}
        return tuple(sorted(model.weights, key=lambda f: -model.weights[f] * spread[f])[:k])
    return choose


def inner_k(candidates: tuple[str, ...], ks: tuple[int, ...] = (3, 4, 5, 6, 8)):
    """A chooser that picks k for ``strongest`` on the training sets alone: the k with the best
    ``best_recall`` over ``inner_folds``, each fold's signals chosen on its own training part (the
    smaller k on a tie)."""
    ks = ks + (len(candidates),)

    def recall(folds, k: int) -> float:
        return best_recall(folds, [strongest(k, candidates)([train]) for train, _ in folds])

    def choose(parts) -> tuple[str, ...]:
        folds = fit.inner_folds(parts)
        k = max(ks, key=lambda k: (recall(folds, k), -k))
        return strongest(k, candidates)(parts)
    return choose


def main() -> None:
    data = load(__doc__.splitlines()[0], EXTRA, relation_similarity, ("sentence_similarity",) + EXTRA)
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
