"""Report files (JSON, Markdown, TREC, a recall curve), the threshold gate, and run comparison."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from eval.dataset import EVAL_DIR
from eval.harness import Report
from eval.metrics import CUTOFFS

THRESHOLDS_FILE = EVAL_DIR / "thresholds.toml"
TABLE_METRICS = ("doc.R@1", "doc.R@5", "doc.MRR@10", "doc.nDCG@10", "passage.R@5", "answer.hit", "citation.validity",
                 "citation.recall", "abstention.precision", "abstention.recall", "abstention.false_rate",
                 "followup.R@5_history", "followup.R@5_alone", "followup.R@5_standalone",
                 "latency.search_p50_ms", "latency.ask_p50_ms")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def table(report: Report) -> str:
    """A compact text table: metrics down, overall and each question type across."""
    columns = ["all", *report.by_type]
    rows = [f"{'metric':<24}" + "".join(f"{c[:11]:>12}" for c in columns)]
    for metric in TABLE_METRICS:
        values = [report.metrics.get(metric)] + [report.by_type[t].get(metric) for t in report.by_type]
        rows.append(f"{metric:<24}" + "".join(f"{_fmt(v):>12}" for v in values))
    return "\n".join(rows)


def item_score(record: dict) -> float:
    """How well one item went (0-1): found the evidence, hit the answer, cited gold; or abstained rightly."""
    if not record["answerable"]:
        return record["answer"]["abstained"]
    retrieval = record.get("retrieval", {}).get("passage", {})
    return (retrieval.get("MRR@10", 0.0) + (record["answer"]["answer_hit"] or 0.0) + (record["answer"]["cites_gold"] or 0.0)) / 3


def markdown(report: Report) -> str:
    lines = [f"# Eval report: {report.set_name}", "", f"{len(report.items)} items, k={report.k}, "
             f"model `{report.settings.get('model')}`, retriever `{report.settings.get('retriever')}`", "", "## Aggregates", "",
             "| metric | value |", "| --- | --- |"]
    lines += [f"| {name} | {_fmt(value)} |" for name, value in report.metrics.items()]
    lines += ["", "## By question type", "", "```", table(report), "```", "", "## The 10 worst items", ""]
    lines += ["| id | type | score | question | answer given |", "| --- | --- | --- | --- | --- |"]
    for record in sorted(report.items, key=item_score)[:10]:
        answer = record["answer_text"].replace("|", "\\|").replace("\n", " ")[:160]
        lines.append(f"| {record['id']} | {record['type']} | {item_score(record):.2f} | {record['question']} | {answer} |")
    return "\n".join(lines) + "\n"


def _write_trec(report: Report, out: Path) -> None:
    for level in ("doc", "passage"):
        with open(out / f"qrels.{level}.trec", "w", encoding="utf-8") as handle:
            handle.writelines(f"{q.query_id} 0 {q.doc_id} {q.relevance}\n" for q in report.qrels[level])
        ranked: dict[str, list] = {}
        for scored in report.run[level]:
            ranked.setdefault(scored.query_id, []).append(scored)
        with open(out / f"run.{level}.trec", "w", encoding="utf-8") as handle:
            for query_id, docs in ranked.items():
                for rank, d in enumerate(sorted(docs, key=lambda s: -s.score), start=1):
                    handle.write(f"{query_id} Q0 {d.doc_id} {rank} {d.score:.6f} rag\n")


def recall_curve(report: Report, path: Path) -> None:
    """Recall@k for k = 1..10 at document and passage level, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for level in ("doc", "passage"):
        values = [report.metrics.get(f"{level}.R@{k}") or 0.0 for k in CUTOFFS]
        ax.plot(CUTOFFS, values, marker="o", label=f"{level} level")
    ax.set(xlabel="k (passages retrieved)", ylabel="Recall@k", ylim=(0, 1.02), xticks=CUTOFFS,
           title=f"Recall@k on {report.set_name} ({len(report.items)} items)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_outputs(report: Report, out: Path) -> None:
    """report.json, report.md, TREC run and qrels files, and recall_at_k.png in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    _write_trec(report, out)
    recall_curve(report, out / "recall_at_k.png")


def thresholds(set_name: str, path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, float]]:
    """Floors (``min``) and ceilings (``max``) for a set from the versioned thresholds file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return data.get(set_name, {})


def check(metrics: dict[str, float | None], limits: dict[str, dict[str, float]]) -> list[str]:
    """One message per metric outside its limit; empty when the gate passes."""
    failures = []
    for metric, floor in limits.get("min", {}).items():
        value = metrics.get(metric)
        if value is None or value < floor:
            failures.append(f"{metric} = {_fmt(value)} is below its floor {floor}")
    for metric, ceiling in limits.get("max", {}).items():
        value = metrics.get(metric)
        if value is None or value > ceiling:
            failures.append(f"{metric} = {_fmt(value)} is above its ceiling {ceiling}")
    return failures


def compare(report: Report, old_path: Path) -> str:
    """Per-metric differences against an earlier report.json, and the items that went right -> wrong."""
    old = json.loads(Path(old_path).read_text(encoding="utf-8"))
    lines = [f"{'metric':<26}{'old':>10}{'new':>10}{'change':>10}"]
    for metric, new in report.metrics.items():
        before = old.get("metrics", {}).get(metric)
        change = "" if new is None or before is None else f"{new - before:+.3f}"
        lines.append(f"{metric:<26}{_fmt(before):>10}{_fmt(new):>10}{change:>10}")
    old_items = {r["id"]: r for r in old.get("items", [])}
    worse = [r for r in report.items if r["id"] in old_items and item_score(old_items[r["id"]]) >= 0.5 > item_score(r)]
    lines.append(f"\n{len(worse)} item(s) went from right to wrong:")
    lines += [f"  {r['id']} ({r['type']}): {r['question']}" for r in worse]
    return "\n".join(lines)


def summary_json(report: Report) -> dict[str, Any]:
    return {"set": report.set_name, "metrics": report.metrics, "by_type": report.by_type}
