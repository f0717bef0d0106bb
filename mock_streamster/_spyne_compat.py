"""Make spyne 2.14.0 import on Python 3.12 and 3.13 (the one place that knows about it).

spyne bundles an old `six` whose meta-path importer has only `find_module`, which Python 3.12
no longer calls; `spyne.util.six.moves` then fails to import. We load that bundled module first
and give its importer the `find_spec` API (what six 1.16 itself added). On 3.13 spyne's `cgi`
import is served by the `legacy-cgi` distribution, a dependency for that version.

On 3.11 and 3.12 the standard library's `cgi` warns that it is deprecated (DeprecationWarning) when
first imported, and spyne imports it: a user's `pytest -W error` would fail at the plugin's import.
We import it first, with that one warning silenced for that one import (not a global filter).
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

_SIX = "spyne.util.six"


def install() -> None:
    """Patch spyne's bundled six and import `cgi` quietly before spyne itself is imported; idempotent."""
    if "cgi" not in sys.modules:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)
            import cgi  # noqa: F401  (spyne's import of it then finds it loaded: no warning)
    module = sys.modules.get(_SIX)
    if module is None:
        spyne_spec = importlib.util.find_spec("spyne")  # locates the package without running it
        if spyne_spec is None or not spyne_spec.submodule_search_locations:
            raise ImportError("spyne is not installed")
        path = f"{spyne_spec.submodule_search_locations[0]}/util/six.py"
        spec = importlib.util.spec_from_file_location(_SIX, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load spyne's bundled six from {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[_SIX] = module
        spec.loader.exec_module(module)
    _add_find_spec(module)


def _add_find_spec(six: ModuleType) -> None:
    importer = six._SixMetaPathImporter  # type: ignore[attr-defined]
    if hasattr(importer, "find_spec"):
        return

    def find_spec(self: Any, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in self.known_modules:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    importer.find_spec = find_spec
    importer.create_module = lambda self, spec: self.load_module(spec.name)
    importer.exec_module = lambda self, module: None


install()
