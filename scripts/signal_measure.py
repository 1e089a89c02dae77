"""What the scripts measuring one more abstention signal share (``measure_answer_proximity.py``,
``measure_relation_similarity.py``): every eval item's shipped signals plus the new ones, each
signal's ROC AUC, and held-out abstention figures of eval/fit_abstention.py's models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval.fit_abstention as fit  # noqa: E402
import rag  # noqa: E402
from eval.dataset import load_set  # noqa: E402
from eval.harness import index_for  # noqa: E402

# The new signals of an item: f(assistant, item, ranking) -> one value per new signal.
Extra = Callable[[rag.Assistant, object, rag.Ranking], list[float]]


def rows(name: str, index: Path, extra: Extra) -> tuple[np.ndarray, np.ndarray]:
    """Each item's shipped signals (``fit.FEATURES``) then ``extra``'s, and its label (1 = answerable)."""
    eval_set = load_set(name)
    assistant = rag.Assistant.load(index_for(eval_set, index, progress=False))
    x, y = [], []
    for item in eval_set.items:
        ranking = assistant.ranking(item.question, item.history, as_of=item.as_of)
        signals = assistant.abstention_signals(item.question, item.history, as_of=item.as_of)
        if ranking.sentences and signals is not None:
            x.append([signals[f] for f in fit.FEATURES] + extra(assistant, item, ranking))
            y.append(int(item.answerable))
    return np.array(x), np.array(y)


def load(description: str, names: tuple[str, ...], extra: Extra, auc_of: tuple[str, ...]) -> dict:
    """Rows of every ``--index SET=FOLDER``, with ``names`` appended to ``fit.FEATURES`` (the fitting
    code indexes rows by that tuple); prints the ROC AUC of the signals ``auc_of`` per set."""
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--index", action="append", required=True, help="SET=FOLDER, once per set")
    args = parser.parse_args()
    data = {name: rows(name, Path(folder), extra) for name, folder in (pair.split("=", 1) for pair in args.index)}
    fit.FEATURES = fit.FEATURES + names
    for name, (x, y) in data.items():
        print(name, {f: round(roc_auc_score(y, x[:, fit.FEATURES.index(f)]), 3) for f in auc_of})
    return data


def held_out(data: dict, features_for: Callable[[list], tuple[str, ...]]) -> str:
    """Each set held out in turn: the model fitted on the others (signals ``features_for`` them, the
    budget chosen on them), its abstention precision, recall and false abstention on the held-out set."""
    held = []
    for name in data if len(data) > 1 else []:
        parts = [data[n] for n in data if n != name]
        model, budget = fit.fitted(parts, None, "", features_for(parts))
        s = fit.scores(model, *data[name])
        held.append(f"{name} P {s['abstention.precision']:.2f} R {s['abstention.recall']:.2f} "
                    f"F {s['abstention.false_rate']:.3f} (budget {budget}, {len(model.weights)} signals)")
    return " | ".join(held)
