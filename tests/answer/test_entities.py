"""Entity tagging in batches: the same entities as one sentence at a time, each sentence tagged once."""

from rag.answer import entities as tagging
from rag.ingest.reading import read_corpus
from tests.conftest import SEEDS


def alone(sentence):
    doc = tagging._pipeline()(sentence)
    return tuple(tagging.Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)


def test_a_batch_finds_what_each_sentence_alone_finds():
    text = read_corpus(SEEDS).articles[0].text
    sentences = [s.strip() + "." for s in text.replace("\n", " ").split(". ") if len(s.split()) > 4][:12]
    sentences.append("Who led the NATO delegation to Uzbekistan in 2023?")
    tagging._tagged.clear()
    batch = tagging.tag_all(sentences)
    assert batch == [alone(s) for s in sentences]
    assert sum(len(found) for found in batch) >= 5, "real sentences with names, places and dates"


class Recording:
    """A stand-in pipeline that notes what it is given and finds no entities."""

    def __init__(self):
        self.seen = []

    def pipe(self, texts):
        self.seen.extend(texts)
        return [type("Doc", (), {"ents": ()})() for _ in texts]


def test_each_sentence_is_tagged_once_and_the_oldest_forgotten_first(monkeypatch):
    pipeline = Recording()
    monkeypatch.setattr(tagging, "_pipeline", lambda: pipeline)
    monkeypatch.setattr(tagging, "_tagged", type(tagging._tagged)())
    monkeypatch.setattr(tagging, "TAGGED_SIZE", 2)
    assert tagging.tag_all(["a", "b", "a"]) == [(), (), ()]
    assert tagging.entities("a") == ()  # "b" is now the oldest
    tagging.entities("c")
    tagging.tag_all(["a", "b"])
    assert pipeline.seen == ["a", "b", "c", "b"]


def test_loading_the_tagger_does_not_import_torch_and_torch_still_imports_after():
    # thinc imports torch whenever it is installed: 3.3 s and ~180 MB of every `rag ask` for
    # layers en_core_web_sm never uses. A fresh process, so nothing else has imported either.
    import importlib.util
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from rag.answer.entities import entities\n"
        "found = entities('Mayor Ada Quill opened the harbour in Port Elms on Monday.')\n"
        "print([e.label for e in found], 'torch' in sys.modules)\n"
        "if sys.argv[1] == 'yes':\n"
        "    import torch\n"
        "    print(torch.tensor([1.0, 2.0]).sum().item())\n"
    )
    has_torch = "yes" if importlib.util.find_spec("torch") else "no"
    run = subprocess.run([sys.executable, "-c", script, has_torch], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert "'PERSON'" in lines[0] and "'DATE'" in lines[0], "the tagger works without torch"
    assert lines[0].endswith(" False"), "loading the tagger imported torch"
    if has_torch == "yes":
        assert lines[1] == "3.0", "torch imports normally once the tagger is loaded"
