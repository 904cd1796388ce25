"""The benchmark harness' arithmetic: ratios, and medians over repeated rounds."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from harness import Report, measure  # noqa: E402


def test_one_round_keeps_the_measured_row(capsys):
    report = Report(threads=2, peak=100.0, has_torch=True)
    report.add("matmul", "(2x2)", 2e9, 0.5, t_numpy=1.0, t_torch=0.25)
    report.finish()
    (row,) = report.rows
    assert row["vs_numpy"] == pytest.approx(2.0) and row["vs_torch"] == pytest.approx(0.5)
    assert row["gflops"] == pytest.approx(4.0) and row["pct_peak"] == pytest.approx(4.0)
    assert "medians" not in capsys.readouterr().out


def test_rounds_report_median_times_and_median_ratios():
    report = Report(threads=2, peak=None, has_torch=False)
    # Three rounds of one case; the middle round ran on a busy machine (everything 3x slower).
    for t_dc, t_np in ((1.0, 2.0), (3.0, 6.0), (1.2, 1.2)):
        report.add("op", "s", None, t_dc, t_numpy=t_np)
    report.add("other", "s", None, 1.0, t_numpy=1.0)
    report.finish()
    rows = {r["op"]: r for r in report.rows}
    assert len(report.rows) == 2
    assert rows["op"]["deepcore_ms"] == pytest.approx(1200.0)
    assert rows["op"]["numpy_ms"] == pytest.approx(2000.0)
    assert rows["op"]["vs_numpy"] == pytest.approx(2.0)  # ratios 2, 2, 1 -> median 2
    assert rows["op"]["rounds"] == 3 and rows["other"]["rounds"] == 1


def test_measure_returns_a_median_of_positive_times():
    calls = []
    t = measure(lambda: calls.append(1), min_time=0.0, warmup=1, settle=0.0)
    assert t >= 0 and len(calls) >= 6


def test_markdown_table_names_the_machine_and_every_row():
    report = Report(threads=2, peak=None, has_torch=False)
    report.add("matmul", "(2x2)@(2x2)", 16.0, 1e-3, t_numpy=2e-3)
    meta = {"cpu": "Some CPU", "threads": 2, "capability": "avx2", "gemm_kernel": "avx2 6x16", "numpy": "2.0",
            "torch": None, "rounds": 1}
    md = report.markdown(meta).splitlines()
    assert md[0].startswith("CPU: Some CPU, 2 threads") and "torch not installed" in md[0]
    assert md[-1] == "| matmul | (2x2)@(2x2) | 1.000 | 2.000 | 2.00 | - | - | 0.0 |"
