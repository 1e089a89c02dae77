"""What a question asks for: the kinds of named entity that can answer it.

"Who led ...?" wants a person or an organisation, "where" a place, "when" a date or a
time, "how many/much" a number, an amount or money, "which company" an organisation.
The kinds are the OntoNotes labels of the entity tagger (rag.answer.entities).
"""

from __future__ import annotations

import re

from rag.text.terms import STOPWORDS

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
                    "member", "mp", "editor", "presenter", "banker", "psychologist", "athlete", "sprinter", "runner",
                    "blogger", "writer", "journalist", "reporter", "lawyer", "doctor", "scientist", "professor",
                    "ambassador", "envoy", "commander", "premier", "king", "queen", "prince", "chancellor", "mayor",
                    "senator", "politician", "businessman", "tycoon", "investor", "shareholder", "legend", "star",
                    "manufacturer", "maker", "supplier", "retailer", "referee", "captain", "winner", "champion",
                    "opponent", "musician", "band", "artist", "designer", "engineer", "expert", "spokeswoman",
                    "subsidiary", "consortium", "fund", "broker", "brokerage", "utility",
                    "company", "companies", "firm", "bank", "group", "organisation", "organization", "party", "team",
                    "club", "agency", "union", "airline", "carrier", "network", "broadcaster", "newspaper", "body"),
    PLACE: ("country", "countries", "city", "cities", "town", "region", "state", "province", "nation", "capital",
            "place", "venue", "port", "island", "continent", "stadium", "part", "area", "county", "constituency",
            "village", "district", "location", "station", "centre", "center", "hospital", "prison", "airport",
            "base", "site", "street", "river", "mountain", "lake", "sea", "suburb"),
    WORK: ("film", "movie", "opera", "song", "single", "album", "book", "novel", "programme",
           "program", "series", "tune", "musical", "award", "prize", "tournament", "championship"),
    PRODUCT: ("car", "console", "device", "technology", "product", "brand", "phone", "drug", "software",
              "computer", "aircraft", "plane", "ship", "warship", "vessel"),
    WHEN: ("year", "month", "day", "date", "week", "season", "time", "decade"),
    AMOUNT: ("percentage", "proportion", "number", "amount", "price", "score", "sum", "figure", "rate", "total",
             "cost", "value", "share"),
}
_NOUN_LOOKUP = {noun: kind for kind, nouns in NOUN_KINDS.items() for noun in nouns}
# The words after "which"/"what": their noun phrase names the kind.
WHICH_NOUN = re.compile(r"\b(?:which|what)((?:\s+[\w'’-]+){1,6})", re.I)
# Words before the noun phrase: "What was the share price?" asks for the price.
LEADING = frozenset({"was", "is", "are", "were", "the", "a", "an", "his", "her", "its", "their", "other"})
# A noun phrase ends at a function word: "What did the company say?" does not ask for the company,
# nor "What happened to the firm?" for the firm.
NOUN_PHRASE_WORDS = 4
# "Who is the chairman of Segas?" asks for a person by the same noun.
WHO_IS = re.compile(r"\bwho\s+(?:is|was|are|were)((?:\s+[\w'’-]+){1,6})", re.I)
PLURAL = ((r"ies$", "y"), (r"(ch|sh|ss|x)es$", r"\1"), (r"s$", ""))


def noun_kind(word: str) -> frozenset[str] | None:
    """The kind a noun names, singular or plural ("banks", "actresses", "cities"), or None.

    >>> noun_kind("Banks") == noun_kind("bank")
    True
    """
    word = word.lower().split("-")[-1]  # "ex-radio presenter", "co-founder"
    if word in _NOUN_LOOKUP:
        return _NOUN_LOOKUP[word]
    for pattern, singular in PLURAL:
        if re.search(pattern, word):
            return _NOUN_LOOKUP.get(re.sub(pattern, singular, word))
    return None
RULES = (
    (re.compile(r"\bhow (?:many|much)\b", re.I), AMOUNT),
    (re.compile(r"\bhow (?:long|old)\b", re.I), DURATION),
    (re.compile(r"\bhow (?:far|big|large|high|fast|heavy|tall)\b", re.I), AMOUNT),
    (re.compile(r"\bwhen\b", re.I), WHEN),
    (re.compile(r"\bwhere\b", re.I), WHERE),
    # "And who...?", "To whom...?"; not the relative "who" of "The engineer who sued ... in which city?".
    (re.compile(r"^\W*(?!(?:the|a|an)\b)(?:\w+\W+){0,3}?(?:who|whom|whose)\b", re.I), PERSON_OR_ORG),
)


def asked_noun(question: str) -> str:
    """The head noun of the question's "which/what" phrase that names the asked-for kind, or "".

    >>> asked_noun("Which Manchester United commercial director was voted off?")
    'director'
    """
    for match in [*WHICH_NOUN.finditer(question), *WHO_IS.finditer(question)]:
        words = _noun_phrase(match.group(1).split())
        named = [w for w in words if noun_kind(w) is not None]
        if named:
            return named[-1]
    return ""


def _noun_phrase(words: list[str]) -> list[str]:
    while words and words[0].lower() in LEADING:
        words = words[1:]
    phrase = []
    for word in words[:NOUN_PHRASE_WORDS]:
        if word.lower() in STOPWORDS:
            break
        phrase.append(word)
    return phrase


def noun_phrase_kind(words: list[str]) -> frozenset[str] | None:
    """The kind named by the noun phrase that opens ``words`` (the words after "which"/"what"):
    its last word that names one, the head noun ("which Manchester United commercial director").

    >>> sorted(noun_phrase_kind("London police station were they held".split()))
    ['FAC', 'GPE', 'LOC']
    """
    kinds = [k for k in map(noun_kind, _noun_phrase(words)) if k is not None]
    return kinds[-1] if kinds else None


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
        kind = noun_phrase_kind(match.group(1).split())
        if kind is not None:
            found.append((match.start(1), kind))
            break
    return min(found, key=lambda f: f[0])[1] if found else None
