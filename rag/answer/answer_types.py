"""What a question asks for: the kinds of named entity that can answer it.

"Who led ...?" wants a person or an organisation, "where" a place, "when" a date or a
time, "how many/much" a number, an amount or money, "which company" an organisation.
The kinds are the OntoNotes labels of the entity tagger (rag.answer.entities).
"""

from __future__ import annotations

import re

# Not NORP: "Who led the talks?" is not answered by "American" or "Iranian".
PERSON_OR_ORG = frozenset({"PERSON", "ORG"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
# "Where did he lecture?" - "at the Academy of the Armed Forces": institutions are places too.
WHERE = PLACE | {"ORG"}
WHEN = frozenset({"DATE", "TIME"})
AMOUNT = frozenset({"CARDINAL", "MONEY", "PERCENT", "QUANTITY"})
WORK = frozenset({"WORK_OF_ART", "PRODUCT", "EVENT"})
PRODUCT = frozenset({"PRODUCT", "ORG", "WORK_OF_ART"})
DURATION = frozenset({"DATE", "TIME", "QUANTITY", "CARDINAL"})

# The noun after "which"/"what" names the kind: "which company", "what country".
NOUN_KINDS = {
    PERSON_OR_ORG: ("person", "people", "man", "woman", "minister", "president", "leader", "player", "manager",
                    "chairman", "chief", "executive", "official", "spokesman", "coach", "singer", "actor", "author",
                    "witness", "director", "producer", "insider", "candidate", "analyst", "economist", "diplomat",
                    "officer", "secretary", "governor", "judge", "actress", "striker", "driver", "boss",
                    "founder", "owner", "partner", "buyer", "bidder", "rival", "regulator", "institute",
                    "subsidiary", "consortium", "fund", "broker", "brokerage", "utility",
                    "company", "companies", "firm", "bank", "group", "organisation", "organization", "party", "team",
                    "club", "agency", "union", "airline", "carrier", "network", "broadcaster", "newspaper", "body"),
    PLACE: ("country", "countries", "city", "cities", "town", "region", "state", "province", "nation", "capital",
            "place", "venue", "port", "island", "continent", "stadium", "part", "area", "county", "constituency",
            "village", "district", "location"),
    WORK: ("film", "movie", "opera", "song", "single", "album", "book", "novel", "programme",
           "program", "series", "tune", "musical", "award", "prize", "tournament", "championship"),
    PRODUCT: ("car", "console", "device", "technology", "product", "brand", "phone", "drug", "software",
              "computer", "aircraft", "plane", "ship", "warship", "vessel"),
    WHEN: ("year", "month", "day", "date", "week", "season", "time", "decade"),
    AMOUNT: ("percentage", "proportion", "number", "amount", "price", "score", "sum", "figure", "rate", "total",
             "cost", "value", "share"),
}
_NOUN_LOOKUP = {noun: kind for kind, nouns in NOUN_KINDS.items() for noun in nouns}
# "What was the share price?" asks for the price; "What did the company say?" not for the company.
WHICH_NOUN = re.compile(r"\b(?:which|what)((?:\s+(?!(?:did|does|do)\b)[\w-]+){1,3})", re.I)
RULES = (
    (re.compile(r"\bhow (?:many|much)\b", re.I), AMOUNT),
    (re.compile(r"\bhow (?:long|old)\b", re.I), DURATION),
    (re.compile(r"\bhow (?:far|big|large|high|fast|heavy|tall)\b", re.I), AMOUNT),
    (re.compile(r"\bwhen\b", re.I), WHEN),
    (re.compile(r"\bwhere\b", re.I), WHERE),
    (re.compile(r"^\W*(?:\w+\W+){0,3}?(?:who|whom|whose)\b", re.I), PERSON_OR_ORG),
)


def expected_kinds(question: str) -> frozenset[str] | None:
    """The entity labels that can answer ``question``, or None when it asks for no named kind.

    >>> sorted(expected_kinds("How many troops train at the centre?"))
    ['CARDINAL', 'MONEY', 'PERCENT', 'QUANTITY']
    >>> expected_kinds("Why did the talks fail?") is None
    True
    """
    # The earliest question word decides: "Which opera was he rehearsing when...?" asks for the opera.
    found = [(m.end(), kinds) for asks, kinds in RULES for m in [asks.search(question)] if m]
    for match in WHICH_NOUN.finditer(question):
        kind = next((_NOUN_LOOKUP[w.lower()] for w in match.group(1).split() if w.lower() in _NOUN_LOOKUP), None)
        if kind is not None:
            found.append((match.start(1), kind))
            break
    return min(found, key=lambda f: f[0])[1] if found else None
