"""Embedding runtime variants on the same BBC passages, interleaved: ``python -m bench.embed_variants [N]``.

The shipped int8 path (``OnnxEmbedder.encode``: one text a run, one single-threaded lane per
core) against int8 batches bucketed by token length, spinning off, one lane of two threads, and
the fp32 graph. Medians of 3 rounds, each round running every variant once, so a shared
machine's load falls on all alike. Reads the embedder's exported files and tokenizer directly.
"""
import sys, time, statistics, os, json
import numpy as np
from bench.stages import _passages, BBC
from rag.settings import resolve
from rag.embed.embedding import get_embedder
N = int(sys.argv[1]) if len(sys.argv) > 1 else 400
s = resolve(env={}, progress=False)
texts = _passages(BBC, N, {"settings": s})
emb = get_embedder(s.model, s.device, s.backend)
tok = emb._tokenizer
ntok = sum(len(e.ids) for e in tok.encode_batch(texts))
import onnxruntime as ort
from concurrent.futures import ThreadPoolExecutor
def sess(path, threads, spin=True):
    o = ort.SessionOptions(); o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    o.intra_op_num_threads = threads
    if not spin: o.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=o, providers=["CPUExecutionProvider"])
def run(se, batch):
    enc = tok.encode_batch(batch)
    feeds = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
             "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
             "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
    return se.run(None, feeds)[0]
def batches_by_len(step):
    order = sorted(range(len(texts)), key=lambda i: len(tok.encode(texts[i]).ids), reverse=True)
    return [[texts[i] for i in order[k:k+step]] for k in range(0, len(order), step)]
int8 = emb.path; fp32 = emb.path.parent / "model.onnx"

def lanes(path, step, lanes=2, threads=1, spin=True):
    se = sess(path, threads, spin); bs = batches_by_len(step)
    def f():
        if lanes == 1: return [run(se, b) for b in bs]
        with ThreadPoolExecutor(lanes) as p: return list(p.map(lambda b: run(se, b), bs))
    return f
V = {
 "current(encode)": lambda: emb.encode(texts),
 "int8 b1 2lanes nospin": lanes(int8, 1, spin=False),
 "int8 b8 2lanes": lanes(int8, 8),
 "int8 b1 1lane 2thr": lanes(int8, 1, lanes=1, threads=2),
 "fp32 b8 2lanes": lanes(fp32, 8),
 "fp32 b1 2lanes": lanes(fp32, 1),
 "fp32 b16 1lane 2thr": lanes(fp32, 16, lanes=1, threads=2),
}
for k in V: V[k]()  # warm
times = {k: [] for k in V}
for r in range(3):
    for k, f in V.items():
        t = time.perf_counter(); f(); times[k].append(time.perf_counter() - t)
print(json.dumps({"passages": len(texts), "tokens": ntok, "load": os.getloadavg()}))
for k, ts in times.items():
    m = statistics.median(ts)
    print(f"{k:28s} {m:6.2f}s  {len(texts)/m:6.1f} p/s  {ntok/m:7.0f} tok/s  runs {[round(x,2) for x in ts]}")
