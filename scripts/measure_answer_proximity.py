"""Measure one more abstention signal held out (README, "Knowing when the answer is not there"): how close
the asked-for entity sits to the question's words in the answer sentence (``closeness``, which already
ranks answer spans). Not shipped: it bought no held-out recall.

    python scripts/measure_answer_proximity.py --index seeds=/work/idx/eval-seeds --index bbc=... --index reuters=...

Prints each signal's ROC AUC (answerable vs not) per set, then the held-out abstention precision, recall
and false abstention of eval/fit_abstention.py's models with and without it (each set held out in turn).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval.fit_abstention as fit  # noqa: E402
import rag  # noqa: E402
from eval.dataset import load_set  # noqa: E402
from eval.harness import index_for  # noqa: E402
from rag.answer.answer_types import expected_kinds  # noqa: E402
from rag.answer.composer import ANSWER_WINDOW, closeness  # noqa: E402
from rag.answer.entities import answer_entities  # noqa: E402

EXTRA = ("answer_near", "answer_near_any")


def proximity(question: str, ranked, span) -> list[float]:
    """Closeness of the answer span's entity in the answer sentence, and the best of any asked-for entity
    in the first ``ANSWER_WINDOW`` sentences (1 when no kind is asked, 0 when none is found)."""
    kinds = expected_kinds(question)
    if kinds is None:
        return [1.0, 1.0]
    near = closeness(span.entity, ranked[0].text, question) if span else 0.0
    near_any = max((closeness(e, c.text, question) for c in ranked[:ANSWER_WINDOW]
                    for e in answer_entities(c.text, kinds, question)), default=0.0)
    return [near, near_any]


def rows(name: str, index: Path) -> tuple[np.ndarray, np.ndarray]:
    eval_set = load_set(name)
    assistant = rag.Assistant.load(index_for(eval_set, index, progress=False))
    x, y = [], []
    for item in eval_set.items:
        ranking = assistant.ranking(item.question, item.history, as_of=item.as_of)
        signals = assistant.abstention_signals(item.question, item.history, as_of=item.as_of)
        if ranking.sentences and signals is not None:
            x.append([signals[f] for f in fit.FEATURES] + proximity(item.question, ranking.sentences, ranking.span))
            y.append(int(item.answerable))
    return np.array(x), np.array(y)


def main() -> None:
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", action="append", required=True, help="SET=FOLDER, once per set")
    args = parser.parse_args()
    data = {name: rows(name, Path(folder)) for name, folder in (pair.split("=", 1) for pair in args.index)}
    fit.FEATURES = fit.FEATURES + EXTRA  # the fitting code indexes rows by this tuple
    for name, (x, y) in data.items():
        print(name, {f: round(roc_auc_score(y, x[:, fit.FEATURES.index(f)]), 3) for f in EXTRA})
    for label, features in (("shipped signals", fit.DEFAULT_FEATURES), ("+ answer_near", fit.DEFAULT_FEATURES + EXTRA[:1]),
                            ("+ answer_near_any", fit.DEFAULT_FEATURES + EXTRA[1:])):
        held = []
        for name in data if len(data) > 1 else []:
            model, budget = fit.fitted([data[n] for n in data if n != name], None, "", features)
            s = fit.scores(model, *data[name])
            held.append(f"{name} P {s['abstention.precision']:.2f} R {s['abstention.recall']:.2f} "
                        f"F {s['abstention.false_rate']:.3f} (budget {budget})")
        print(f"{label}: " + " | ".join(held))


if __name__ == "__main__":
    main()
