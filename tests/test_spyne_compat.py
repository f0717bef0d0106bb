"""spyne 2.14.0 imports on this interpreter through the compatibility module."""

from __future__ import annotations

import subprocess
import sys


def test_spyne_imports_in_a_fresh_interpreter_through_the_shim() -> None:
    code = (
        "import mock_streamster.soap, spyne, sys;"
        "from spyne.util.six.moves.collections_abc import MutableSet;"
        "from spyne.server.wsgi import WsgiApplication;"
        "print(spyne.__version__, sys.version_info[:2])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("2.14.0")


def test_shim_is_idempotent_and_gives_six_the_find_spec_api() -> None:
    from mock_streamster import _spyne_compat

    _spyne_compat.install()
    _spyne_compat.install()
    six = sys.modules["spyne.util.six"]
    assert hasattr(six._SixMetaPathImporter, "find_spec")
    import importlib

    assert importlib.import_module("spyne.util.six.moves.urllib.parse").quote("a b") == "a%20b"


def test_cgi_is_importable_for_spyne_on_every_supported_version() -> None:
    import cgi  # noqa: F401  (stdlib before 3.13, legacy-cgi from 3.13)
