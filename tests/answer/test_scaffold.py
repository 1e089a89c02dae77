"""The prompt's scaffold written back by a small model: left out of the checked answer and held
back from the live draft, which shows every other line as it comes."""

from __future__ import annotations

import random

from rag.answer.scaffold import Scaffold, live_draft

SCAFFOLD = Scaffold.of(["[1] New harbour | 2024-05-01 | Elms Post", "[2] Bakery"], "How much did it cost?")
LINES = [
    "Question: How much did it cost?", "Answer: It cost 42 million [1].", "[1] New harbour | 2024-05-01 | Elms Post",
    "New harbour | 2024-05-01 | Elms Post", "BEGIN ARTICLES 0123456789ab", "END ARTICLES 0123456789ab", "",
    "The new harbour opened.", "New harbour cost a lot [1].", "BEGIN ARTICLES 0123456789ab It cost 42",
    "Answer:", "  Answer:   Mayor Ada", "How much did it cost? Lots.", "  ", "BEGIN with this", "[2] Bakery",
]


def test_lines_that_only_repeat_the_scaffold_go_and_the_rest_stay():
    text = "Question: How much did it cost?\nAnswer: It cost 42 million [1].\n[2] Bakery\nBEGIN ARTICLES 0123456789ab\nBakery bread [2]."
    assert SCAFFOLD.without(text) == ("It cost 42 million [1].\nBakery bread [2].", 3)
    assert SCAFFOLD.without("END ARTICLES 0123456789ab It cost 42") == ("END ARTICLES 0123456789ab It cost 42", 0)


def test_the_live_draft_joins_to_the_checked_text_however_the_reply_is_cut():
    shuffle = random.Random(7)
    for _ in range(2000):
        text = "\n".join(shuffle.choice(LINES) for _ in range(shuffle.randint(0, 5))) + shuffle.choice(["", "\n"])
        cuts = sorted(shuffle.sample(range(len(text) + 1), min(len(text), shuffle.randint(0, 8))))
        deltas = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
        assert "".join(live_draft(deltas, SCAFFOLD)) == SCAFFOLD.without(text)[0], (text, deltas)


def test_a_line_that_cannot_be_scaffold_shows_word_by_word():
    assert list(live_draft(["It ", "cost ", "42 ", "million."], SCAFFOLD)) == ["It ", "cost ", "42 ", "million."]


def test_a_label_line_is_never_shown_in_part():
    pieces = list(live_draft(["[1] New ", "harbour | 2024", "-05-01 | Elms Post\n", "Answer: ", "It ", "cost"], SCAFFOLD))
    assert pieces == ["It ", "cost"]
    # a line that starts like a label but is not one is shown once it differs
    assert list(live_draft(["New ", "harbour ", "opened ", "today."], SCAFFOLD)) == ["New harbour opened ", "today."]
