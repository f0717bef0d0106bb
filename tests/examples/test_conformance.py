"""Docs example (docs/how-to/conformance.md): your own client through the conformance state machine (Hypothesis)."""

from hypothesis import settings

from broker_mocks.conformance.run import run_machine
from broker_mocks.conformance.streamster import ReferenceAdapter, StreamsterMachine


class MyAdapter(ReferenceAdapter):  # your bot's client behind the machine's calls; here the reference one
    pass


def test_my_client_conforms(streamster_server):
    run_machine(
        StreamsterMachine,
        streamster_server,
        lambda url: MyAdapter(url + "/service.wsdl"),
        settings=settings(max_examples=3, stateful_step_count=6, deadline=None),
    )
