"""A client for OpenAI-compatible chat endpoints (``/chat/completions``), streamed over SSE.

Failures are ``LLMUnavailable`` with a short, key-free reason the LLM writer shows people.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Iterator

import httpx

MAX_ANSWER_TOKENS = 200


class LLMUnavailable(Exception):
    """The endpoint could not give an answer; ``str()`` is a short reason for people."""


def _reason(exc: Exception, base_url: str, timeout: float) -> str:
    """A short, key-free reason for the note shown to people."""
    if isinstance(exc, httpx.TimeoutException):
        return f"no reply within {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else f"cannot connect to {base_url}"
    return f"{type(exc).__name__}: {exc}"[:200]


@dataclass(frozen=True)
class ChatClient:
    """Streams chat completions from an OpenAI-compatible ``/chat/completions`` endpoint."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def stream(self, messages: list[dict[str, str]], max_tokens: int = MAX_ANSWER_TOKENS) -> Iterator[str]:
        """The reply's text deltas as they arrive. Raises ``LLMUnavailable`` on any failure,
        including a reply that takes longer than ``timeout`` seconds in all."""
        body = {
            "model": self.model, "messages": messages, "stream": True,
            "temperature": 0, "seed": 0, "max_tokens": max_tokens,
        }
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        deadline = time.monotonic() + self.timeout
        url = self.base_url.rstrip("/") + "/chat/completions"
        try:
            with httpx.Client(timeout=httpx.Timeout(self.timeout)) as client:
                with client.stream("POST", url, json=body, headers=headers) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise LLMUnavailable(f"HTTP {response.status_code}: {_error_message(response.text)}")
                    if "text/event-stream" not in response.headers.get("content-type", "event-stream"):
                        # A server that ignored "stream": the whole completion in one JSON body.
                        response.read()
                        yield _message_content(_json(response.text))
                        return
                    for data in _sse_data(response.iter_lines()):
                        if time.monotonic() > deadline:
                            raise LLMUnavailable(f"no complete reply within {self.timeout:g} s")
                        if data.strip() == "[DONE]":
                            return
                        content = _delta_content(_json(data))
                        if content:
                            yield content
        except LLMUnavailable:
            raise
        except (httpx.HTTPError, OSError) as exc:
            raise LLMUnavailable(_reason(exc, self.base_url, self.timeout)) from exc

    def complete(self, messages: list[dict[str, str]], max_tokens: int = MAX_ANSWER_TOKENS) -> str:
        """The whole reply text (streamed, so the same deadline applies)."""
        return "".join(self.stream(messages, max_tokens))


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The ``data`` of each server-sent event (multi-line data joined with newlines)."""
    data: list[str] = []
    for line in lines:
        if not line.strip():
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        # "event:", "id:", "retry:" and ":" comment lines carry nothing we need.
    if data:
        yield "\n".join(data)


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise LLMUnavailable(f"malformed reply: {text[:80]!r}") from None
    if not isinstance(value, dict):
        raise LLMUnavailable(f"malformed reply: {text[:80]!r}")
    if value.get("error"):
        raise LLMUnavailable(f"server error: {_error_message(json.dumps(value))}")
    return value


def _error_message(text: str) -> str:
    try:
        error = json.loads(text).get("error", text)
    except (json.JSONDecodeError, AttributeError):
        error = text
    if isinstance(error, dict):
        error = error.get("message", error)
    return str(error).strip()[:160] or "no detail"


def _delta_content(chunk: dict) -> str:
    for choice in chunk.get("choices") or []:  # empty in a usage-only chunk
        delta = choice.get("delta") or choice.get("message") or {}
        return str(delta.get("content") or "")
    return ""


def _message_content(body: dict) -> str:
    for choice in body.get("choices") or []:
        return str((choice.get("message") or {}).get("content") or "")
    raise LLMUnavailable("reply has no choices")
