"""`make test-wheel`: build the sdist and the wheel, install the wheel in a fresh virtual environment
outside the checkout, and run the smoke suite (this folder's test_wheel.py) there, from another folder.

    python tests/smoke/run.py [--python python3.12] [--keep]

The wheel is built from the sdist (as `python -m build` does), so a file the sdist leaves out is
missing from the wheel too, and the smoke suite sees it. Exit status: the smoke suite's.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def run(*command: str | Path, cwd: Path | None = None) -> None:
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run([str(c) for c in command], cwd=cwd, check=True)


def main() -> int:
    """Build, install, run; the smoke suite's exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter of the fresh environment")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="broker-mocks-wheel-"))
    try:
        dist = work / "dist"
        run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
        (wheel,) = dist.glob("*.whl")
        (sdist,) = dist.glob("*.tar.gz")
        print(f"built {sdist.name} and {wheel.name}", flush=True)
        env = work / "venv"
        run(args.python, "-m", "venv", env)
        python = env / "bin" / "python"
        run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        # The wheel, pytest and mypy only (a user's own type checker: the smoke suite type-checks a project
        # against the installed py.typed packages); the conformance extra is left out, so its
        # missing-extra message is seen.
        run(python, "-m", "pip", "install", "--quiet", wheel, "pytest>=8,<10", "mypy>=2.4,<3")
        suite = work / "suite"
        suite.mkdir()
        for name in ("test_wheel.py", "user_project.py"):
            shutil.copy(HERE / name, suite / name)
        (suite / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
        completed = subprocess.run([str(python), "-m", "pytest", "-v", "-rA", str(suite)], cwd=work)
        return completed.returncode
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
