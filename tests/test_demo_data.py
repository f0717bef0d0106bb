"""The InstaForex demo accounts exist once: the packaged `mock_instaforex/data/demo.yaml` (the
built-in `demo`), which the emulator loads by default (no second copy under fixtures/ to drift from it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mock_instaforex.server import demo_path

ROOT = Path(__file__).resolve().parents[1]


def test_the_packaged_demo_accounts_are_the_only_copy_in_the_repository() -> None:
    packaged = ROOT / "mock_instaforex" / "data" / "demo.yaml"
    assert demo_path().resolve() == packaged.resolve()
    content = packaged.read_bytes()
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    copies = [
        name for name in tracked
        if name and (ROOT / name).is_file() and (ROOT / name).stat().st_size == len(content)
        and (ROOT / name).read_bytes() == content
    ]  # fmt: skip
    assert copies == ["mock_instaforex/data/demo.yaml"], f"the demo accounts are in {copies}"
    assert not (ROOT / "fixtures" / "instaforex" / "demo.yaml").exists()
