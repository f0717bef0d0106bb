"""Run benchmark scripts and keep what they print for the docs: `python -m bench.record [NAME ...]`.

Each NAME (`throughput`, `memory`, `persist`, `replay`, `plugin`, `backtest`, `soak`; by default all
but `soak`) runs as `python -m bench.NAME`, and its figures (the lines it logs) are written to
`bench/figures/NAME.txt` after a header of `# key: value` lines: the command, the date, the machine,
the scale and the load average before and after, which says how busy the machine was. The
Performance page of the docs shows each file as it is (docgen/bench.py), so rerunning this on a quiet
machine replaces every figure block of the page at once. `make bench-figures` runs it
(`make bench-figures BENCH="plugin backtest"` for some). A script that fails leaves its file as it was.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("bench.record")
ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "bench" / "figures"
SCRIPTS = ("throughput", "memory", "persist", "replay", "plugin", "backtest", "soak")
DEFAULT = tuple(name for name in SCRIPTS if name != "soak")  # soak takes about half an hour
# The script run with only its own figures logged: the bench loggers' lines, and warnings from anywhere
# (the libraries' INFO lines, such as spyne's "Initializing application", are not figures; nor is waitress's
# "Task queue depth" warning, printed whenever the clients outnumber the server's threads).
RUN = """
import logging, runpy, sys
handler = logging.StreamHandler()
handler.setFormatter(logging.Formatter("%(message)s"))
handler.addFilter(lambda r: r.name.split(".")[0] == "bench" or (r.levelno >= logging.WARNING and r.name != "waitress.queue"))
logging.basicConfig(level=logging.INFO, handlers=[handler])
sys.argv = [sys.argv[1]]
runpy.run_module(sys.argv[0], run_name="__main__")
"""


def machine() -> str:
    """The machine in one line: architecture, cores, CPU model, OS release, Python."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = ", " + line.split(":", 1)[1].strip()
                break
    except OSError:  # not Linux: the architecture says enough
        pass
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{model}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def load_average() -> str:
    """The 1-minute load average, or `unknown` where the OS has none."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def header(name: str, date: str, before: str, after: str) -> list[str]:
    """The `# key: value` lines that head a figures file."""
    return [
        f"# command: python -m bench.{name}",
        f"# date: {date}",
        f"# machine: {machine()}",
        f"# scale: BENCH_SCALE={os.environ.get('BENCH_SCALE', '1')}",
        f"# load average: {before} before, {after} after",
    ]


def record(name: str, out: Path = FIGURES) -> Path:
    """Run `bench.NAME` and write its figures to `out/NAME.txt`; raise RuntimeError if the script fails."""
    if name not in SCRIPTS:
        raise ValueError(f"benchmark: {name!r} is not one of {', '.join(SCRIPTS)}")
    before = load_average()
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    done = subprocess.run(
        [sys.executable, "-c", RUN, f"bench.{name}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.{name} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    lines = [line.rstrip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]  # logging: stderr
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.txt"
    text = "\n".join([*header(name, date, before, load_average()), *lines]) + "\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a file is whole or as it was
    return path


def main(argv: list[str] | None = None) -> int:
    """Entry point: record the named benchmarks (all but soak by default)."""
    parser = argparse.ArgumentParser(prog="python -m bench.record", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(SCRIPTS)}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    unknown = [n for n in args.names if n not in SCRIPTS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(SCRIPTS)}")
    failed = 0
    for name in args.names or DEFAULT:
        log.info("bench.%s ...", name)
        try:
            log.info("written to %s", record(name).relative_to(ROOT))
        except RuntimeError as exc:
            log.error("%s", exc)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
