"""The composers by name: ``composer = "extractive" | "llm"``; an unknown name lists the choices."""

from __future__ import annotations

from rag.answer.composer import ExtractiveComposer
from rag.answer.protocols import Composer
from rag.embed.embedding import Embedder
from rag.errors import UserError
from rag.settings import Settings
from rag.text.sentences import SentenceSplitter


def _llm_composer(*args, **kwargs) -> Composer:
    from rag.answer.llm import LLMComposer  # httpx and the prompts load only when the LLM writer is chosen

    return LLMComposer(*args, **kwargs)


COMPOSERS = {"extractive": ExtractiveComposer, "llm": _llm_composer}


def make_composer(name: str, embedder: Embedder, splitter: SentenceSplitter, settings: Settings) -> Composer:
    """The composer called ``name``; an unknown name lists the choices."""
    if name not in COMPOSERS:
        raise UserError(f"unknown composer {name!r}; choose from: {', '.join(COMPOSERS)}")
    return COMPOSERS[name](embedder, splitter, settings)
