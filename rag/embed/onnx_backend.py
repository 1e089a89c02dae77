"""Sentence embeddings with ONNX Runtime: the same model as sentence-transformers, lighter on CPU.

The packaged all-MiniLM-L6-v2 (or any local sentence-transformers folder of a BERT-like
model with mean pooling and normalisation) is exported once with ``torch.onnx.export``,
mean pooling and L2 normalisation included in the graph, and for ``onnx-int8`` quantised
with ONNX Runtime's dynamic int8 quantisation. The files live in
``~/.cache/rag/onnx/<model fingerprint>/``, so the export (15-20 s) happens once per
model; loading afterwards needs neither torch nor transformers, only ``onnxruntime``
and ``tokenizers``. On a 2-core AVX2 laptop-class CPU (bench/README.md) onnx-int8 loads in
0.2 s instead of 5 s, serves in ~200 MB instead of ~900 MB, embeds a query in 5 ms instead
of 14 and passages 1.25x faster, at cosine >= 0.995 to the torch vectors.

We export ourselves rather than use ``SentenceTransformer(backend="onnx")`` because its
extra (``optimum-onnx``) downgrades sentence-transformers, transformers and huggingface-hub.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from rag.errors import UserError

log = logging.getLogger("rag")

# Backend name -> exported file. "onnx" is fp32; "onnx-int8" has int8 weights in most MatMuls.
# "onnx-cuda" runs the fp32 graph on ONNX Runtime's CUDA provider (onnxruntime-gpu), in batches.
VARIANTS = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx", "onnx-cuda": "model.onnx"}
CACHE_ROOT = Path.home() / ".cache" / "rag" / "onnx"
# Bump when the exported graph changes, so old cached exports are not reused.
EXPORT_VERSION = "3"
OPSET = 17
# Kept fp32 by the int8 export (see _quantise): fused attention and the feed-forward down-projections.
KEEP_FP32_OPS = {"Attention", "MultiHeadAttention"}
FFN_DOWN = re.compile(r"layer\.\d+/output/dense/MatMul$")
# The multi-threaded (query) session's threads spin at most this long waiting for the next op,
# and never between runs.
QUERY_SPINNING = {
    "session.intra_op.allow_spinning": "1",
    "session.intra_op.spin_duration_us": "100",
    "session.force_spinning_stop": "1",
}


def _file_digest(path: Path, digest: "hashlib._Hash") -> None:
    """Feed ``path`` into ``digest``: whole small files, head, tail and size of big ones (weights)."""
    size = path.stat().st_size
    digest.update(f"{path.name}\0{size}\0".encode())
    with open(path, "rb") as handle:
        if size <= 4 << 20:
            digest.update(handle.read())
            return
        digest.update(handle.read(1 << 20))
        handle.seek(size - (1 << 20))
        digest.update(handle.read())


def model_fingerprint(model_dir: Path) -> str:
    """A short hash of the model folder's files (and of the export code's version)."""
    digest = hashlib.sha256(f"rag-onnx-export-{EXPORT_VERSION}-opset{OPSET}\0".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if path.suffix in {".md"}:
            continue
        _file_digest(path, digest)
    return digest.hexdigest()[:16]


def _check_exportable(model_dir: Path) -> int:
    """The model's input window; refuses folders this exporter cannot reproduce faithfully."""
    if not (model_dir / "config.json").is_file() or not (model_dir / "tokenizer.json").is_file():
        raise UserError(
            f"the ONNX backends need a local sentence-transformers folder with config.json and tokenizer.json; "
            f"{model_dir} has none (use backend 'torch' for this model)"
        )
    modules = json.loads((model_dir / "modules.json").read_text()) if (model_dir / "modules.json").is_file() else []
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    pooling_file = next((model_dir / m["path"] / "config.json" for m in modules if m.get("type", "").endswith("Pooling")), None)
    pooling = json.loads(pooling_file.read_text()) if pooling_file and pooling_file.is_file() else {}
    if kinds != ["Transformer", "Pooling", "Normalize"] or not pooling.get("pooling_mode_mean_tokens"):
        raise UserError(
            f"the ONNX backends reproduce Transformer + mean Pooling + Normalize models only; {model_dir} has "
            f"{kinds or 'no modules.json'} (use backend 'torch' for this model)"
        )
    bert_config = model_dir / "sentence_bert_config.json"
    return int(json.loads(bert_config.read_text()).get("max_seq_length", 256)) if bert_config.is_file() else 256


