"""An emulator of the Streamster SOAP API (Marketiva, Agea) over a simulated trading platform."""

from .errors import ScenarioError, StreamsterError
from .platform import Platform
from .scenario import Scenario, load_scenario
from .server import StreamsterMock

__all__ = ["Platform", "Scenario", "ScenarioError", "StreamsterError", "StreamsterMock", "load_scenario"]
