"""The composers by name: ``composer = "extractive" | "llm"``; an unknown name lists the choices.

The one place a composer's keyword parameters are taken from ``Settings``."""

from __future__ import annotations

from typing import Any, Mapping

from rag.answer.composer import ExtractiveComposer
from rag.answer.protocols import Composer
from rag.embed.embedding import Embedder
from rag.errors import UserError
from rag.settings import Settings, env_value
from rag.text.sentences import SentenceSplitter


def _extractive(embedder: Embedder, splitter: SentenceSplitter, settings: Settings,
                env: Mapping[str, str] | None = None) -> ExtractiveComposer:
    return ExtractiveComposer(embedder, splitter, max_quotes=settings.max_quotes, quote_ratio=settings.quote_ratio,
                              min_relevance=settings.min_relevance, max_sentences=settings.max_sentences)


def _llm(embedder: Embedder, splitter: SentenceSplitter, settings: Settings, env: Mapping[str, str] | None = None,
         **options: Any) -> Composer:
    # httpx and the prompts load only when the LLM writer is chosen.
    from rag.answer.chat_client import ChatClient
    from rag.answer.llm import LLMComposer

    client = ChatClient(settings.llm_base_url, settings.llm_model, env_value(settings.llm_api_key_env, env),
                        settings.llm_timeout)
    return LLMComposer(embedder, splitter, client=client, extractive=_extractive(embedder, splitter, settings),
                       context_tokens=settings.llm_context_tokens, tokenizer=settings.tokenizer, **options)


COMPOSERS = {"extractive": _extractive, "llm": _llm}


def make_composer(name: str, embedder: Embedder, splitter: SentenceSplitter, settings: Settings,
                  env: Mapping[str, str] | None = None, **options: Any) -> Composer:
    """The composer called ``name``, its keyword parameters taken from ``settings``; an unknown name
    lists the choices. ``env`` (default: the environment) holds the LLM's API key variable; ``options``
    go to the LLM composer as they are (``entities=``, ``split=``)."""
    if name not in COMPOSERS:
        raise UserError(f"unknown composer {name!r}; choose from: {', '.join(COMPOSERS)}")
    return COMPOSERS[name](embedder, splitter, settings, env, **options)
