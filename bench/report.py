"""The benchmark's results as plain-text tables (one per corpus) and peer ratios."""

from __future__ import annotations

from typing import Any

COLUMNS = (
    ("passages", "passages", "{:.0f}"),
    ("build_s", "build s", "{:.1f}"),
    ("passages_per_s", "pass/s", "{:.1f}"),
    ("rerun_unchanged_s", "rerun s", "{:.1f}"),
    ("rerun_1pct_s", "1% s", "{:.1f}"),
    ("search_p50_ms", "search p50", "{:.1f}"),
    ("search_p95_ms", "p95", "{:.1f}"),
    ("ask_p50_ms", "ask p50", "{:.1f}"),
    ("ask_p95_ms", "p95", "{:.1f}"),
    ("embed_query_p50_ms", "q-embed p50", "{:.1f}"),
    ("vector_search_p50_ms", "vector p50", "{:.2f}"),
    ("recall_at_10", "recall@10", "{:.3f}"),
    ("bytes_per_passage", "B/passage", "{:.0f}"),
    ("build_peak_rss_mb", "build RSS MB", "{:.0f}"),
    ("loaded_peak_rss_mb", "loaded RSS MB", "{:.0f}"),
    ("load_s", "load s", "{:.2f}"),
    ("cold_start_s", "cold s", "{:.2f}"),
)


def _cell(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    return fmt.format(value) if isinstance(value, (int, float)) else "-"


def _table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    header = ["variant", *(title for _, title, _ in COLUMNS)]
    lines = [header] + [[name, *(_cell(row, key, fmt) for key, _, fmt in COLUMNS)] for name, row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))) for line in lines)


def corpus_table(name: str, result: dict[str, Any]) -> str:
    rows = [(variant + (" *" if row.get("embeddings_cached") else ""), row) for variant, row in result["variants"].items()]
    peer = result.get("peer")
    if peer and "error" not in peer:
        rows.append((f"peer:{peer['peer']}", peer))
    text = f"== {name} ==\n{_table(rows)}"
    if peer and "error" in peer:
        text += f"\npeer {peer['peer']} failed: {peer['error'].splitlines()[-1] if peer['error'] else ''}"
    for variant, ratios in result.get("peer_ratios", {}).items():
        text += f"\n  ours/{peer['peer']} {variant}: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items())
    if result.get("runs", 1) > 1:
        text += f"\n  medians of {result['runs']} runs; each run in order:"
        for label, row in rows:
            spread = (f"{k} " + ", ".join(f"{v:.1f}" for v in values) for k, values in row.get("runs", {}).items())
            text += f"\n  {label}: " + "; ".join(spread)
    return text


def render(report: dict[str, Any]) -> str:
    """All tables, with the machine's load average before and after (the numbers depend on it)."""
    start, end = report.get("load_average_start"), report.get("load_average_end")
    parts = [f"machine: {report['machine'].get('cpus')} CPUs, {report['machine'].get('platform')}; "
             f"load average (1, 5, 15 min) at start {_load(start)}, at end {_load(end)}"]
    parts += [corpus_table(name, result) for name, result in report["corpora"].items()]
    if any(row.get("embeddings_cached") for result in report["corpora"].values() for row in result["variants"].values()):
        parts.append("* embeddings copied from the same backend's fresh build (--reuse-embeddings): build s excludes embedding")
    return "\n\n".join(parts)


def _load(values: Any) -> str:
    return "-" if not values else "/".join(f"{v:.2f}" for v in values)
