from pathlib import Path

from rag.ingest.boilerplate import remove_boilerplate
from rag.ingest.reading import read_text
from tests.conftest import SEEDS


def seed(name: str) -> str:
    return next(SEEDS.glob(f"{name}_*.txt")).read_text(encoding="utf-8")


def test_seed_004_site_chrome_is_removed_and_story_kept():
    text = read_text("004.txt", seed("004"))[0].text
    for chrome in ("No time to read?", "Get a summary", "Previous Article", "Rewrite for Independent", "Next Article", "false"):
        assert chrome not in text
    assert text.startswith("A NATO delegation headed by the Alliance’s Joint Ground Command")
    assert text.rstrip().endswith("connectivity issues in the region.")


def test_seed_000_comments_closed_is_removed_and_last_sentence_kept():
    text = read_text("000.txt", seed("000"))[0].text
    assert "Comments are closed" not in text
    assert text.rstrip().endswith("Sources: Uzbek Ministry of Defense, NATO")
    assert "300 troops spend a year" in text


def test_rule_is_general_not_a_phrase_list():
    body = "Share this story\n\nThe council approved the new budget of 12 million on Tuesday.\n\nRead more\n\nAll rights reserved."
    assert remove_boilerplate(body) == "The council approved the new budget of 12 million on Tuesday."


def test_facts_in_short_lines_survive():
    body = (
        "Chelsea beat Newcastle 4-0 on Sunday at Stamford Bridge in front of a full house.\n\n"
        "Scorers: Lampard 17, Drogba 46.\n\nSubs Not Used: Pidgeley, Tiago.\n\n"
        "- A freeze on petrol duty\n\nHe denied the charges."
    )
    kept = remove_boilerplate(body)
    for line in ("Scorers: Lampard 17, Drogba 46.", "Subs Not Used: Pidgeley, Tiago.", "- A freeze on petrol duty"):
        assert line in kept


def test_repeated_chrome_above_and_below_is_removed():
    body = "Subscribe now\nfor full access\n\nThe plant will close in March, affecting 800 workers across two sites.\n\nSubscribe now\nfor full access"
    assert remove_boilerplate(body) == "The plant will close in March, affecting 800 workers across two sites."


def test_kept_lines_are_verbatim_slices_of_the_source():
    raw = seed("004")
    for line in read_text("004.txt", raw)[0].text.split("\n"):
        assert line in raw


def test_rules_reading_part_of_a_line_decide_as_reading_all_of_it(monkeypatch):
    """The rules read a line only as far as the words they count; every line must be judged as if
    they had read all of it (lines of 0 to 16 words, around each rule's limit)."""
    import random

    from rag.ingest import boilerplate

    rng = random.Random(7)
    vocabulary = ["news", "Next", "Article", "the", "12", "vote", "Read", "more", "said.", "Ewood", "Park", "-", "•", "—", "?"]
    bodies = ["\n\n".join(" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 16))) or "x"
                          for _ in range(rng.randint(1, 12))) for _ in range(400)]
    fast = [boilerplate.remove_boilerplate(body) for body in bodies]
    monkeypatch.setattr(boilerplate, "_words", lambda line, most: boilerplate.WORD.findall(line))
    assert fast == [boilerplate.remove_boilerplate(body) for body in bodies]
