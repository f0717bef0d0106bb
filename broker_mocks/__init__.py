"""broker-mocks: emulators of the Streamster SOAP API and the InstaForex Client Cabinet API.

Installed import names: `broker_mocks` (this package, with `broker_mocks.client`, the reference
client, and `broker_mocks.conformance`, the state machines), `mock_streamster`, `mock_instaforex`
and `mock_common`. None is a generic word a bot project would also use for its own modules.
"""

__version__ = "0.2.0"
