"""The prompt's own scaffold, as a small model sometimes writes it back in its answer.

SmolLM2-135M on llama.cpp, over the seeds and over Reuters, began replies with "Question: <the
question>", wrote back the prompt's delimiter ("BEGIN ARTICLES dd7bdabbc1f6") and a passage's label
line ("[2] Title | 1987-03-02 | Reuters"), and labelled itself "Answer:". Such lines say nothing
about the articles: they are left out of the checked answer (``Scaffold.without``) and held back
from the live draft (``live_draft``), so the reader never sees them as the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator

# Hex digits of the tag on the prompt's delimiters ("BEGIN ARTICLES 1a2b3c4d5e6f").
TAG_LENGTH = 12
DELIMITER = re.compile(rf"\b(?:BEGIN|END) ARTICLES [0-9a-f]{{{TAG_LENGTH}}}\b")
# A delimiter still being written: "BEG", "END ARTICLES 1a2".
DELIMITER_BEGUN = re.compile(rf"(?:BEGIN|END)(?: ARTICLES(?: [0-9a-f]{{0,{TAG_LENGTH}}})?)?\s*")
HEADS = ("BEGIN ARTICLES ", "END ARTICLES ")
# A reply that labels itself the way the prompt labels the question ("Answer: The harbour cost...").
ANSWER_LABEL = re.compile(r"^\s*Answer:\s*")
LABEL_WORD = "Answer:"


@dataclass(frozen=True)
class Scaffold:
    """The lines a reply may write back from its prompt: the passage labels and the question
    (``labels``), and any line made only of delimiters."""

    labels: frozenset[str]

    @classmethod
    def of(cls, label_lines: Iterable[str], asked: str) -> Scaffold:
        """The scaffold of a prompt whose passages are labelled ``label_lines`` ("[2] Title | date")
        and which asks ``asked``; a label is also recognised without its "[n] "."""
        labels = set(label_lines)
        labels |= {label.split("] ", 1)[1] for label in labels if "] " in label}
        return cls(frozenset(labels | {asked.strip(), f"Question: {asked.strip()}"}))

    def echoes(self, line: str) -> bool:
        """Whether the whole ``line`` only repeats the scaffold (an "Answer:" label aside)."""
        bare = DELIMITER.sub("", ANSWER_LABEL.sub("", line)).strip()
        return bool(line.strip()) and (not bare or bare in self.labels)

    def may_echo(self, begun: str) -> bool:
        """Whether a line that begins ``begun`` could still turn out to repeat the scaffold."""
        text = ANSWER_LABEL.sub("", begun).lstrip()
        if not text or LABEL_WORD.startswith(text) or DELIMITER_BEGUN.fullmatch(text):
            return True
        return any(head.startswith(text) for head in HEADS) or any(s.startswith(text) for s in self.labels)

    def without(self, written: str) -> tuple[str, int]:
        """``written`` without the lines that only repeat the scaffold and without "Answer:"
        labels; and how many lines went."""
        lines = written.split("\n")
        kept = [ANSWER_LABEL.sub("", line) for line in lines if not self.echoes(line)]
        return "\n".join(kept), len(lines) - len(kept)


def live_draft(deltas: Iterable[str], scaffold: Scaffold) -> Iterator[str]:
    """``deltas`` as the reader should see them while they come: a line is held back while it may
    still repeat the ``scaffold``, dropped when it does, shown (without an "Answer:" label) from
    the moment it cannot. Joined, the pieces are ``scaffold.without`` of the joined deltas."""
    held, showing, lines_shown, ended = "", False, 0, False
    for delta in deltas:
        for piece in re.split(r"(?<=\n)", delta):
            if not piece:
                continue
            done = ended = piece.endswith("\n")
            piece = piece.removesuffix("\n")  # a line's newline goes out before the next shown line
            if showing:
                yield piece
            else:
                held += piece
                if (done or not scaffold.may_echo(held)) and not scaffold.echoes(held):
                    yield "\n" * bool(lines_shown) + ANSWER_LABEL.sub("", held)
                    lines_shown, showing = lines_shown + 1, True
            if done:
                held, showing = "", False
    if (held or ended) and not showing and not scaffold.echoes(held):
        yield "\n" * bool(lines_shown) + ANSWER_LABEL.sub("", held)
