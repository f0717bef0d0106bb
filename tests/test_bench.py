"""The benchmarks keep running (at a tiny scale): they print figures and no request fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module", ["bench.throughput", "bench.memory", "bench.persist", "bench.replay"])
def test_benchmark_runs_and_prints_figures(module: str) -> None:
    env = {**os.environ, "BENCH_SCALE": "0.01"}
    done = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()  # logging writes to stderr
    if module == "bench.throughput":
        figures = [line for line in lines if "req/s" in line]
        assert len(figures) == 10 and all(line.endswith("errors 0") for line in figures), lines
    elif module == "bench.persist":
        assert sum("a commit (incremental)" in line for line in lines) == 3, lines
        figures = [line for line in lines if "req/s" in line]
        assert len(figures) == 2 and all(line.endswith("errors 0") for line in figures), lines
    elif module == "bench.replay":
        figures = [line for line in lines if "req/s" in line and "threads" in line]
        assert len(figures) == 4 and all(line.endswith("errors 0") for line in figures), lines
        assert any(line.startswith("in-process route / static stub:") for line in lines), lines
    else:
        assert sum("price history after" in line for line in lines) == 2, lines  # days 0 and 1
        assert sum("RSS after each" in line for line in lines) == 2, lines


def test_plugin_benchmark_runs_and_prints_figures() -> None:
    env = {**os.environ, "BENCH_SCALE": "0.01"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.plugin"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert sum("reset per test" in line for line in lines) == 2, lines
    assert sum("static responses stub" in line for line in lines) == 4, lines
