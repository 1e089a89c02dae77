"""Entity-level support: the names, numbers and dates a claim states must occur in its quote.

A sentence can share most of its words with a quote and still join two stories: "The delegation
visited a military unit in Azerbaijan, where they discussed ongoing cooperation between Armenia
and NATO" is close to a quote about Armenia and NATO, which never names Azerbaijan. The check
takes the claim's entities from any tagger (``Entities``: text -> entity strings); the fallback
here reads numbers and capitalised words, month names and multi-word names included.

>>> missing_entities(fallback_entities("He met Ilham Aliyev in Baku in 2023."), "Ilham Aliyev spoke in 2023.")
['Baku']
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from rag.text.terms import STOPWORDS

__all__ = ["Entities", "fallback_entities", "missing_entities"]

Entities = Callable[[str], Iterable[str]]

NUMBER = re.compile(r"\d(?:[\d,.]*\d)?")
# A run of capitalised words ("Lt. Gen. Janusz Adamczyk", "Nagorno-Karabakh", "NATO's").
NAME = re.compile(r"[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*")
WORD = re.compile(r"\w+")
# Word stems this long or longer match across endings: "Uzbek" / "Uzbekistan", "Armenia" / "Armenian".
STEM = 5


def fallback_entities(text: str) -> list[str]:
    """Numbers and capitalised names of ``text``; its first word only when it is no function word
    ("The", "About" open sentences; "Pashinyan" opens them too)."""
    found = [n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)]
    for match in NAME.finditer(text):
        words = match.group(0).split()
        if match.start() == 0 and words[0].lower().strip(".") in STOPWORDS:
            words = words[1:]
        words = [w for w in words if w.lower().strip(".’'") not in STOPWORDS]
        if words:
            found.append(re.sub(r"(\w{3,})\.$", r"\1", " ".join(words)))  # a full stop, not "Gen."
    return found


def _mentions(word: str, words: set[str]) -> bool:
    word = re.sub(r"[’']s$", "", word.lower())
    if word in words:
        return True
    stem = word[: max(STEM, len(word) - 3)]
    return len(word) >= STEM and any(w.startswith(stem) or (len(w) >= STEM and word.startswith(w)) for w in words)


def missing_entities(entities: Iterable[str], text: str) -> list[str]:
    """The ``entities`` that ``text`` does not mention, each word of a name checked on its own
    (case-insensitive; "Lieutenant General Mustafa Oguz" is found in "General Oguz ... Mustafa")."""
    words = {w.lower() for w in WORD.findall(text.replace(",", ""))} | set(NUMBER.findall(text.replace(",", "")))
    missing = []
    for entity in entities:
        parts = [p for p in WORD.findall(entity.replace(",", "")) if p.lower() not in STOPWORDS]
        if NUMBER.fullmatch(entity):
            parts = [entity]
        if any(not _mentions(p, words) for p in parts):
            missing.append(entity)
    return missing
