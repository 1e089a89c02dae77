"""The chat server's named API endpoints through gradio_client, as a script would use them."""

from __future__ import annotations

import re

import pytest

gradio_client = pytest.importorskip("gradio_client", reason="needs the gradio_client package")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(server):
    return gradio_client.Client(server.url, verbose=False)


def test_ask_endpoint_answers_with_citations(client):
    text = client.predict("How many troops train at the Chimyon centre each year?", api_name="/ask")
    assert "300 troops" in text
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    assert markers and markers == list(range(1, len(markers) + 1))


def test_answer_endpoint_returns_the_cited_quotes(client, server):
    answer = client.predict("How many troops train at the Chimyon centre each year?", api_name="/answer")
    assert not answer["abstained"] and answer["citations"]
    for citation in answer["citations"]:
        assert f"{citation['quote']} [{citation['n']}]" in answer["text"]
        article = server.pool.default.store.article(citation["doc_id"])
        assert article.text[citation["start"] : citation["end"]] == citation["quote"]


def test_off_topic_and_empty_questions(client):
    assert client.predict("Who won the 2022 football world cup?", api_name="/ask") == "Not found in these articles."
    with pytest.raises(Exception, match="question is empty"):
        client.predict("   ", api_name="/ask")


def test_only_the_named_endpoints_are_public(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/ask", "/answer"}


def test_every_retrieval_mode_answers(server):
    from rag.retrieve.retrievers import RETRIEVERS

    for mode in RETRIEVERS:
        with server.pool.use(mode) as assistant:
            assert assistant.settings.retriever == mode
            answer = assistant.ask("How many troops train at the Chimyon centre each year?", k=3)
        assert "300 troops" in answer.text and len(answer.passages) <= 3



def call_raw(url: str, endpoint: str, body: str) -> str:
    """POST ``body`` (raw JSON text) to the endpoint over plain HTTP, as any client may; returns the event stream."""
    import httpx

    base = url.rstrip("/") + "/gradio_api/call/" + endpoint
    posted = httpx.post(base, content=body.encode(), headers={"content-type": "application/json"}, timeout=30)
    posted.raise_for_status()
    return httpx.get(f"{base}/{posted.json()['event_id']}", timeout=60).text


@pytest.mark.parametrize("endpoint", ["ask", "answer"])
@pytest.mark.parametrize("data, reason", [
    ('"caf\\udce9 au lait?"', "not valid UTF-8"),  # a lone surrogate: what Python makes of bad bytes
    ("123", "must be text"),
])
def test_bad_questions_get_a_readable_message(server, endpoint, data, reason):
    stream = call_raw(server.url, endpoint, '{"data": [' + data + ']}')
    assert "event: error" in stream
    assert reason in stream and "null" not in stream, stream


def test_several_clients_at_once_get_the_answers_each_gets_alone(server):
    # Several people at once, each through their own connection, in a different order: the
    # server answers them side by side (4 at a time) and no answer may change.
    from concurrent.futures import ThreadPoolExecutor

    questions = ["How many troops train at the Chimyon centre each year?", "Who led the NATO delegation to Uzbekistan?",
                 "What did the NATO delegation see in Azerbaijan?", "Who won the 2022 football world cup?"]
    alone = {q: server.pool.default.ask(q).to_dict() for q in questions}

    def one_user(turn: int) -> list[tuple[str, dict]]:
        client = gradio_client.Client(server.url, verbose=False)
        mine = questions[turn:] + questions[:turn]
        return [(q, client.predict(q, api_name="/answer")) for q in mine + mine]

    with ThreadPoolExecutor(len(questions)) as users:
        answers = [pair for pairs in users.map(one_user, range(len(questions))) for pair in pairs]
    assert len(answers) == 8 * len(questions)
    for question, answer in answers:
        expected = alone[question]
        assert (answer["text"], answer["abstained"]) == (expected["text"], expected["abstained"]), question
        assert answer["citations"] == expected["citations"], question
