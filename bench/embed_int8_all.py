"""int8 everywhere (attention and feed-forward down-projections too) against the shipped int8 export.

    python -m bench.embed_int8_all [ROUNDS]

Quantises the cached fp32 export in full (to /tmp, once), then embeds the first 400 BBC passages
with both, alternating, ROUNDS rounds (default 3): passages/s, word pieces/s, and the cosine of
each vector to the shipped one. Reads the embedder's exported files and tokenizer directly.
"""
import time, statistics, os, sys
import numpy as np, onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from bench.stages import _passages, BBC
from rag.settings import resolve
from rag.embed.embedding import get_embedder
s = resolve(env={}, progress=False)
emb = get_embedder(s.model, s.device, s.backend)
src = emb.path.parent / "model.onnx"; dst = "/tmp/rag-bench-model-int8-all.onnx"
if not os.path.exists(dst):
    quantize_dynamic(str(src), dst, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
texts = _passages(BBC, 400, {"settings": s})
ntok = sum(len(e.ids) for e in emb._tokenizer.encode_batch(texts))
shipped = emb.encode(texts)
from pathlib import Path
emb2 = get_embedder.__wrapped__(s.model, s.device, s.backend)
emb2.path = Path(dst); emb2._session = emb2._open_session(emb2.path, 0, emb2._providers); emb2._lane_session = None
allq = emb2.encode(texts)
cos = (shipped * allq).sum(1)
print(f"cosine to shipped: min {cos.min():.4f} mean {cos.mean():.4f}", flush=True)
times = {"shipped": [], "all-int8": []}
for r in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
    for name, e in (("shipped", emb), ("all-int8", emb2)):
        t = time.perf_counter(); e.encode(texts); times[name].append(time.perf_counter() - t)
for name, ts in times.items():
    m = statistics.median(ts); print(f"{name}: {len(texts)/m:.1f} p/s {ntok/m:.0f} tok/s runs {[round(x,1) for x in ts]} load {os.getloadavg()[0]:.1f}")
