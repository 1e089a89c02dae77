"""Claims in an LLM's answer: its sentences, the passage numbers it cited, the numbers it states.

The model writes markers loosely ("[1, 2]", "[passage 3]", "【2】", "[1-3]"); ``split_claims``
reads them all, and a marker after the full stop goes with the sentence before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.claim_check import NUMBER
from rag.answer.composer import NOT_FOUND
from rag.schema import Passage
from rag.text.sentences import SentenceSplitter

MARKER = re.compile(r"\s*[\[【](?:passages?\s*)?(\d+(?:\s*(?:,|and|&|-|–)\s*\d+)*)[\]】]", re.I)
THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass(frozen=True)
class Window:
    """One sentence, or two adjacent ones, of a prompt passage: an exact article span. ``also``: a
    further sentence of the same passage that supports the rest of a claim (cited as its own quote)."""

    number: int  # the passage's [n] in the prompt
    passage: Passage
    start: int
    end: int
    text: str
    sentences: int = 1
    also: tuple["Window", ...] = ()


@dataclass
class Claim:
    """A sentence of the generated answer and the passage numbers the model cited for it."""

    text: str
    cited: list[int]


def split_claims(text: str, splitter: SentenceSplitter) -> list[Claim]:
    """Sentences of the model's answer with their markers; a marker written after the
    full stop ("... pounds. [1] Next ...") goes with the sentence before it."""
    text = THINKING.sub("", text)
    claims: list[Claim] = []
    for start, end in splitter.spans(text):
        sentence = text[start:end]
        leading = re.match(r"(?:\s*[\[【][^\]】]{1,20}[\]】])+", sentence)
        if leading and claims and MARKER.match(leading.group()):
            claims[-1].cited += _numbers(leading.group())
            sentence = sentence[leading.end():]
        cited = _numbers(sentence)
        plain = BULLET.sub("", re.sub(r"\s+", " ", MARKER.sub("", sentence))).strip()
        plain = re.sub(r"\s+([.,;:!?])", r"\1", plain)
        if re.search(r"\w", plain):
            claims.append(Claim(plain, cited))
        elif cited and claims:
            claims[-1].cited += cited
    return claims


def _numbers(text: str) -> list[int]:
    found: list[int] = []
    for match in MARKER.finditer(text):
        for a, sep, b in re.findall(r"(\d+)(?:\s*([-–])\s*(\d+))?", match.group(1)):
            if sep and b and 0 <= int(b) - int(a) <= 20:
                found += range(int(a), int(b) + 1)
            else:
                found.append(int(a))
    return found


def number_set(text: str) -> set[str]:
    """The numbers ``text`` states, as written without thousands separators ("5,000" -> "5000")."""
    return {n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)}


def is_not_found(sentence: str) -> bool:
    return NOT_FOUND.lower().rstrip(".") in sentence.lower()
