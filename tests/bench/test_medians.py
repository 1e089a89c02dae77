"""Medians of repeated benchmark runs: numbers are the runs' medians, every run's headline value is kept."""

from bench.medians import median_result, median_row
from bench.run import peer_ratios


def row(build: float, search: float, **extra) -> dict:
    return {"backend": "onnx-int8", "build_s": build, "search_p50_ms": search, "passages": 10, **extra}


def test_a_median_row_takes_the_middle_run_of_each_number_and_keeps_every_run():
    merged = median_row([row(120.0, 5.0), row(100.0, 9.0), row(110.0, 4.0)])
    assert merged["build_s"] == 110.0 and merged["search_p50_ms"] == 5.0 and merged["passages"] == 10
    assert merged["backend"] == "onnx-int8"
    assert merged["runs"]["build_s"] == [120.0, 100.0, 110.0] and merged["runs"]["search_p50_ms"] == [5.0, 9.0, 4.0]


def test_a_number_missing_from_one_run_is_left_as_the_first_run_has_it():
    merged = median_row([row(1.0, 2.0, ask_p50_ms=80.0), row(3.0, 4.0, ask_p50_ms=None)])
    assert merged["ask_p50_ms"] == 80.0 and "ask_p50_ms" not in merged["runs"]
    assert merged["build_s"] == 2.0


def test_peer_ratios_come_from_the_medians_and_a_failed_peer_run_is_reported_not_averaged():
    peer = {"peer": "txtai", "build_s": 200.0, "search_p50_ms": 10.0}
    runs = [{"variants": {"onnx-int8/flat": row(b, 5.0)}, "peer": {**peer, "build_s": p}}
            for b, p in ((90, 180), (100, 200), (140, 300))]
    merged = median_result(runs, peer_ratios)
    assert merged["runs"] == 3 and merged["peer"]["build_s"] == 200.0
    assert merged["peer_ratios"]["onnx-int8/flat"]["build_s"] == 0.5
    runs[1]["peer"] = {"peer": "txtai", "error": "pip failed"}
    merged = median_result(runs, peer_ratios)
    assert merged["peer"]["error"] == "pip failed" and "peer_ratios" not in merged
