"""Medians of repeated benchmark runs (``python -m bench --runs N``): one row per variant whose numbers
are the medians of its runs, with every run's value of the headline columns kept beside them."""

from __future__ import annotations

import statistics
from typing import Any, Callable

# The columns whose every run is kept (``runs``) and printed under the tables.
SPREAD_KEYS = ("build_s", "rerun_unchanged_s", "rerun_1pct_s", "search_p50_ms", "ask_p50_ms", "build_peak_rss_mb")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The first row with each number that every run has replaced by the runs' median, and ``runs``
    holding each run's value of ``SPREAD_KEYS`` in run order."""
    merged = dict(rows[0])
    for key, value in rows[0].items():
        values = [row.get(key) for row in rows]
        if _number(value) and all(_number(v) for v in values):
            merged[key] = statistics.median(values)
    merged["runs"] = {key: [row[key] for row in rows] for key in SPREAD_KEYS
                      if all(_number(row.get(key)) for row in rows)}
    return merged


def median_result(results: list[dict[str, Any]], ratios: Callable[[dict, dict], dict]) -> dict[str, Any]:
    """One corpus's result from several runs of it: median rows per variant (and for the peer when
    no run of it failed), the peer ratios recomputed from the medians by ``ratios``."""
    merged = dict(results[0])
    merged["variants"] = {name: median_row([r["variants"][name] for r in results]) for name in results[0]["variants"]}
    merged["runs"] = len(results)
    peers = [r.get("peer") for r in results]
    if peers[0] is not None:
        failed = [p for p in peers if "error" in p]
        merged["peer"] = failed[0] if failed else median_row(peers)
        if not failed:
            merged["peer_ratios"] = ratios(merged["variants"], merged["peer"])
        else:
            merged.pop("peer_ratios", None)
    return merged