def exportable(model_dir: Path) -> bool:
    """Whether ``model_dir`` is a local model folder this exporter reproduces faithfully."""
    try:
        _check_exportable(model_dir)
    except UserError:
        return False
    return True


def _export_fp32(model_dir: Path, target: Path) -> None:
    """Transformer + mean pooling + L2 normalisation as one ONNX graph with dynamic batch and length."""
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    # Eager attention traces to plain MatMul/Softmax, which int8 quantisation handles well.
    transformer = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    dummy = torch.ones((2, 16), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            Pooled(transformer),
            (dummy, dummy, torch.zeros_like(dummy)),
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "sentence_embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter needs no onnxscript and handles this model fine
        )


def _optimise(source: Path, target: Path, config: dict) -> None:
    """ONNX Runtime's transformer fusions (attention, GELU, skip-LayerNorm): ~1.5x faster on CPU.

    Level 1 fusions only, so the file stays portable across CPUs; a model the fuser does not
    know is kept as exported."""
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        heads, hidden = int(config["num_attention_heads"]), int(config["hidden_size"])
        optimize_model(str(source), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1, use_gpu=False
                       ).save_model_to_file(str(target))
    except Exception as exc:  # unknown architecture: the plain export still works, only slower
        log.warning("ONNX fusion failed (%s); using the plain export", exc)
        shutil.copyfile(source, target)


