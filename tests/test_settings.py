import pytest

from rag.errors import UserError
from rag.settings import Settings, resolve


def test_layers_apply_in_order(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text("[rag]\nk = 7\nchunk_tokens = 120\nmodel = 'hashing'\n")
    settings = resolve(config, env={"RAG_K": "9", "RAG_PROGRESS": "false"}, chunk_tokens=None, model="m2")
    assert (settings.k, settings.chunk_tokens, settings.progress, settings.model) == (9, 120, False, "m2")


def test_defaults_without_config(no_config):
    assert resolve(env={}) == Settings()


def test_unknown_or_mistyped_settings_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="unknown setting"):
        resolve(env={}, colour="red")
    with pytest.raises(UserError, match="expects int"):
        resolve(env={"RAG_K": "many"})
    with pytest.raises(UserError, match="not found"):
        resolve(tmp_path / "missing.toml", env={})
