"""A bot project with its own `client.py`, `conformance.py` and `bench.py` runs every fixture, the
in-process routes, the markers and the conformance helper: no installed import name clashes with
its modules (issue 17, item 1).

It runs in a child interpreter from a folder outside the checkout, with no PYTHONPATH: what it
imports of broker-mocks comes from the installed package (here the editable install, which maps
only the package names), never from the checkout's own `client/` or `conformance/` folders. The
wheel's smoke suite (tests/smoke/) runs the same project against the built wheel.

The project's annotated tests type-check with `mypy --strict` against the packages as the wheel lays
them out (issue 17, item 7), and mypy reports the type errors of their misspelt copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from docgen import layout

from .smoke import user_project

ROOT = Path(__file__).resolve().parents[1]
# The wheel's top-level packages besides broker_mocks (whose mapped folders docgen.layout links).
PACKAGES = ("mock_common", "mock_streamster", "mock_instaforex")


def _run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args], cwd=project, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_a_project_with_its_own_client_conformance_and_bench_modules_uses_every_fixture_under_w_error(
    tmp_path: Path,
) -> None:
    project = user_project.write(tmp_path / "bot", conformance=True)
    assert ROOT not in project.parents
    out = _run_pytest(project, "-W", "error")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "14 passed in" in out.stdout, out.stdout  # the project's 7 and 6 typed tests, the conformance helper's


def test_the_checkout_folders_are_not_importable_from_a_user_project(tmp_path: Path) -> None:
    code = (
        "import importlib.util, sys;"
        "print([n for n in ('client', 'conformance', 'bench', 'tests', 'examples') if importlib.util.find_spec(n)])"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _installed_layout(site: Path) -> Path:
    """The packages as the wheel installs them, as links into the checkout: mypy reads them from a
    search path as installed packages (py.typed; their own modules' errors not its user's), which it
    cannot do through the editable install's import hook."""
    layout.build(site)
    for name in PACKAGES:
        (site / name).symlink_to(ROOT / name, target_is_directory=True)
    return site


def test_a_projects_annotated_tests_type_check_strictly_and_its_type_errors_are_reported(tmp_path: Path) -> None:
    project = user_project.write(tmp_path / "bot")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "MYPY"))}
    env["PYTHONPATH"] = str(_installed_layout(tmp_path / "site"))  # mypy's stand-in for site-packages
    typed = user_project.type_check(project, "test_typed.py", env=env)
    assert typed.returncode == 0, typed.stdout + typed.stderr
    typos = user_project.type_check(project, "typo_check.py", env=env)
    assert typos.returncode == 1, typos.stdout + typos.stderr
    assert user_project.reported(typos) == list(user_project.TYPOS), typos.stdout
