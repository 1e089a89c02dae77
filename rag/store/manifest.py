"""What an index's manifest records of the settings it was built with."""

from __future__ import annotations

from typing import Any

from rag.embed.embedding import concrete_backend
from rag.settings import INDEX_KEYS, Settings


def index_settings(settings: Settings) -> dict[str, Any]:
    """The settings an index is built with (``backend`` "auto" resolved); a mismatch on load means rebuild.

    Resolving "auto" looks at the model's files and the GPU, so callers compute this once.
    >>> index_settings(Settings(model="hashing"))["model"]
    'hashing'
    """
    chosen = {key: getattr(settings, key) for key in INDEX_KEYS}
    chosen["backend"] = concrete_backend(settings.model, settings.backend)
    return chosen
