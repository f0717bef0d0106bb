"""The benchmarks keep running (at a tiny scale): they print figures and no request fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module", ["bench.throughput", "bench.memory", "bench.persist", "bench.replay", "bench.soak"])
def test_benchmark_runs_and_prints_figures(module: str) -> None:
    env = {**os.environ, "BENCH_SCALE": "0.0001" if module == "bench.soak" else "0.01"}
    done = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()  # logging writes to stderr
    if module == "bench.throughput":
        figures = [line for line in lines if "req/s" in line]
        assert len(figures) == 10 and all(line.endswith("errors 0") for line in figures), lines
    elif module == "bench.soak":
        rounds = [line for line in lines if " round " in line]
        assert len(rounds) == 20 and all("errors 0  RSS" in line for line in rounds), lines
    elif module == "bench.persist":
        rounds = [line for line in lines if " round " in line]  # in memory and --state in turn, 3 rounds, twice
        assert len(rounds) == 12 and all(line.endswith("errors 0") for line in rounds), lines
        assert [", in memory," in line for line in rounds] == [True, False, False, True, True, False] * 2, lines
        assert sum("(median of 3 rounds)" in line for line in lines) == 4, lines
        ratios = [line for line in lines if "--state / in memory:" in line]
        assert len(ratios) == 2 and all(line.endswith("errors 0") for line in ratios), lines
        assert sum(line.startswith(("advance 60 s ", "advance 60 s + commit")) for line in lines) == 2, lines
    elif module == "bench.replay":
        figures = [line for line in lines if "req/s" in line and "threads" in line]
        assert len(figures) == 4 and all(line.endswith("errors 0") for line in figures), lines
        assert any(line.startswith("in-process route / static stub:") for line in lines), lines
    else:
        assert sum("price history after" in line for line in lines) == 2, lines  # days 0 and 1
        assert sum("RSS after each" in line for line in lines) == 2, lines


def test_peer_benchmark_runs_at_a_tiny_scale_and_writes_its_ratio_table(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    env = {**os.environ, "BENCH_SCALE": "0.001", "BENCH_RESULTS": str(results)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.peers"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(results.read_text())
    apis = ("Streamster GetQuote", "InstaForex balance")
    for api in apis:
        ours = data["measured"][f"{api} / broker-mocks"]
        assert ours["cold_start_s"] > 0 and ours["clients_8"]["errors"] == 0 and ours["rss_mib"] > 0, ours
    peers = ("bare spyne", "bare Flask", "WireMock 3", "pytest-httpserver", "responses")
    assert len(data["ratios"]) == 8
    for key, ratio in data["ratios"].items():
        assert key.split(" / ")[1] in peers
        # A peer that is not installed is reported as missing; one that ran has its ratios.
        assert "missing" in ratio or (ratio["req_per_s_8"] > 0 and ratio["cold_start"] > 0), (key, ratio)
    measured = [m for k, m in data["measured"].items() if "missing" not in m]
    assert all(m["clients_1"]["errors"] == 0 and m["clients_8"]["errors"] == 0 for m in measured), measured
    lines = done.stderr.splitlines()  # logging writes to stderr
    assert any(line.startswith("Ratios broker-mocks / peer") for line in lines), lines
    assert sum(line.startswith(apis) for line in lines) == 10 + 8, lines  # figures of 10 targets, 8 ratio rows


def test_plugin_benchmark_runs_and_prints_figures() -> None:
    env = {**os.environ, "BENCH_SCALE": "0.01"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.plugin"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert sum("reset per test" in line for line in lines) == 2, lines
    assert sum("static responses stub" in line for line in lines) == 4, lines
