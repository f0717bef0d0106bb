"""The benchmarks keep running (at a tiny scale): they print figures and no request fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


LOADGENS = [
    pytest.param("wrk", marks=pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")),
    "python",
]


@pytest.mark.parametrize("loadgen", LOADGENS)
def test_throughput_benchmark_prints_ten_figures_and_which_load_generator_ran(loadgen: str) -> None:
    env = {**os.environ, "BENCH_SCALE": "0.01", "BENCH_LOADGEN": loadgen}
    done = subprocess.run(
        [sys.executable, "-m", "bench.throughput"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()  # logging writes to stderr
    assert lines[0].startswith(f"load generator: {'wrk' if loadgen == 'wrk' else 'Python'}"), lines[0]
    figures = [line for line in lines if "req/s" in line]
    assert len(figures) == 10 and all(line.endswith("errors 0") for line in figures), lines


def test_wrk_sends_the_request_it_is_given() -> None:
    from bench._common import request, wrk_script

    script = wrk_script(request("POST", "/endpoint", 'a "quoted" body é\n'.encode(), {"SOAPAction": '"GetQuote"'}))
    assert 'wrk.method = "POST"' in script and 'wrk.path = "/endpoint"' in script
    assert 'wrk.body = "a \\034quoted\\034 body \\195\\169\\010"' in script  # Lua's decimal escapes
    assert 'wrk.headers["SOAPAction"] = "\\034GetQuote\\034"' in script and "function done(" in script


@pytest.mark.parametrize("module", ["bench.memory", "bench.persist", "bench.replay", "bench.soak", "bench.backtest"])
def test_benchmark_runs_and_prints_figures(module: str) -> None:
    env = {**os.environ, "BENCH_SCALE": "0.0001" if module == "bench.soak" else "0.01"}
    done = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()  # logging writes to stderr
    if module == "bench.soak":
        rounds = [line for line in lines if " round " in line]
        assert len(rounds) == 20 and all("errors 0  RSS" in line for line in rounds), lines
    elif module == "bench.persist":
        rounds = [line for line in lines if " round " in line]  # in memory and --state in turn, 5 rounds, twice
        assert len(rounds) == 20 and all(line.endswith("errors 0") for line in rounds), lines
        first = [True, False, False, True, True, False, False, True, True, False]  # who goes first alternates
        assert [", in memory," in line for line in rounds] == first * 2, lines
        assert sum("(median of 5 rounds)" in line for line in lines) == 4, lines
        ratios = [line for line in lines if "--state / in memory:" in line]
        assert len(ratios) == 2 and all(line.endswith("errors 0") for line in ratios), lines
        assert sum(line.startswith(("advance 60 s ", "advance 60 s + commit")) for line in lines) == 2, lines
    elif module == "bench.backtest":
        assert any(line.startswith("load ") and "one-minute bars" in line for line in lines), lines
        assert sum(line.startswith("GetBars ") and "ms on the platform" in line for line in lines) == 8, lines
        bots = [line for line in lines if line.startswith("polling bot")]
        assert len(bots) == 6 and all(line.endswith("errors 0") for line in bots), lines
        assert sum(", run " in line for line in bots) == 3 and any("best of 3 runs" in line for line in bots), lines
    elif module == "bench.replay":
        figures = [line for line in lines if "req/s" in line and "clients" in line]
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
    assert data["load_generator"].startswith("wrk" if shutil.which("wrk") else "Python"), data["load_generator"]
    assert any(line.startswith("load generator: ") for line in lines), lines
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
