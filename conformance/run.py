"""Run a conformance state machine against your own client, from a test, with the plugin's fixtures.

    from broker_mocks.conformance.run import run_machine
    from broker_mocks.conformance.streamster import StreamsterMachine

    def test_my_bot_conforms(streamster_server):
        run_machine(StreamsterMachine, streamster_server, lambda url: MyAdapter(url + "/service.wsdl"))

`target` is an emulator handle (anything with `.url`, such as the `streamster_server` or
`instaforex_server` fixture) or a base URL; `make_adapter(base_url)` builds your adapter (the
machine's reference adapter when None). The machine resets the emulator through its control
plane and loads its own scenario or accounts; the plugin's per-test reset puts the defaults back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import settings as Settings  # noqa: N812
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test


def run_machine(
    machine: type[RuleBasedStateMachine],
    target: Any,
    make_adapter: Callable[[str], Any] | None = None,
    settings: Settings | None = None,
) -> None:
    """Drive `machine` against the emulator at `target`; a failure raises with the shortest program
    of steps that reproduces it. `settings` default to the loaded Hypothesis profile."""
    url = target if isinstance(target, str) else getattr(target, "url", None)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"target must be an emulator handle with .url or an http(s) URL, not {target!r}")
    attributes: dict[str, Any] = {"base_url": url}
    if make_adapter is not None:
        attributes["make_adapter"] = lambda self: make_adapter(self.base_url)
    bound = type(f"{machine.__name__}At", (machine,), attributes)
    run_state_machine_as_test(bound, settings=settings)