def _quantise(source: Path, target: Path) -> None:
    """Dynamic int8 weights, per channel and in 7 bits, for the MatMuls that tolerate it.

    Measured on 177 BBC chunks against the torch vectors (worst / mean cosine):
    all MatMuls and attention int8 (8-bit range) 0.93 / 0.955, because on CPUs without
    VNNI (most laptops) u8 x s8 products saturate, which ``reduce_range`` avoids;
    all int8 with ``reduce_range`` 0.987 / 0.993; the feed-forward down-projections (GELU
    outputs, the widest activation range) kept fp32 0.988 / 0.996; attention (the fused
    QKV projections) kept fp32 too 0.996 / 0.998, for about 10% of the speed-up. We keep both.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    keep_fp32 = [n.name for n in graph.node if n.op_type in KEEP_FP32_OPS or (n.op_type == "MatMul" and FFN_DOWN.search(n.name))]
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        nodes_to_exclude=keep_fp32,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # fused contrib ops carry no inferred type
    )


@contextmanager
def _quiet():
    """Silence the exporter's tracer warnings and the quantiser's per-tensor root-logger lines."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def export(model_dir: Path, cache_root: Path | None = None) -> Path:
    """The cache folder holding both exports of ``model_dir``, exporting them first if needed.

    Files are written under temporary names and renamed, so concurrent builds never see half a file.
    """
    folder = (cache_root or CACHE_ROOT) / model_fingerprint(model_dir)
    fp32, int8 = folder / VARIANTS["onnx"], folder / VARIANTS["onnx-int8"]
    if fp32.is_file() and int8.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    log.info("exporting %s to ONNX in %s (once per model)", model_dir, folder)
    # ~20 s on two cores, the first time a machine uses the model: say so on a terminal rather than look stuck.
    steps = tqdm(total=3, desc="preparing the ONNX model (once per machine)", unit="step", leave=False, disable=None)
    with steps, tempfile.TemporaryDirectory(dir=folder) as scratch:
        staged_fp32, staged_int8 = Path(scratch) / fp32.name, Path(scratch) / int8.name
        raw = Path(scratch) / "raw.onnx"
        with _quiet():
            _export_fp32(model_dir, raw)
        steps.update()
        _optimise(raw, staged_fp32, json.loads((model_dir / "config.json").read_text()))
        steps.update()
        with _quiet():
            _quantise(staged_fp32, staged_int8)
        steps.update()
        os.replace(staged_int8, int8)
        os.replace(staged_fp32, fp32)
    return folder


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class OnnxEmbedder:
    """An ``Embedder`` running an exported sentence-transformers model in ONNX Runtime."""

    def __init__(self, name: str, model_dir: str | Path, backend: str = "onnx-int8", cache_root: Path | None = None,
                 threads: int = 0, lanes: int = 0) -> None:
        if backend not in VARIANTS:
            raise UserError(f"unknown ONNX backend {backend!r}; choose one of: {', '.join(VARIANTS)}")
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise UserError(f"the ONNX backends need a local model folder; {str(model_dir)!r} is not one (use backend 'torch')")
        self.max_tokens = _check_exportable(model_dir)
        # The backend is part of the name, so the embedding cache never mixes torch and ONNX vectors.
        self.name = f"{name}+{backend}"
        self.backend = backend
        # int8 embeds one text at a time (encode), so a text's vector does not depend on its batch.
        self.batch_independent = backend == "onnx-int8"
        self.path = export(model_dir, cache_root) / VARIANTS[backend]
        self._providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if backend == "onnx-cuda" else ["CPUExecutionProvider"]
        self._session = self._open_session(self.path, threads, self._providers)
        # On a GPU one batch at a time fills the device; lanes are for CPU cores.
        self._lanes, self._lane_session = (1 if backend == "onnx-cuda" else lanes or _cores()), None
        self._lane_pool: ThreadPoolExecutor | None = None
        self._lane_lock = threading.Lock()
        self._tokenizer, self._counter = self._tokenizers(model_dir / "tokenizer.json", self.max_tokens)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimension = int(self.encode(["dimension probe"]).shape[1])

    @staticmethod
    def _open_session(path: Path, threads: int, providers: list[str], spinning: dict[str, str] | None = None):
        """A session on ``threads`` threads (0: one per core); a multi-threaded one waits between
        ops as ``spinning`` says (default ``QUERY_SPINNING``; bench.query_threads compares others)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        if threads != 1:
            # A query is ~100 small ops: a pool thread that sleeps between them wakes late for
            # each, one that spins without end takes the cores other work needs (13-20 ms a query
            # at load 8, against 5-6 ms not spinning). So it spins briefly within a run and stops
            # when the run returns (python -m bench.query_threads: README "Speed and scale").
            for key, value in (QUERY_SPINNING if spinning is None else spinning).items():
                options.add_session_config_entry(key, value)
        try:
            return ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as exc:  # a damaged cache file: say where it is
            raise UserError(f"ONNX model {path} could not be loaded ({exc}); delete {path.parent} to export again") from None

    @staticmethod
    def _tokenizers(path: Path, max_tokens: int):
        from tokenizers import Tokenizer

        batch = Tokenizer.from_file(str(path))
        batch.enable_truncation(max_length=max_tokens)  # as sentence-transformers: max_seq_length, longest first
        batch.enable_padding(pad_id=batch.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        counter = Tokenizer.from_file(str(path))
        counter.no_truncation()
        counter.no_padding()
        return batch, counter

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=True).ids)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, getattr(self, "dimension", 0)), dtype=np.float32)
        # int8 runs one text at a time: dynamic quantisation scales activations per run, so a
        # text batched with others (and their padding) came out up to 0.006 in cosine apart from
        # the same text alone (a query); unbatched it is as fast on CPU (no padding) and deterministic.
        step = 1 if self.backend == "onnx-int8" else max(1, batch_size)
        # Length-sorted batches waste less padding; rows go back to the caller's order at the end.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        batches = [[texts[i] for i in order[start : start + step]] for start in range(0, len(order), step)]
        parts = self._run_all(batches)
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors

    def _run_all(self, batches: list[list[str]]) -> list[np.ndarray]:
        """Each batch's vectors, in order. Many batches run side by side, one per core, on a
        single-threaded session: one ~100-token text is too small a matrix to split well across
        cores (bench/README.md: 1.6x the passages per second of one two-threaded run at a time).
        A single batch (a query) keeps the multi-threaded session and its lower latency."""
        if len(batches) < 2 * self._lanes or self._lanes == 1:
            return [self._run(self._session, batch) for batch in batches]
        pool, session = self._lanes_ready()  # ONNX Runtime runs concurrent calls on one session
        return list(pool.map(lambda batch: self._run(session, batch), batches))

    def _lanes_ready(self) -> tuple[ThreadPoolExecutor, object]:
        """The lanes' threads and single-threaded session, made once: starting two threads for each
        answer's ~25 sentences cost 2-9 ms a thread on busy cores."""
        with self._lane_lock:
            if self._lane_pool is None:
                self._lane_session = self._open_session(self.path, 1, self._providers)
                self._lane_pool = ThreadPoolExecutor(self._lanes, thread_name_prefix="rag-embed-lane")
            return self._lane_pool, self._lane_session

    def _run(self, session, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        # The graph normalises already; again here so int8 rounding never leaves a norm off 1.
        vectors = np.asarray(vectors, dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
