"""Entity-level support: the names, numbers and dates a claim states must occur in its quote.

A sentence can share most of its words with a quote and still join two stories: "The delegation
visited a military unit in Azerbaijan, where they discussed ongoing cooperation between Armenia
and NATO" is close to a quote about Armenia and NATO, which never names Azerbaijan. The check
takes the claim's entities from any tagger (``Entities``: text -> entity strings); the fallback
here reads numbers and capitalised words, month names and multi-word names included.

>>> missing_entities(fallback_entities("He met Ilham Aliyev in Baku in 2023."), "Ilham Aliyev spoke in 2023.")
['Baku']

A claim that fails as a whole is split at its clause boundaries (``clause_parts``) so that each
part can be checked, and cited, on its own: the splice above becomes "The delegation visited a
military unit in Azerbaijan." and "They discussed ongoing cooperation between Armenia and NATO.",
each supported by its own sentence, and the "where" that joined the two stories is gone.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from rag.answer.entities import entities
from rag.text.terms import STOPWORDS, content_terms

__all__ = ["Entities", "clause_parts", "fallback_entities", "missing_entities", "tagged_entities"]

Entities = Callable[[str], Iterable[str]]

NUMBER = re.compile(r"\d(?:[\d,.]*\d)?")
# A run of capitalised words ("Lt. Gen. Janusz Adamczyk", "Nagorno-Karabakh", "NATO's").
NAME = re.compile(r"[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*")
WORD = re.compile(r"\w+")
# Word stems this long or longer match across endings: "Uzbek" / "Uzbekistan", "Armenia" / "Armenian".
STEM = 5
# Where one clause ends and another begins: a semicolon or colon, or a comma before a word that
# opens a clause. Relative "who"/"which" are left alone: their clause has no subject of its own.
CLAUSE = re.compile(r"\s*[;:]\s+|,\s+(?=(?:and|but|while|whereas|where|when|after|before|as|since|because|"
                    r"although|though|stating|saying|adding|noting)\b)", re.I)
LINKER = re.compile(r"^(?:and|but|while|whereas|where|when|after|before|as|since|because|although|though)\s+", re.I)
# A part needs this many content words to say something checkable ("they met" says nothing).
MIN_PART_TERMS = 3
# Words that open news sentences without naming anything (beyond the stop words).
OPENERS = {"according", "meanwhile", "however", "separately", "earlier", "later", "also", "additionally",
           "furthermore", "moreover", "overall", "instead", "several", "many", "most", "despite", "today",
           "yesterday", "officials", "sources", "analysts", "experts", "reports", "together", "thus"}
# spaCy's kinds for amounts and times: number words ("seven", "two thousand") the digit pattern misses.
AMOUNT_LABELS = {"CARDINAL", "DATE", "TIME", "QUANTITY", "MONEY", "PERCENT", "ORDINAL"}


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
            parts = [entity.replace(",", "")]  # the tagger's "$500,000" as the text's words hold it
        if any(not _mentions(p, words) for p in parts):
            missing.append(entity)
    return missing


def tagged_entities(text: str) -> list[str]:
    """``fallback_entities`` plus the amounts and dates spaCy's tagger finds ("seven", "ten years");
    a capitalised opening word that reads as an ordinary word ("According to ...", "Meanwhile, ...",
    "Speaking in ...") is no name unless the tagger says so ("Pashinyan met ..." stays a name).

    >>> tagged_entities("According to Adamczyk, seven units train there.")
    ['Adamczyk', 'seven']
    """
    tagged = entities(text)
    opener = re.match(r"[A-Z][a-z]+\b", text)
    ordinary = opener and (opener.group().lower() in OPENERS or re.search(r"(?:ly|ing|ed)$", opener.group()))
    if ordinary and not any(e.start == 0 for e in tagged):
        text = text[0].lower() + text[1:]  # NAME no longer matches the opening word
    found = fallback_entities(text)
    return found + [e.text for e in tagged if e.label in AMOUNT_LABELS and e.text not in found]


def clause_parts(text: str) -> list[str]:
    """``text`` cut at its clause boundaries into sentences of their own, the linking word dropped;
    ``[text]`` when it has no two parts of ``MIN_PART_TERMS`` content words each.

    >>> clause_parts("He toured the centre in Tashkent, where 300 troops train for a year.")
    ['He toured the centre in Tashkent.', '300 troops train for a year.']
    """
    parts = [LINKER.sub("", p).strip(" ,.") for p in CLAUSE.split(text.strip())]
    parts = [p[0].upper() + p[1:] + "." for p in parts if p]
    if len(parts) < 2 or any(len(content_terms(p)) < MIN_PART_TERMS for p in parts):
        return [text]
    return parts
