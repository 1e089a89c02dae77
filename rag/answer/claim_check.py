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

from rag.answer.entities import UNIT_WORDS, amounts, entities
from rag.text.terms import STOPWORDS, content_terms

__all__ = ["Entities", "clause_parts", "fallback_entities", "missing_entities", "tagged_entities"]

Entities = Callable[[str], Iterable[str]]

NUMBER = re.compile(r"\d(?:[\d,.]*\d)?")
# A run of capitalised words ("Lt. Gen. Janusz Adamczyk", "Nagorno-Karabakh", "NATO's").
NAME = re.compile(r"[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*")
WORD = re.compile(r"\w+")
# A capitalised word shortened with a full stop inside a sentence ("Kenosha, Wis., and", "Co., the"):
# it stands for a longer name. Before a capital it may end a sentence ("said Smith. The").
SHORTENED = re.compile(r"\b([A-Z][a-z]{2,4})\.(?=[,;)]|\s+[a-z])")
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
# Words that hedge an amount without changing it ("nearly 20", "more than 300 troops").
HEDGES = {"about", "almost", "around", "approximately", "nearly", "roughly", "some", "over", "more", "less",
          "fewer", "than", "under", "least", "up", "to", "just", "estimated"}
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


def _mentions(word: str, words: set[str], short: frozenset[str] = frozenset()) -> bool:
    """Whether ``words`` hold ``word``: the same word, a shared stem, or a shortening the text
    writes with a full stop (``short``: "Wis." for "Wisconsin", "Corp." for "Corporation")."""
    word = re.sub(r"[’']s$", "", word.lower())
    if word in words or any(word.startswith(s) and len(word) > len(s) for s in short):
        return True
    stem = word[: max(STEM, len(word) - 3)]
    return len(word) >= STEM and any(w.startswith(stem) or (len(w) >= STEM and word.startswith(w)) for w in words)


def missing_entities(entities: Iterable[str], text: str, article: str = "") -> list[str]:
    """The ``entities`` that ``text`` does not mention, each word of a name checked on its own
    (case-insensitive; "Lieutenant General Mustafa Oguz" is found in "General Oguz ... Mustafa").
    An amount is found at its value (``same_amount``): "6 billion dollars" in "$6bn". A full name
    is found by its last word when the quote's ``article`` writes it in full ("Mr Weingarten" in
    a quote of an article that names Reid Weingarten).

    >>> missing_entities(["6 billion dollars", "7 billion dollars"], "It paid $6bn.")
    ['7 billion dollars']
    """
    words = {w.lower() for w in WORD.findall(text.replace(",", ""))} | set(NUMBER.findall(text.replace(",", "")))
    short = frozenset(w.lower() for w in SHORTENED.findall(text))
    values = amounts(text)
    missing = []
    for entity in entities:
        parts = [p for p in WORD.findall(entity.replace(",", "")) if p.lower() not in STOPWORDS]
        if NUMBER.fullmatch(entity):
            parts = [entity.replace(",", "")]  # the tagger's "$500,000" as the text's words hold it
        if all(_mentions(p, words, short) for p in parts) or same_amount(entity, values, words):
            continue
        if not (len(parts) > 1 and _mentions(parts[-1], words) and named_in_full(parts, article)):
            missing.append(entity)
    return missing


def named_in_full(parts: list[str], article: str) -> bool:
    """Whether ``article`` writes the name of these words, in this order (possessives allowed)."""
    return bool(article) and re.search(r"\b" + r"(?:[’']s)?\W+".join(map(re.escape, parts)) + r"\b", article, re.I) is not None


def same_amount(entity: str, values: set[float], words: set[str]) -> bool:
    """Whether ``entity`` is an amount the text states at the same value (``amounts``: "4.7 mln" =
    "4.7 million"), its other words being units, hedges ("nearly") or words the text has ("tonnes").
    A changed number or scale ("6 million" for "$6bn") is still missing."""
    wanted = amounts(entity)
    if not wanted or not wanted <= values:
        return False
    rest = [w.lower() for w in WORD.findall(entity) if not NUMBER.fullmatch(w)]
    return all(w in UNIT_WORDS or w in HEDGES or w in STOPWORDS or _mentions(w, words) for w in rest)


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
