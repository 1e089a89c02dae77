"""Entity-level support: a claim joining two stories names what its quote does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.claim_check import fallback_entities, missing_entities
from rag.embed.embedding import get_embedder
from rag.answer.claims import Claim
from rag.answer.llm import LLMComposer
from rag.schema import Passage
from rag.text.sentences import get_splitter
from rag.settings import Settings

YEREVAN = ("In Yerevan, Armenian Deputy Foreign Minister Vahe Gevorkyan met Javier Kolomina. "
           "The dialogue touched on ongoing cooperation between Armenia and NATO.")


def test_fallback_entities_are_numbers_and_names_not_opening_function_words():
    assert fallback_entities("About 5,000 troops train at the Chimyon centre in April.") == ["5000", "Chimyon", "April"]
    assert fallback_entities("Pashinyan met Lt. Gen. Janusz Adamczyk.") == ["Pashinyan", "Lt. Gen. Janusz Adamczyk"]


@pytest.mark.parametrize(("entities", "text", "missing"), [
    (["Azerbaijan", "Armenia", "NATO"], YEREVAN, ["Azerbaijan"]),
    (["Uzbek"], "Uzbekistan's army", []),  # one stem, other endings
    (["Armenian"], "cooperation with Armenia", []),
    (["Mustafa Oguz"], "General Oguz, whose first name is Mustafa", []),
    (["5000"], "5,000 troops", []),
    (["300"], "3000 troops", ["300"]),
    (["Baku"], "Bakery in Lowtown", ["Baku"]),
])
def test_missing_entities(entities, text, missing):
    assert missing_entities(entities, text) == missing


SEED = Path(__file__).resolve().parents[2] / "seeds" / "004_9a3b49fdb12dc444.txt"


def _composer(entities) -> LLMComposer:
    settings = Settings()  # the real MiniLM: the splice below passed its cosine and word overlap
    return LLMComposer(get_embedder(settings.model), get_splitter("pysbd"), settings, entities=entities)


def test_the_field_splice_of_two_stories_is_unsupported_once_entities_are_checked():
    """SmolLM2 on llama.cpp wrote this over the seeds; it passed as supported [1] before."""
    splice = Claim("The delegation visited a military unit in Azerbaijan, where they discussed ongoing cooperation between Armenia and NATO.", [1])
    faithful = Claim("Vahe Gevorkyan met Javier Kolomina in Yerevan.", [1])
    text = SEED.read_text(encoding="utf-8")
    passages = [Passage(0, SEED.name, text.splitlines()[0], text, 0, len(text), 1.0)]
    before, after = _composer(None), _composer(fallback_entities)
    assert before.support([splice], before.windows(passages))[0], "words and cosine alone pass the splice"
    supported = after.support([splice, faithful], after.windows(passages))
    assert supported[0] == {} and 1 in supported[1]
