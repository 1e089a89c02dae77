"""Fitting the abstention model (eval/fit_abstention.py): the false-abstention budget is chosen on the
training sets alone, and a model can be fitted on fewer signals."""

import subprocess
import sys

import numpy as np
from eval.fit_abstention import BUDGETS, FEATURES, choose_max_false, fit, inner_folds, scores


def one_set(seed: int, answerable: int = 60, traps: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Rows where ``sentence_terms`` mostly separates traps (low) from answerable items (high); every
    other signal is noise; rules never fire."""
    rng = np.random.default_rng(seed)
    y = np.array([1] * answerable + [0] * traps)
    x = rng.uniform(0.2, 0.8, (len(y), len(FEATURES)))
    x[:, FEATURES.index("stated_time")] = 1.0
    column = FEATURES.index("sentence_terms")
    x[:, column] = np.where(y == 1, rng.uniform(0.5, 1.0, len(y)), rng.uniform(0.0, 0.55, len(y)))
    return x, y


def test_fewer_signals_fit_only_those():
    model = fit(*one_set(0), 0.03, features=("sentence_terms", "margin"))
    assert set(model.weights) <= {"sentence_terms", "margin"} and model.weights["sentence_terms"] > 0


def test_inner_folds_hold_out_each_training_set_or_split_a_lone_one():
    parts = [one_set(1), one_set(2), one_set(3)]
    folds = inner_folds(parts)
    assert len(folds) == 3 and all(len(test[1]) == 80 and len(train[1]) == 160 for train, test in folds)
    alone = inner_folds([one_set(4)])
    assert len(alone) == 5 and sum(len(test[1]) for _, test in alone) == 80


def test_the_budget_is_the_one_that_keeps_held_out_false_abstention_within_target():
    parts = [one_set(5), one_set(6), one_set(7)]
    budget = choose_max_false(parts, ("sentence_terms",))
    assert budget in BUDGETS
    for train, test in inner_folds(parts):
        assert scores(fit(*train, budget, features=("sentence_terms",)), *test)["abstention.false_rate"] <= 0.05


def test_without_any_budget_within_target_the_smallest_is_chosen():
    assert choose_max_false([one_set(8), one_set(9)], ("sentence_terms",), target=-1.0) == BUDGETS[0]


def test_an_unknown_signal_is_refused_with_the_choices():
    run = subprocess.run([sys.executable, "-m", "eval.fit_abstention", "--features", "nonsense", "--dry-run"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "unknown signal(s) nonsense" in run.stderr and "sentence_terms" in run.stderr
    assert "Traceback" not in run.stderr
