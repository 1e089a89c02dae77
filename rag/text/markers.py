"""The citation markers answers carry: ``[n]`` after each quote, ``[unsupported]`` after an LLM claim no quote backs."""

from __future__ import annotations

import re

# One marker as answers write it; group 1 is the citation number.
MARKER = re.compile(r"\[(\d+)\]")
# A marker with the space before it, as removed from an answer to read its words.
_SPACED = re.compile(r"\s*\[(?:\d+|unsupported)\]")
# Between a marker and the next sentence: where an answer is cut into pieces for streaming.
_AFTER_MARKER = re.compile(r"(?<=\])(?= )")


def strip_markers(text: str) -> str:
    """``text`` without its citation markers.

    >>> strip_markers("It cost 42 million pounds. [1] It opened on Monday. [unsupported]")
    'It cost 42 million pounds. It opened on Monday.'
    """
    return _SPACED.sub("", text)


def marker_pieces(text: str) -> list[str]:
    """``text`` cut after each marker (each piece ends with its ``[n]``), nothing dropped.

    >>> marker_pieces("A. [1] B. [2]")
    ['A. [1]', ' B. [2]']
    """
    return [piece for piece in _AFTER_MARKER.split(text) if piece]


def link_markers(escaped_html: str, template: str = r'<sup class="rag-cite">[\1]</sup>') -> str:
    """Every ``[n]`` of already-escaped HTML wrapped by ``template`` (``\\1`` is the number)."""
    return MARKER.sub(template, escaped_html)
