"""Measure one more abstention signal held out (README, "Knowing when the answer is not there"): how close
the asked-for entity sits to the question's words in the answer sentence (``closeness``, which already
ranks answer spans). Not shipped: it bought no held-out recall.

    python scripts/measure_answer_proximity.py --index seeds=/work/idx/eval-seeds --index bbc=... --index reuters=...

Prints each signal's ROC AUC (answerable vs not) per set, then the held-out abstention precision, recall
and false abstention of eval/fit_abstention.py's models with and without it (each set held out in turn).
"""

from __future__ import annotations

from signal_measure import held_out, load

import eval.fit_abstention as fit
from rag.answer.answer_types import expected_kinds
from rag.answer.composer import ANSWER_WINDOW, closeness
from rag.answer.entities import answer_entities

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


def main() -> None:
    data = load(__doc__.splitlines()[0], EXTRA, lambda _, item, ranking: proximity(item.question, ranking.sentences, ranking.span),
                EXTRA)
    for label, features in (("shipped signals", fit.DEFAULT_FEATURES), ("+ answer_near", fit.DEFAULT_FEATURES + EXTRA[:1]),
                            ("+ answer_near_any", fit.DEFAULT_FEATURES + EXTRA[1:])):
        print(f"{label}: " + held_out(data, lambda parts, features=features: features))


if __name__ == "__main__":
    main()
