"""Rewrite a follow-up question into a self-contained retrieval query, without an LLM.

"Which centre did he tour?" after "Who led the NATO delegation to Uzbekistan?" is
searched as the question plus what it leans on: the names and key terms of the
recent turns. A question that leans on nothing (no pronoun or "there", no ellipsis
such as "And in Armenia?", enough content of its own) is left alone, so an
unrelated new question is not dragged back to the old topic.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from rag.text.markers import strip_markers
from rag.text.terms import content_terms, names

# Words that point back at something said before.
ANAPHORA = frozenset(
    "he him his she her hers it its they them their theirs there then that those these this such "
    "former latter same other another above".split()
)
ELLIPSIS = re.compile(r"^\s*(and|but|also|what about|how about|and what about|so|then|or)\b", re.I)
DEFINITE_BACKREF = re.compile(r"\bthe (same|company|firm|group|film|show|team|club|player|man|woman|country|city|town|"
                              r"deal|case|report|event|plan|bill|game|album|band|minister|official|delegation|visit|"
                              r"article|story|centre|center|unit|ministry|government|side|match)\b", re.I)
# A question with at least this many content terms of its own and no pointer back stands alone.
SELF_CONTAINED_TERMS = 4
CARRIED_TURNS = 2


def turn_text(turn: tuple[str, str] | Mapping[str, str]) -> tuple[str, str]:
    """``(question, answer)`` from a tuple or a ``{"question", "answer"}`` mapping."""
    if isinstance(turn, Mapping):
        return str(turn.get("question") or ""), str(turn.get("answer") or "")
    question, answer = turn
    return str(question or ""), str(answer or "")


def depends_on_history(question: str) -> bool:
    """Does the question lean on earlier turns (pronoun, ellipsis, "the company", too little content)?"""
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", question)}
    if words & ANAPHORA or ELLIPSIS.match(question) or DEFINITE_BACKREF.search(question):
        return True
    return len(content_terms(question)) < SELF_CONTAINED_TERMS and not names(question)


def rewrite_query(question: str, history: Sequence[tuple[str, str] | Mapping[str, str]] | None) -> str:
    """The retrieval query for ``question`` after ``history`` (oldest turn first).

    >>> rewrite_query("Which centre did he tour?", [("Who led the NATO delegation to Uzbekistan?", "Lt. Gen. Janusz Adamczyk [1]")])
    'Which centre did he tour? NATO Uzbekistan Lt. Gen. Janusz Adamczyk'
    """
    if not history or not depends_on_history(question):
        return question
    own = {term for term in content_terms(question)}
    carried: list[str] = []
    for turn in list(history)[-CARRIED_TURNS:][::-1]:
        asked, answered = turn_text(turn)
        for phrase in names(asked) + names(strip_markers(answered))[:4]:
            if phrase not in carried and not set(content_terms(phrase)) <= own:
                carried.append(phrase)
    if not carried:  # nothing named before: fall back on the last question's key terms
        asked, _ = turn_text(list(history)[-1])
        carried = [w for w in re.findall(r"\w+", asked) if content_terms(w)]
    return f"{question} {' '.join(carried)}".strip()


class FollowupRewriter:
    """The rule-based ``QueryRewriter``: a follow-up carries the names of the turns it leans on."""

    def rewrite(self, question: str, history: Sequence[tuple[str, str] | Mapping[str, str]] | None) -> str:
        return rewrite_query(question, history)
